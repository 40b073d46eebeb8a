"""The terms-of-service catalogue, SOP 9.4: which of a platform's own rules a piece of content breaks.

Shipped as data, one TOML file per platform in `templates/tos/`; a team overrides or adds clauses, or a
whole platform, in `HOME/tos/<platform>.toml` (same layout; a field given there wins, `withdrawn = true`
takes a clause out of use). Clause ids read `platform:clause`, e.g. `youtube:violent-criminal-orgs`.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path

from ...ground.errors import InputError, NotFound
from ...ground.resources import templates_dir
from ...ground.times import parse_date
from ...ground.urls import PLATFORM_NAMES

SLUG = re.compile(r"[a-z0-9][a-z0-9.+-]{0,39}")
CLAUSE_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,79}")
PLATFORM_FIELDS = ("name", "policy", "url", "as_of")
CLAUSE_FIELDS = ("title", "summary", "url", "as_of")


@dataclasses.dataclass(frozen=True)
class Clause:
    id: str
    platform: str
    title: str
    summary: str
    url: str
    as_of: str
    source: str  # shipped, team, or team override

    def as_dict(self) -> dict:
        """The shape a review keeps and `current_review` returns (no `source`)."""
        return {"id": self.id, "platform": self.platform, "title": self.title, "summary": self.summary,
                "url": self.url, "as_of": self.as_of}


@dataclasses.dataclass
class Catalogue:
    platform: str
    name: str
    policy: str
    url: str
    as_of: str
    clauses: dict[str, Clause]


def tos_dirs(home: Path | None) -> list[tuple[str, Path]]:
    """The folders read, shipped first so that the team's files override them."""
    dirs = [("shipped", templates_dir() / "tos")]
    if home is not None:
        dirs.append(("team", Path(home) / "tos"))
    return dirs


def load_catalogues(home: Path | None) -> dict[str, Catalogue]:
    """Every platform's catalogue in force: shipped files with the team's overrides and additions."""
    merged: dict[str, dict] = {}
    for source, folder in tos_dirs(home):
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.toml")):
            _merge(merged, path, source)
    return {platform: _build(platform, raw) for platform, raw in sorted(merged.items())}


def _read(path: Path) -> dict:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path} is not valid TOML ({exc}): correct the file.") from None


def _merge(merged: dict, path: Path, source: str) -> None:
    platform = path.stem.lower()
    if not SLUG.fullmatch(platform):
        raise InputError(f"{path}: the file name must be the platform's code, e.g. youtube.toml or soundcloud.toml.")
    data = _read(path)
    if data.get("platform", platform) != platform:
        raise InputError(f"{path} says platform = {data['platform']!r} but is named {path.name}: make them agree.")
    entry = merged.setdefault(platform, {"fields": {}, "clauses": {}, "path": path})
    entry["path"] = path
    for key in PLATFORM_FIELDS:
        if key in data:
            entry["fields"][key] = str(data[key])
    clauses = data.get("clauses", [])
    if not isinstance(clauses, list):
        raise InputError(f"{path}: clauses must be a list of [[clauses]] tables.")
    for number, clause in enumerate(clauses, start=1):
        key = _clause_key(path, platform, number, clause)
        known = entry["clauses"].get(key)
        if known is None:
            # the shipped file's date says when its own clauses were read, not when the team read this one
            undated = source == "team" and not clause.get("as_of") and not data.get("as_of")
            entry["clauses"][key] = {"source": source, "path": path, "undated": undated, **clause}
        else:
            updated = {**known, **clause, "path": path}
            updated["source"] = "team override" if known["source"] == "shipped" else known["source"]
            entry["clauses"][key] = updated


def _clause_key(path: Path, platform: str, number: int, clause) -> str:
    if not isinstance(clause, dict) or not clause.get("id"):
        raise InputError(f"{path}: clause {number} has no id: give it one, e.g. id = \"violent-speech\".")
    given = str(clause["id"]).strip().lower()
    prefix, sep, short = given.partition(":")
    if sep and prefix != platform:
        raise InputError(f"{path}: clause {given!r} names platform {prefix!r} in a file for {platform}: "
                         f"drop the prefix or move the clause to {prefix}.toml.")
    short = short if sep else given
    if not CLAUSE_SLUG.fullmatch(short):
        raise InputError(f"{path}: clause id {given!r} must be lower-case letters, digits and '-', "
                         "e.g. violent-speech.")
    return short


def _build(platform: str, raw: dict) -> Catalogue:
    fields = raw["fields"]
    path = raw["path"]
    for key in PLATFORM_FIELDS:
        if not fields.get(key) and key != "name":
            raise InputError(f"{path}: the platform's {key} is missing: add {key} = \"…\" at the top of the file.")
    default_as_of = _check_as_of(path, fields["as_of"], "the file")
    catalogue = Catalogue(platform=platform, name=fields.get("name") or PLATFORM_NAMES.get(platform, platform),
                          policy=fields["policy"], url=_check_url(path, fields["url"], "the file"),
                          as_of=default_as_of, clauses={})
    for short, clause in raw["clauses"].items():
        if clause.get("withdrawn"):
            continue
        where = f"clause {short!r}"
        for key in ("title", "summary", "url"):
            if not str(clause.get(key) or "").strip():
                raise InputError(f"{clause['path']}: {where} has no {key}: add {key} = \"…\" to it.")
        if clause.get("undated"):
            raise InputError(f"{clause['path']}: {where} is the team's own and has no as_of: add as_of = "
                             "\"YYYY-MM-DD\" (the day the policy was read) to it, or at the top of the file.")
        catalogue.clauses[short] = Clause(
            id=f"{platform}:{short}", platform=platform, title=str(clause["title"]).strip(),
            summary=" ".join(str(clause["summary"]).split()),
            url=_check_url(clause["path"], str(clause["url"]).strip(), where),
            as_of=_check_as_of(clause["path"], str(clause.get("as_of") or default_as_of), where),
            source=clause["source"],
        )
    return catalogue


def _check_url(path: Path, url: str, where: str) -> str:
    if not re.match(r"https?://\S+$", url or ""):
        raise InputError(f"{path}: {where} has url {url!r}, which is not an http(s) address: give the policy's link.")
    return url


def _check_as_of(path: Path, text: str, where: str) -> str:
    try:
        return parse_date(str(text), f"{path}: {where}'s as_of").isoformat()
    except InputError as exc:
        raise InputError(exc.message) from None


def platform_name(platform: str, catalogues: dict[str, Catalogue] | None = None) -> str:
    if catalogues and platform in catalogues:
        return catalogues[platform].name
    return PLATFORM_NAMES.get(platform, platform)


def list_clauses(home: Path | None, platform: str | None = None) -> list[dict]:
    """The clauses in force, for `ohrt tos list`: every platform's, or one platform's."""
    catalogues = load_catalogues(home)
    if platform:
        code = platform.strip().lower()
        code = {"twitter": "x"}.get(code, code)
        if code not in catalogues:
            raise NotFound(f"no terms-of-service catalogue for {platform!r}: the catalogues are "
                           f"{', '.join(catalogues)}; a team adds one as HOME/tos/{code}.toml (see the README).")
        chosen = [catalogues[code]]
    else:
        chosen = list(catalogues.values())
    return [{**clause.as_dict(), "policy": cat.policy, "source": clause.source}
            for cat in chosen for clause in cat.clauses.values()]
