"""How the quarterly report's figures are published anonymised (SOP 6.5): small counts suppressed, with
secondary suppression where a total would give a small cell away; rates, medians and percentiles withheld
when they would rest on too few cases. Pure functions over numbers; figures.py applies them."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ...ground.errors import InputError

if TYPE_CHECKING:
    from ...ground.context import Context

# Figures are published as: an int; "<T" for a count from 1 to T-1 (T = the threshold); ">=T" for a count
# of at least T blurred so that a suppressed neighbour cannot be worked out from the total; None for a
# rate, mean or duration that is withheld (fewer than T cases, or made of counts that are suppressed).
# A zero is shown as 0: it identifies no one, and hiding it would hide that a platform had no work.


def threshold_of(ctx: "Context") -> int:
    """`report.small_count_threshold` from config.toml (default 5), checked."""
    value = ctx.settings.get("report.small_count_threshold", 5)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(f"report.small_count_threshold in {ctx.settings.path} is {value!r}: make it a whole number "
                         "of at least 1 (5 is the default; 1 suppresses nothing).")
    return value


def publish_count(n: int, threshold: int) -> int | str:
    return n if n == 0 or n >= threshold else f"<{threshold}"


def publish_cells(cells: dict[str, int], threshold: int, *, total_shown: bool = True) -> dict[str, int | str]:
    """Suppress small cells of a breakdown (see `protect_cells`); the cells alone, for callers that do not
    publish the total themselves."""
    return protect_cells(cells, threshold, total_shown=total_shown)[0]


def protect_cells(cells: dict[str, int], threshold: int, *,
                  total_shown: bool = True) -> tuple[dict[str, int | str], bool]:
    """(published cells, whether the total may be shown exactly) for a breakdown whose cells add up to its
    total. Small cells are suppressed to "<T"; then, while the total and the cells still shown would pin a
    suppressed cell to one value (one small cell alone: 8 − 6 = 2; two small cells adding up to 8: both
    are 4), the smallest exact non-zero cell is blurred to ">=T" as well (secondary suppression). When
    no exact cell is left to blur, the total cannot be shown exactly: the second value is False."""
    shown: dict[str, int | str] = {key: publish_count(n, threshold) for key, n in cells.items()}
    if not total_shown:
        return shown, True
    while _pins_a_cell(cells, shown, threshold):
        exact = sorted((n, key) for key, n in cells.items() if n and not isinstance(shown[key], str))
        if not exact:
            return shown, False
        shown[exact[0][1]] = f">={threshold}"
    return shown, True


def _pins_a_cell(cells: dict[str, int], shown: dict[str, int | str], threshold: int) -> bool:
    """Whether a reader who knows the total, the exact cells, that each "<T" cell is 1..T-1 and that each
    ">=T" cell is at least T, can work out a "<T" cell's value: the range left for it is one number."""
    small = [key for key, value in shown.items() if isinstance(value, str) and value.startswith("<")]
    if not small:
        return False
    blurred = [key for key, value in shown.items() if isinstance(value, str) and value.startswith(">=")]
    rest = sum(cells.values()) - sum(v for v in shown.values() if not isinstance(v, str))  # small + blurred
    k, top = len(small), threshold - 1
    most = min(k * top, rest - threshold * len(blurred))  # the small cells' sum, at most
    least = k if blurred else rest  # … and at least (blurred cells may take up any of the rest)
    low, high = max(1, least - (k - 1) * top), min(top, most - (k - 1))
    return low >= high


def publish_rate(part: int, whole: int, threshold: int) -> float | None:
    """A percentage, only when the counts it is made of (part, whole - part) would both be shown exactly."""
    if whole == 0 or whole < threshold:
        return None
    if isinstance(publish_count(part, threshold), str) or isinstance(publish_count(whole - part, threshold), str):
        return None
    return round(100 * part / whole, 1)


def percentile(values: list[float], fraction: float) -> float:
    """Linear interpolation between closest ranks of the sorted values (Excel's PERCENTILE.INC,
    numpy's default); `percentile(v, 0.5)` is the median."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)



def publish_stat(values: list[float], kind: str, threshold: int) -> float | None:
    """A median, 90th percentile or mean, withheld (None) unless it rests on at least `threshold` cases."""
    if len(values) < threshold or not values:
        return None
    if kind == "mean":
        return round(sum(values) / len(values), 2)
    return round(percentile(values, 0.5 if kind == "median" else 0.9), 1)
