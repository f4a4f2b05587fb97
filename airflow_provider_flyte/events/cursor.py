"""How far an event feed got: stored between triggerer runs so no execution is missed or repeated.

FlyteAdmin can list executions by the time of their last phase change (``execution_updated_at``),
but that time comes from the event Flyte's propeller sent, and events can reach FlyteAdmin late (a
retried event after an outage). So the feed lists from ``after - lookback`` on every poll, and the
cursor remembers, by name, what it emitted within that window; a name is forgotten once the
watermark has moved ``lookback`` past it, when no listing can return it again.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

VERSION = 1


def _parse(value: Any, what: str) -> datetime.datetime:
    if not isinstance(value, str):
        raise ValueError(f"event cursor: {what} must be an ISO-8601 string, got {value!r}")
    parsed = datetime.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"event cursor: {what} must carry a time zone, got {value!r}")
    return parsed


@dataclass(frozen=True)
class Cursor:
    """``after``: the newest phase-change time examined. ``emitted``: name -> phase-change time of
    each execution emitted that a listing from ``after - lookback`` can still return."""

    after: datetime.datetime
    emitted: Mapping[str, datetime.datetime] = field(default_factory=dict)

    @classmethod
    def starting(cls, at: datetime.datetime) -> Cursor:
        return cls(at.astimezone(datetime.timezone.utc))

    def list_from(self, lookback: datetime.timedelta) -> datetime.datetime:
        return self.after - lookback

    def has_emitted(self, name: str) -> bool:
        return name in self.emitted

    def examined(self, updated: datetime.datetime, lookback: datetime.timedelta, emitted: str = "") -> Cursor:
        """The cursor after looking at one execution (and emitting it, if ``emitted`` names it)."""
        after = max(self.after, updated)
        horizon = after - lookback
        names = {name: at for name, at in self.emitted.items() if at >= horizon}
        if emitted:
            names[emitted] = updated
        return Cursor(after, names)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": VERSION,
            "after": self.after.isoformat(),
            "emitted": {name: at.isoformat() for name, at in sorted(self.emitted.items())},
        }

    @classmethod
    def from_json(cls, data: Any) -> Cursor:
        """A stored cursor; anything else is refused rather than guessed (a wrong cursor repeats or
        skips executions)."""
        if not isinstance(data, Mapping) or data.get("version") != VERSION:
            raise ValueError(f"event cursor: expected a mapping with version {VERSION}, got {data!r}")
        emitted = data.get("emitted", {})
        if not isinstance(emitted, Mapping):
            raise ValueError(f"event cursor: 'emitted' must be a mapping of names to times, got {emitted!r}")
        return cls(
            _parse(data.get("after"), "'after'"),
            {str(name): _parse(at, f"the time of {name!r}") for name, at in emitted.items()},
        )
