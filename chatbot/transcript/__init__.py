"""Attribution and threading of a chat's posts: the pure, fast core of the transcript."""

from .attribute import attribute, build_transcript, discover_questions
from .ending import chat_end, find_wrapup
from .model import (
    METHODS,
    Attribution,
    ChatPost,
    ChatQuestion,
    Forest,
    Method,
    ModeratorAccount,
    ThreadNode,
    Transcript,
)
from .prefix import PrefixMatch, read_prefixes
from .stats import (
    ConversationShare,
    ReplyPair,
    ThreadSize,
    conversation_share,
    longest_threads,
    reply_pairs,
)
from .threads import build_forest, question_threads, subtree

__all__ = [
    "METHODS",
    "Attribution",
    "ChatPost",
    "ChatQuestion",
    "ConversationShare",
    "Forest",
    "Method",
    "ModeratorAccount",
    "PrefixMatch",
    "ReplyPair",
    "ThreadNode",
    "ThreadSize",
    "Transcript",
    "attribute",
    "build_forest",
    "build_transcript",
    "chat_end",
    "conversation_share",
    "discover_questions",
    "find_wrapup",
    "longest_threads",
    "question_threads",
    "read_prefixes",
    "reply_pairs",
    "subtree",
]
