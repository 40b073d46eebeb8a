"""The quarterly report (SOP 7.2) in its four formats: HTML with inline SVG charts and Markdown (from the
Jinja2 templates in `templates/report/`, which a team may override in `HOME/templates/report/`), CSV with
one row per figure, and JSON. Everything here works from the anonymised figures `governance.build_report`
returns; nothing reads the database, so nothing can add what 6.5 keeps out.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from ... import __version__
from .charts import grouped_bars
from ...ground.urls import PLATFORM_NAMES

CSV_COLUMNS = ("section", "figure", "breakdown", "this_quarter", "previous_quarter", "unit")
BREAKDOWN_TITLES = {"platform": "by platform", "ocu_unit": "by commissioning OCU / unit", "decision": "by decision",
                    "outcome": "by platform's decision"}
KEY_LABELS = {
    "decision": {"refer": "referred to platform (10.3.1)", "nfa": "no further action (10.3.2)"},
    "outcome": {"removed": "removed", "not-removed": "not removed"},
}
UNIT_SUFFIX = {"days": " (days)", "score": "", "percent": "", "count": ""}
GLANCE = ("received", "reviewed", "referrals_sent", "removal_rate", "receipt_to_review_median")
TOP_ROWS = 12


def render(ctx, report: dict, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        return to_csv(report)
    from ...ground.render import Renderer

    renderer = Renderer(ctx.home, "report", forbidden={})
    name = "report.html" if fmt == "html" else "report.md"
    return renderer.render(name, view(report, fmt))


# ------------------------------------------------------------------------------------------------ CSV

def to_csv(report: dict) -> str:
    """One row per figure and per breakdown row: section, figure, breakdown (`by=key`), this quarter,
    previous quarter, unit. The first rows (section `report`) say which quarters and which threshold."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    meta = [("quarter", report["quarter"], report["previous_quarter"], ""),
            ("period_start", report["period"]["start"], report["previous_period"]["start"], "date"),
            ("period_end", report["period"]["end"], report["previous_period"]["end"], "date"),
            ("small_count_threshold", report["small_count_threshold"], report["small_count_threshold"], "count")]
    for figure, this, previous, unit in meta:
        writer.writerow(["report", figure, "", this, previous, unit])
    for figure in report["figures"]:
        writer.writerow([figure["section"], figure["id"], "", _csv_value(figure["this_quarter"]),
                         _csv_value(figure["previous_quarter"]), figure["unit"]])
        for by, rows in figure["breakdowns"].items():
            for row in rows:
                writer.writerow([figure["section"], figure["id"], _csv_text(f"{by}={row['key']}"),
                                 _csv_value(row["this_quarter"]), _csv_value(row["previous_quarter"]),
                                 figure["unit"]])
    if report.get("audit_checkpoint"):  # last, so the figures' rows stay where they were
        writer.writerow(["report", "audit_checkpoint", "", _checkpoint_line(report), "", ""])
    return out.getvalue()


def _csv_value(value: Any) -> str:
    return "" if value is None else str(value)


def _csv_text(text: str) -> str:
    """Free text (a unit's name) that a spreadsheet would take for a formula is quoted with a '."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


# -------------------------------------------------------------------------------------- HTML/Markdown

def show(value: Any, unit: str) -> str:
    """A published value as a reader sees it: 1,234 · <5 · ≥5 · 42.9% · 3.5 · — (withheld or none)."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value.replace(">=", "≥")
    if unit == "percent":
        return f"{value:.1f}%"
    if unit == "days":
        return f"{value:.1f}"
    if unit == "score":
        return f"{value:.2f}"
    return f"{value:,}"


def change(this: Any, previous: Any, unit: str) -> str:
    """The change from the previous quarter, only where both values are published exactly."""
    exact = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (this, previous))
    if not exact:
        return ""
    delta = this - previous
    if unit == "count":
        text = f"{delta:+,}"
    elif unit == "percent":
        text = f"{delta:+.1f} pts"
    elif unit == "score":
        text = f"{delta:+.2f}"
    else:
        text = f"{delta:+.1f}"
    return text.replace("-", "−") if delta else text.lstrip("+")


def key_label(by: str, key: str) -> str:
    if not key:
        return "(not recorded)"
    if by == "platform":
        return PLATFORM_NAMES.get(key, "other platforms" if key == "other" else key)
    return KEY_LABELS.get(by, {}).get(key, key)


def _md(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _md_name(text: str) -> str:
    """A name (team, OCU, unit, platform) for Markdown: escaped as a cell, and any HTML in it shown as text,
    never run by a viewer (an OCU named `<script>…` is printed, not executed)."""
    return _md(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def view(report: dict, fmt: str) -> dict:
    """What the templates see: display strings only, already escaped for Markdown when `fmt` is md
    (Jinja2 escapes for HTML)."""
    esc = _md if fmt == "md" else (lambda text: text)
    figures = {f["id"]: f for f in report["figures"]}
    sections = []
    for section in report["sections"]:
        mine = [f for f in report["figures"] if f["section"] == section["id"]]
        sections.append({
            "id": section["id"], "title": section["title"], "about": section["about"],
            "rows": [row for f in mine for row in _rows(f, esc)],
            "charts": [c for c in _charts(section["id"], figures, report) if c] if fmt == "html" else [],
        })
    return {
        "team": (_md_name if fmt == "md" else esc)(report["team"] or "Online Harm Referral Team"),
        "quarter": report["quarter"], "previous_quarter": report["previous_quarter"],
        "period": report["period"], "previous_period": report["previous_period"],
        "complete": report["complete"], "generated_at": report["generated_at"],
        "threshold": report["small_count_threshold"], "version": __version__,
        "glance": [{"title": figures[g]["title"] + UNIT_SUFFIX[figures[g]["unit"]],
                    "this": show(figures[g]["this_quarter"], figures[g]["unit"]),
                    "previous": show(figures[g]["previous_quarter"], figures[g]["unit"])} for g in GLANCE],
        "sections": sections,
        "checkpoint": _checkpoint_line(report),
    }


def _checkpoint_line(report: dict) -> str:
    """The signed checkpoint of the audit chain's head as the report was made (ground/checkpoints.py), so
    `ohrt audit verify --against REPORT` can check the chain against it once the report has left."""
    found = report.get("audit_checkpoint")
    return json.dumps(found, separators=(",", ":")) if found else ""


def _rows(figure: dict, esc) -> list[dict]:
    unit = figure["unit"]
    name = _md_name if esc is _md else esc
    rows = [{"kind": "figure", "id": figure["id"], "label": esc(figure["title"] + UNIT_SUFFIX[unit]),
             "this": esc(show(figure["this_quarter"], unit)), "previous": esc(show(figure["previous_quarter"], unit)),
             "change": esc(change(figure["this_quarter"], figure["previous_quarter"], unit))}]
    for by, items in figure["breakdowns"].items():
        if not items:
            continue
        rows.append({"kind": "group", "id": f"{figure['id']}.{by}", "label": esc(BREAKDOWN_TITLES.get(by, by)),
                     "this": "", "previous": "", "change": ""})
        for item in items:
            rows.append({"kind": "item", "id": f"{figure['id']}.{by}", "label": name(key_label(by, item["key"])),
                         "this": esc(show(item["this_quarter"], unit)),
                         "previous": esc(show(item["previous_quarter"], unit)),
                         "change": esc(change(item["this_quarter"], item["previous_quarter"], unit))})
    return rows


# --------------------------------------------------------------------------------------------- charts

def _charts(section: str, figures: dict, report: dict) -> list:
    from markupsafe import Markup

    this_label, previous_label = report["quarter"], report["previous_quarter"]

    def chart(chart_id: str, title: str, rows: list, unit: str, maximum: float | None = None, note: str = ""):
        if not rows:
            return None
        if not any(isinstance(v, (int, float)) and v > 0 for _, a, b in rows for v in (a, b)):
            # nothing exact above zero to draw: say so in the chart's place rather than leave it out unsaid
            hidden = any(isinstance(v, str) or v is None for _, a, b in rows for v in (a, b))
            why = ("every value in it is suppressed or withheld (SOP 6.5)" if hidden else "every value in it is 0")
            return Markup('<p class="chart-note">{} — not drawn: {}; the table above gives them.</p>').format(
                title, why)
        return Markup(grouped_bars(chart_id, title, rows, this_label=this_label, previous_label=previous_label,
                                   show=lambda v: show(v, unit), maximum=maximum, note=note))

    def breakdown(figure_id: str, by: str, limit: int | None = None) -> tuple[list, str]:
        items = figures[figure_id]["breakdowns"].get(by, [])
        note = f"largest {limit} of {len(items)}" if limit and len(items) > limit else ""
        return [(key_label(by, i["key"]), i["this_quarter"], i["previous_quarter"]) for i in items[:limit]], note

    def plain(ids: list[str]) -> list:
        return [(figures[i]["title"], figures[i]["this_quarter"], figures[i]["previous_quarter"]) for i in ids]

    if section == "demand":
        by_platform, _ = breakdown("received", "platform")
        by_unit, note = breakdown("received", "ocu_unit", TOP_ROWS)
        return [chart("chart-demand-platform", "Referrals received by platform", by_platform, "count"),
                chart("chart-demand-unit", "Referrals received by commissioning OCU / unit", by_unit, "count",
                      note=note)]
    if section == "work":
        decisions, _ = breakdown("reviewed", "decision")
        sent, _ = breakdown("referrals_sent", "platform")
        return [chart("chart-work-decision", "Tasks reviewed, by decision", decisions, "count"),
                chart("chart-work-sent", "Referrals sent, by platform", sent, "count")]
    if section == "results":
        rates, _ = breakdown("removal_rate", "platform")
        return [chart("chart-results-rate", "Removal rate by platform (%)", rates, "percent", maximum=100)]
    if section == "timeliness":
        rows = [(f"{figures[stem + '_cases']['title'].split(':')[0]}, {kind}",
                 figures[f"{stem}_{key}"]["this_quarter"], figures[f"{stem}_{key}"]["previous_quarter"])
                for stem in ("receipt_to_review", "review_to_referral", "referral_to_decision")
                for key, kind in (("median", "median"), ("p90", "90th"))]
        return [chart("chart-timeliness", "Days between the steps", rows, "days")]
    if section == "library":
        ids = ["library_size", "library_added", "library_purged", "library_held", "library_expiring"]
        return [chart("chart-library", "The Domain library", plain(ids), "count")]
    if section == "assurance":
        return [chart("chart-assurance", "Dip sample results (%)", plain(["dip_accurate", "dip_compliant"]),
                      "percent", maximum=100)]
    return []
