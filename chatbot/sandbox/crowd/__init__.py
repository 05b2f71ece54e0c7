"""A seeded crowd of simulated participants that answers, argues, spams and opts out."""

from chatbot.sandbox.crowd.driver import CrowdDriver
from chatbot.sandbox.crowd.hostile import HOSTILE_PAYLOADS
from chatbot.sandbox.crowd.model import (
    OPT_OUTS,
    POST_KINDS,
    ChatSchedule,
    CrowdAction,
    CrowdConfig,
    CrowdPlan,
    Participant,
    ScheduledQuestion,
)
from chatbot.sandbox.crowd.plan import plan_crowd
from chatbot.sandbox.crowd.truth import GroundTruth, load_truth

__all__ = [
    "HOSTILE_PAYLOADS",
    "OPT_OUTS",
    "POST_KINDS",
    "ChatSchedule",
    "CrowdAction",
    "CrowdConfig",
    "CrowdDriver",
    "CrowdPlan",
    "GroundTruth",
    "Participant",
    "ScheduledQuestion",
    "load_truth",
    "plan_crowd",
]
