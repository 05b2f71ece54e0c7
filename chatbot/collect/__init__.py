"""Collection: hashtag posts and question threads from each network into the post table."""

from chatbot.collect.collector import Collector, collect_once
from chatbot.collect.pacing import Pacer
from chatbot.collect.report import CollectReport, NetworkReport

__all__ = ["CollectReport", "Collector", "NetworkReport", "Pacer", "collect_once"]
