"""Where the real recorded API payloads live: ``tests/fixtures/real`` (see its SOURCES.md)."""

from pathlib import Path

REAL_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "real"
