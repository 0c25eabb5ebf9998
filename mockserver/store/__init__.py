"""The mock's state and its rules."""

from .chats import ChatSummary
from .memory import Store
from .records import ChatRecord, E2eeKey, MessageRecord, Participant, RuleViolation

__all__ = ["ChatRecord", "ChatSummary", "E2eeKey", "MessageRecord", "Participant", "RuleViolation", "Store"]
