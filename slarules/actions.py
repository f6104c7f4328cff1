"""What triggers ask the host, or a plugin, to do."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

__all__ = ["Action"]


class Action(BaseModel):
    """One effect that became due: ``notify``, ``urge``, ``escalate``, … or a target's ``warn``.

    ``key`` is the idempotency key ``ticket/trigger/cycle/action/occurrence``: the same history
    always gives the same keys, so a host that records the keys it has run never runs one twice,
    even after a crash, a restart or a replay of late events.
    """

    model_config = ConfigDict(frozen=True)

    name: str
    args: tuple[str | None, ...]
    ticket: str
    trigger: str
    clock: str | None
    cycle: int | None
    at: datetime
    reason: str
    key: str
