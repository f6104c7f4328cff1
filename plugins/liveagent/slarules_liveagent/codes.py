"""LiveAgent's one-letter codes and what they mean in slarules' vocabulary.

The letters come from LiveAgent's API v3 models (``Ticket.status``, ``Ticket.channel_type``,
``MessageGroup.type``, ``Message.type``).
"""

from __future__ import annotations

from types import MappingProxyType

__all__ = [
    "CHANNELS",
    "CONVERSATION_GROUPS",
    "INTERNAL_GROUPS",
    "MARKER_GROUPS",
    "OTHER_GROUPS",
    "OUTGOING_GROUPS",
    "PRIVATE_MESSAGES",
    "PUBLIC_MESSAGES",
    "SETTABLE_STATUSES",
    "STATUSES",
]

# Ticket.status: the 11 documented letters.
STATUSES = MappingProxyType(
    {
        "I": "new",  # init
        "N": "new",
        "T": "open",  # chatting
        "P": "open",  # calling
        "C": "open",  # open, the customer waits
        "A": "pending",  # answered, waiting on the customer
        "W": "hold",  # postponed
        "R": "solved",  # resolved
        "L": "closed",
        "X": "deleted",
        "B": "spam",
    }
)

# The letter that `set "status" "…"` writes. `hold` is not here: LiveAgent postpones a ticket
# with its own call, which needs an instant (see actions.py). Chatting and calling are states
# a conversation is in, not ones an API client can put a ticket into.
SETTABLE_STATUSES = MappingProxyType(
    {
        "new": "N",
        "open": "C",
        "pending": "A",
        "solved": "R",
        "closed": "L",
        "deleted": "X",
        "spam": "B",
    }
)

# Ticket.channel_type
CHANNELS = MappingProxyType(
    {
        "E": "email",
        "B": "contact_button",
        "M": "contact_form",
        "I": "invitation",
        "C": "call",
        "W": "call_button",
        "F": "facebook",
        "A": "facebook_message",
        "T": "twitter",
        "Q": "forum",
        "S": "suggestion",
    }
)

# MessageGroup.type, sorted by what a group means for SLA clocks.
# Conversations whose messages are replies of whoever wrote them (a contact or an agent):
# incoming email, offline form, chat, legacy offline, Facebook, Twitter, WhatsApp, instant message.
CONVERSATION_GROUPS = frozenset({"3", "5", "C", "M", "F", "W", "6", "8"})
# An email an agent sent: an agent's public reply whoever the message row names.
OUTGOING_GROUPS = frozenset({"4"})
# Internal, internal offline and collapsed internal conversations: private notes by agents.
INTERNAL_GROUPS = frozenset({"I", "U", "Z"})
# Resolve, postpone, transfer and tag markers: they record changes the ticket history already
# holds (status, department, agent, tags), so they corroborate it and produce no event.
MARKER_GROUPS = frozenset({"R", "J", "T", "G"})
# The other documented types carry no reply: calls (their own contact events, not replies),
# start info, delete and spam markers, retweets, knowledge base, forwards, splits and merges.
OTHER_GROUPS = frozenset({"P", "V", "1", "S", "X", "B", "Y", "A", "K", "O", "Q", "L", "2", "7"})

# Message.type: the rows of a group that are someone's words. The rest (headers, titles,
# quoted text, files, system lines, tags) belong to a reply and are not one.
PUBLIC_MESSAGES = frozenset({"M", "Y"})  # message, legacy message
PRIVATE_MESSAGES = frozenset({"N", "I"})  # note, internal
