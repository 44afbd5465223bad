"""When an assignment is due, and what lateness costs: ``due:`` and ``late:`` in
``assignment.yml``, read and checked here, and the penalty of one submission.

    due: 2026-10-09T23:59:00-07:00      # ISO 8601 with an offset (or Z), or
    due: 2026-10-09 23:59 America/Los_Angeles   # a date and time, then a zone's name
    late:
      grace: 15m          # late by at most this: no penalty (default 0)
      penalty: 0.1        # the fraction of the score lost per day (or hour) started
      per: day            # day or hour (default day)
      cap: 0.5            # never more than this fraction lost (default 1)
      zero_after: 7d      # later than this after the due date: the score is 0

A submission's lateness is counted from its due date (the assignment's, or its extension's);
late by at most ``grace``, it loses nothing; otherwise it loses ``penalty`` of its score for
each day (or hour) started, at most ``cap`` of it, and all of it once later than
``zero_after``. The penalty is a fraction of the points earned, so a total never falls below
zero and an empty submission loses nothing.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UNITS = {"s": 1, "sec": 1, "second": 1, "seconds": 1, "m": 60, "min": 60, "minute": 60,
         "minutes": 60, "h": 3600, "hour": 3600, "hours": 3600, "d": 86400, "day": 86400,
         "days": 86400, "w": 604800, "week": 604800, "weeks": 604800}
_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*", re.IGNORECASE)
PER = {"day": 86400, "hour": 3600}
LATE_KEYS = ("grace", "penalty", "per", "cap", "zero_after")


class DeadlineError(ValueError):
    """A due date, a duration or a late policy that cannot be read; the message says why and
    shows a form that is read."""


@dataclass(frozen=True)
class LatePolicy:
    grace: float = 0.0  # seconds
    penalty: float = 0.0  # fraction of the score per unit started
    per: str = "day"
    cap: float = 1.0
    zero_after: float | None = None  # seconds after the due date

    def describe(self) -> str:
        """The policy in a sentence, as the feedback and the README state it."""
        parts = []
        if self.penalty:
            parts.append(f"{_percent(self.penalty)} of the score per {self.per} (or part of "
                         f"one) late" + (f", at most {_percent(self.cap)}"
                                         if self.cap < 1 else ""))
        if self.grace:
            parts.append(f"no penalty within {duration_text(self.grace)} of the due date")
        if self.zero_after is not None:
            parts.append(f"no credit later than {duration_text(self.zero_after)} after it")
        return "; ".join(parts) or "late work loses nothing"

    def fraction(self, late_seconds: float) -> float:
        """The fraction of the score lost when ``late_seconds`` after the due date."""
        if late_seconds <= self.grace:
            return 0.0
        if self.zero_after is not None and late_seconds > self.zero_after:
            return 1.0
        units = math.ceil(late_seconds / PER[self.per])
        return min(self.cap, self.penalty * units)


def parse_due(value, where: str) -> datetime:
    """``value`` (YAML's datetime, or text) as an aware datetime; ``where`` names it."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise DeadlineError(f"{where}: {value.isoformat(' ')} has no zone: add one, e.g. "
                                f"{value.isoformat()}-07:00, or a zone's name")
        return value
    if not isinstance(value, str) or not value.strip():
        raise DeadlineError(f"{where}: expected a date and time with a zone, e.g. "
                            f"2026-10-09T23:59:00-07:00, got {value!r}")
    text = value.strip()
    zone = None
    head, _, tail = text.rpartition(" ")
    if head and "/" in tail or tail in ("UTC", "GMT"):
        try:
            zone = ZoneInfo(tail)
        except (ZoneInfoNotFoundError, ValueError):
            raise DeadlineError(f"{where}: unknown zone {tail!r} (a name such as "
                                f"America/Los_Angeles or Europe/Berlin)") from None
        text = head.strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise DeadlineError(f"{where}: {value!r} is not an ISO 8601 date and time, e.g. "
                            f"2026-10-09T23:59:00-07:00") from None
    if zone is not None:
        if moment.tzinfo is not None:
            raise DeadlineError(f"{where}: {value!r} gives both an offset and a zone's name")
        return moment.replace(tzinfo=zone)
    if moment.tzinfo is None:
        raise DeadlineError(f"{where}: {value!r} has no zone: add an offset "
                            f"({text}-07:00, {text}Z) or a zone's name ({text} Europe/Berlin)")
    return moment


def parse_duration(value, where: str) -> float:
    """``15m``, ``2h``, ``1d 12h``, ``36 hours`` or 0, in seconds."""
    if value == 0 and not isinstance(value, bool):
        return 0.0
    if not isinstance(value, str):
        raise DeadlineError(f"{where}: expected a duration such as 15m, 2h, 3d or '1d 12h', "
                            f"got {value!r}")
    position, seconds = 0, 0.0
    while position < len(value):
        found = _DURATION.match(value, position)
        if not found or found.group(2).lower() not in UNITS:
            raise DeadlineError(f"{where}: {value!r} is not a duration such as 15m, 2h, 3d or "
                                f"'1d 12h'")
        seconds += float(found.group(1)) * UNITS[found.group(2).lower()]
        position = found.end()
    if position == 0:
        raise DeadlineError(f"{where}: empty duration")
    return seconds


def parse_late(value, where: str) -> LatePolicy:
    if not isinstance(value, dict):
        raise DeadlineError(f"{where}: late must be a mapping, e.g. {{penalty: 0.1, per: day}}")
    for key in value:
        if key not in LATE_KEYS:
            raise DeadlineError(f"{where}: unknown key 'late.{key}' (known: "
                                f"{', '.join(LATE_KEYS)})")
    fields = {}
    for key in ("penalty", "cap"):
        if key in value:
            number = value[key]
            if isinstance(number, bool) or not isinstance(number, (int, float)) \
                    or not 0 <= number <= 1:
                raise DeadlineError(f"{where}: late.{key} must be a fraction from 0 to 1 "
                                    f"(0.1 is 10%), got {number!r}")
            fields[key] = float(number)
    if "per" in value:
        if value["per"] not in PER:
            raise DeadlineError(f"{where}: late.per must be day or hour, got {value['per']!r}")
        fields["per"] = value["per"]
    for key in ("grace", "zero_after"):
        if key in value:
            fields[key] = parse_duration(value[key], f"{where}: late.{key}")
    policy = LatePolicy(**fields)
    if policy.zero_after is not None and policy.zero_after < policy.grace:
        raise DeadlineError(f"{where}: late.zero_after ({duration_text(policy.zero_after)}) "
                            f"is shorter than late.grace ({duration_text(policy.grace)})")
    return policy


def duration_text(seconds: float) -> str:
    """``1 d 2 h 5 min`` (whole minutes; seconds only below a minute)."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = int(seconds // 60)
    days, rest = divmod(minutes, 1440)
    hours, minutes = divmod(rest, 60)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "",
             f"{minutes} min" if minutes else ""]
    return " ".join(p for p in parts if p)


def moment_text(moment: datetime) -> str:
    """``2026-10-09 23:59 -07:00``: to the minute, with its offset."""
    offset = moment.strftime("%z")
    return f"{moment:%Y-%m-%d %H:%M} {offset[:3]}:{offset[3:]}"


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def hours(delta: timedelta | float) -> float:
    seconds = delta.total_seconds() if isinstance(delta, timedelta) else delta
    return round(seconds / 3600, 2)


def _percent(fraction: float) -> str:
    value = round(100 * fraction, 4)
    return f"{int(value) if value.is_integer() else value}%"
