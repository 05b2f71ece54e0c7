"""Counting text the ways networks do: graphemes, UTF-8 bytes and UTF-16 code units."""

from __future__ import annotations

import regex

_GRAPHEME = regex.compile(r"\X")


def grapheme_count(text: str) -> int:
    """Extended grapheme clusters: what a reader sees as one character (👨‍👩‍👧‍👦 is 1)."""
    return len(_GRAPHEME.findall(text))


def utf8_length(text: str) -> int:
    """UTF-8 bytes of ``text``; a lone surrogate counts its 3 bytes instead of failing."""
    return len(text.encode("utf-8", "surrogatepass"))


def utf16_length(text: str) -> int:
    """UTF-16 code units, JavaScript's ``string.length`` (an emoji outside the BMP is 2)."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def byte_offset(text: str, index: int) -> int:
    """UTF-8 byte offset of the character at code-point ``index``."""
    return utf8_length(text[:index])


__all__ = ["byte_offset", "grapheme_count", "utf8_length", "utf16_length"]
