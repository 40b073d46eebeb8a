"""Times and dates: UTC ISO-8601, validated outside dates, quarters (SOP 7.2, 7.5), media positions and lengths (9.1)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

from .errors import InputError

UTC = dt.timezone.utc


def iso(moment: dt.datetime) -> str:
    """UTC ISO-8601 with offset and seconds, the one form stored for our own times."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def parse_iso(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def parse_date(text: str, what: str, *, today: dt.date | None = None) -> dt.date:
    """A calendar date given by an officer or a platform, as YYYY-MM-DD; not in the future."""
    text = (text or "").strip()
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        raise InputError(f"{what} {text!r} is not a date: give it as YYYY-MM-DD, e.g. 2026-03-14.")
    try:
        value = dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{what} {text!r} is not a real calendar date: check the day and month.") from None
    if today is not None and value > today:
        raise InputError(f"{what} {text} is in the future (today is {today}): check the date.")
    return value


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, clamped to the end of a shorter month (29 Feb + 12 → 28 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")


FIRST_YEAR, LAST_YEAR = 1970, 2999   # the years a quarter or a date given by an officer may be in


def parse_quarter(text: str) -> tuple[dt.date, dt.date]:
    """'2026Q3' → (first day, first day of the next quarter)."""
    match = re.fullmatch(r"([0-9]{4})[Qq]([1-4])", (text or "").strip())
    if not match:
        raise InputError(f"quarter {text!r} is not of the form YYYYQn (ASCII digits), e.g. 2026Q3.")
    year, q = int(match[1]), int(match[2])
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise InputError(f"quarter {text!r} is outside the years {FIRST_YEAR}–{LAST_YEAR} ohrt keeps records for: "
                         "check the year, e.g. 2026Q3.")
    start = dt.date(year, 3 * (q - 1) + 1, 1)
    return start, add_months(start, 3)


@dataclasses.dataclass(frozen=True)
class Quarter:
    """A calendar quarter in UTC: `start` is its first day, `end` the first day of the next."""

    name: str
    start: dt.date
    end: dt.date

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    @property
    def lo(self) -> str:
        return self.start.isoformat()

    @property
    def hi(self) -> str:
        return self.end.isoformat()

    def previous(self) -> "Quarter":
        return quarter_of(self.start - dt.timedelta(days=1))

    def next(self) -> "Quarter":
        return quarter_of(self.end)


def quarter(text: str) -> Quarter:
    """'2026q3' → Quarter('2026Q3', 2026-07-01, 2026-10-01); InputError naming the form otherwise."""
    start, end = parse_quarter(text)
    return Quarter(f"{start.year}Q{(start.month - 1) // 3 + 1}", start, end)


def quarter_of(day: dt.date) -> Quarter:
    return quarter(f"{day.year}Q{(day.month - 1) // 3 + 1}")


def clock(seconds: float) -> str:
    """Seconds → 'MM:SS', or 'H:MM:SS' from an hour on: a position in the media as a player shows it
    (whole seconds, rounded down, so the end of a clip is never shown past its length)."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def where_text(places: list[str]) -> str:
    """Where in the content a finding is, for running text: 'at 01:23-01:40, 02:00-02:05' for one item's
    time ranges; 'in item 2 at 00:03-00:07, item 3' when it names the items of a post of several; 'in
    comment 3 (@handle, 2 days ago)' when it cites a comment kept with the capture."""
    places = [p for p in places or [] if p]
    if not places:
        return ""
    joined = ", ".join(places)
    return f"in {joined}" if places[0].startswith(("item ", "comment ")) else f"at {joined}"


def duration_text(seconds) -> str | None:
    """A length in words, for referrals and reports: '45 s', '3 min 07 s', '1 h 02 min 03 s' (to the nearest
    second); None when it is unknown or nil."""
    if not seconds:
        return None
    total = int(round(float(seconds)))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min {secs:02d} s"
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


CLOCKSOURCE = "/sys/devices/system/clocksource/clocksource0/current_clocksource"


def machine_clock() -> dict:
    """What this machine says of its own clock, as read and never guessed (SOP 9.1: the capture's times are
    its clock's): the kernel's clock source, and from `timedatectl show` whether the clock is synchronised by
    NTP and whether an NTP service is on. A value that could not be read is absent, and `unread` says why."""
    import shutil
    import subprocess

    from . import processes

    found: dict = {}
    unread = []
    try:
        with open(CLOCKSOURCE, encoding="ascii") as handle:
            found["clocksource"] = handle.read().strip()
    except OSError as exc:
        unread.append(f"{CLOCKSOURCE}: {exc.strerror or exc}")
    program = shutil.which("timedatectl")
    if program is None:
        unread.append("timedatectl: not installed")
    else:
        try:
            ran = processes.run([program, "show"], capture_output=True, text=True, timeout=3)
        except (OSError, subprocess.SubprocessError) as exc:
            ran = None
            unread.append(f"timedatectl: {exc}")
        if ran is not None and ran.returncode == 0:
            said = dict(line.split("=", 1) for line in ran.stdout.splitlines() if "=" in line)
            for key, name in (("NTPSynchronized", "ntp_synchronized"), ("NTP", "ntp_service")):
                if said.get(key) in ("yes", "no"):
                    found[name] = said[key] == "yes"
            if said.get("Timezone"):
                found["timezone"] = said["Timezone"]
        elif ran is not None:
            reason = (ran.stderr.strip().splitlines() or ["no answer"])[-1]
            unread.append(f"timedatectl: {reason}")
    if unread:
        found["unread"] = unread
    return found
