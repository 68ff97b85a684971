"""Teachers' time zones: times are stored in UTC and shown in the teacher's zone on pages, exports and emails."""
from __future__ import annotations

from datetime import datetime, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

DEFAULT_FORMAT = "%Y-%m-%d %H:%M"


@lru_cache(maxsize=1)
def zone_names() -> tuple[str, ...]:
    """Every IANA zone name this server knows, sorted (for the settings list)."""
    return tuple(sorted(n for n in available_timezones() if "/" in n and not n.startswith(("Etc/", "SystemV/"))))


def valid_zone(name: str | None) -> str:
    """The name if it is a known IANA zone, else "" (which means UTC)."""
    name = (name or "").strip()
    if not name or len(name) > 64 or name in ("UTC", "Etc/UTC"):
        return "UTC" if name in ("UTC", "Etc/UTC") else ""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ""
    return name


def zone(name: str | None) -> tzinfo:
    """The tzinfo for a stored zone name; UTC when it is empty or unknown."""
    name = valid_zone(name)
    return ZoneInfo(name) if name and name != "UTC" else timezone.utc


def to_local(dt: datetime | str | None, zone_name: str | None) -> datetime | None:
    """A stored time (naive = UTC, as SQLite returns it; or an ISO string from JSON) in the given zone."""
    if not dt:
        return None
    if isinstance(dt, str):
        dt = datetime.fromisoformat(dt)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(zone(zone_name))


def format_local(dt: datetime | str | None, zone_name: str | None, fmt: str = DEFAULT_FORMAT, with_zone: bool = True) -> str:
    """"2026-12-01 14:05 CET": a stored time for a person in zone_name (emails call this with teacher.timezone)."""
    local = to_local(dt, zone_name)
    if local is None:
        return ""
    text = local.strftime(fmt)
    return f"{text} {zone_label(zone_name, local)}" if with_zone else text


def zone_label(zone_name: str | None, at: datetime | None = None) -> str:
    """Short zone name at a moment ("CET", "UTC"); numeric offsets ("+03") where the zone has no abbreviation."""
    at = at or datetime.now(timezone.utc).astimezone(zone(zone_name))
    return at.tzname() or "UTC"
