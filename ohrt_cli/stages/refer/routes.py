"""Referral routes and the states of a referral: portal, mailbox or named individual per platform (SOP 10.5)."""

from __future__ import annotations

import tomllib

from ...ground import mail, resources, urls
from ...ground.context import Context
from ...ground.errors import InputError


KINDS = ("referral", "appeal")
STATUSES = ("drafted", "returned", "approved", "sent", "removed", "not-removed")
ROUTES = {
    "portal": "Trusted Flagger portal (SOP 10.5.1)",
    "mailbox": "platform mailbox (SOP 10.5.2)",
    "individual": "named individual at the platform (SOP 10.5.3)",
}
EMAIL_ROUTES = ("mailbox", "individual")
REDRAFTABLE = ("drafted", "returned")

LIST_COLUMNS = ("id", "task_id", "kind", "appeal_of", "platform", "route", "status", "version", "drafted_by",
                "drafted_at", "qa_by", "sent_on", "platform_ref", "outcome", "outcome_on")


def shipped_routes() -> dict:
    """The shipped defaults, `templates/routes.toml`."""
    with open(resources.templates_dir() / "routes.toml", "rb") as handle:
        return tomllib.load(handle)


def route_for(ctx: Context, platform: str) -> dict:
    """How referrals reach `platform` (SOP 10.5): shipped defaults overridden by `[routes.<platform>]` (and
    `[routes.default]`) in config.toml. Raises InputError saying what to set when the route is unusable."""
    shipped, configured = shipped_routes(), ctx.settings.raw.get("routes") or {}
    merged: dict = {}
    for layer in (shipped.get("default"), configured.get("default"), shipped.get(platform), configured.get(platform)):
        merged.update(layer or {})
    route = str(merged.get("route") or "").strip().lower()
    where = f"[routes.{platform}] in config.toml"
    if route not in ROUTES:
        raise InputError(f"route {route!r} for {platform} is not one of {', '.join(ROUTES)}: set route in {where}.")
    result = {
        "platform": platform,
        "platform_name": urls.PLATFORM_NAMES.get(platform, platform.title()),
        "route": route,
        "contact": str(merged.get("contact") or "").strip(),
        "contact_name": str(merged.get("contact_name") or "").strip(),
        "portal": str(merged.get("portal") or "").strip() or ("Trusted Flagger portal" if route == "portal" else ""),
    }
    if route in EMAIL_ROUTES:
        if not result["contact"]:
            raise InputError(f"no contact for {platform} referrals (route {route}, SOP 10.5): set "
                             f'contact = "name@platform.example" (and contact_name) in {where}.')
        if not mail.valid_address(result["contact"]):
            raise InputError(f"contact {result['contact']!r} for {platform} is not an email address: correct it in "
                             f"{where}.")
    result["placeholder"] = route in EMAIL_ROUTES and mail.is_placeholder(result["contact"])
    return result


def list_routes(ctx: Context) -> list[dict]:
    """Every platform's route: the SOP 4.1.4 platforms and any other named in the shipped file or config."""
    names = list(urls.PLATFORMS)
    for table in (shipped_routes(), ctx.settings.raw.get("routes") or {}):
        names += [name for name in table if name != "default" and name not in names]
    found = []
    for platform in names:
        try:
            found.append({**route_for(ctx, platform), "problem": None})
        except InputError as exc:
            found.append({"platform": platform, "platform_name": urls.PLATFORM_NAMES.get(platform, platform),
                          "route": None, "contact": None, "contact_name": None, "portal": None,
                          "placeholder": False, "problem": exc.message})
    return found
