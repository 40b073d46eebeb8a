"""Rendering officer-facing and platform-bound text from Jinja2 templates, safely (SOP 6.4, 10.1).

Templates run in Jinja2's immutable sandbox with a strict undefined: a template — shipped, or the team's
own override in `HOME/templates/<stage>/` — that asks for a field its context does not hold fails with one
line naming the field, instead of rendering an empty gap. What a template may see is decided by whoever
builds its context (see `disclosure.platform_context`): the context is the allow-list.

Lookup order for a template NAME of stage STAGE (e.g. "referral"), first found wins:
  HOME/templates/STAGE/<platform>/NAME, shipped templates/STAGE/<platform>/NAME,
  HOME/templates/STAGE/NAME, shipped templates/STAGE/NAME.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from . import resources
from .errors import InputError


class Fields(dict):
    """A context mapping that knows its own dotted path, so that a missing field is named in full
    (`content.colour`, not just `colour`). The path is kept in an underscore attribute, which the
    sandbox refuses to show to a template."""

    _path: str = ""

    def __init__(self, path: str, values: dict):
        super().__init__(values)
        self._path = path


def fields(path: str, values: dict) -> Fields:
    """Wrap `values` (and any dicts nested in it, in lists too) as Fields under `path`."""
    return Fields(path, {key: _wrap(f"{path}.{key}" if path else key, value) for key, value in values.items()})


def _wrap(path: str, value: Any) -> Any:
    if isinstance(value, dict):
        return fields(path, value)
    if isinstance(value, (list, tuple)):
        return [_wrap(f"{path}[]", item) for item in value]
    return value


@dataclass
class Template:
    """A template found for rendering: its name, where it came from, and whether it is the team's own."""

    name: str
    filename: str
    override: bool

    def describe(self) -> str:
        return f"team template {self.filename}" if self.override else f"shipped template {self.name}"


def stage_dirs(home: Path | None, stage: str) -> list[Path]:
    """The folders templates of `stage` are looked up in, the team's own first."""
    dirs = [resources.templates_dir() / stage]
    if home is not None:
        dirs.insert(0, home / "templates" / stage)
    return [d for d in dirs if d.is_dir()]


EMPTY = "<empty>"


class MissingField(jinja2.UndefinedError):
    """A template asked for a field its context does not hold; the message is the field's dotted name."""


class NamedUndefined(jinja2.StrictUndefined):
    """A strict undefined whose error is a MissingField carrying the dotted name of the missing field."""

    __slots__ = ()

    def __init__(self, hint=None, obj=jinja2.utils.missing, name=None, exc=jinja2.UndefinedError):
        super().__init__(hint, obj, name, MissingField if exc is jinja2.UndefinedError else exc)

    @property
    def _undefined_message(self) -> str:
        if self._undefined_hint:
            return self._undefined_hint
        name = self._undefined_name
        if self._undefined_obj is None:
            return f"{EMPTY}.{name}"
        parent = self._undefined_obj._path if isinstance(self._undefined_obj, Fields) else None
        if parent:
            return f"{parent}.{name}" if isinstance(name, str) else f"{parent}[{name!r}]"
        return str(name)


def _environment(dirs: list[Path]) -> ImmutableSandboxedEnvironment:
    from .times import where_text

    env = ImmutableSandboxedEnvironment(
        loader=jinja2.FileSystemLoader([str(d) for d in dirs]),
        undefined=NamedUndefined,
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False),
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["where"] = where_text  # a finding's places: "at 01:23-01:40" or "in item 2 at 00:03-00:07"
    return env


def _known_fields(context: dict, field: str) -> tuple[str, list[str]]:
    """(the parent's name, its fields) for a missing dotted field such as `content.colour` or
    `findings[].factor_title`; the top level when the parent cannot be followed."""
    node: Any = context
    parts = field.split(".")[:-1]
    for part in parts:
        name, _, rest = part.partition("[")
        node = node.get(name) if isinstance(node, dict) else None
        if rest and isinstance(node, list):
            node = node[0] if node else None
        if not isinstance(node, dict):
            return "the context", list(context)
    return (".".join(parts) or "the context"), list(node)


@dataclass
class Renderer:
    """Templates of one stage for one home (team overrides first), rendered with StrictUndefined in the
    sandbox. `forbidden` maps names that must never reach these templates to why (used in the error)."""

    home: Path | None
    stage: str
    forbidden: dict[str, str]

    def __post_init__(self):
        self.dirs = stage_dirs(self.home, self.stage)
        self.env = _environment(self.dirs)

    def find(self, name: str, *, platform: str | None = None) -> Template:
        """The template for `name`, a platform-specific one first; InputError when there is none."""
        try:
            template = self.env.select_template(_candidates(name, platform))
        except jinja2.TemplatesNotFound:
            raise InputError(
                f"no template {self.stage}/{name}: restore the shipped one (reinstall ohrt) or put your own in "
                f"{self._team_dir()}."
            ) from None
        except jinja2.TemplateSyntaxError as exc:
            raise self._syntax_error(exc) from None
        return self._describe(template.name, template.filename)

    def exists(self, name: str, *, platform: str | None = None) -> bool:
        return any((d / c).is_file() for d in self.dirs for c in _candidates(name, platform))

    def render(self, name: str, context: dict, *, platform: str | None = None) -> str:
        """Render template `name` with `context`; any template fault becomes one InputError line that
        names the template, the line and the field, and says how to mend it."""
        found = self.find(name, platform=platform)
        try:
            template = self.env.get_template(found.name)
            return template.render(context)
        except MissingField as exc:
            raise self._field_error(found, str(exc), exc, context) from None
        except SecurityError as exc:
            raise InputError(
                f"{found.describe()}{self._line(exc, found)} does something templates may not ({exc}): "
                f"mend the template."
            ) from None
        except jinja2.TemplateSyntaxError as exc:
            raise self._syntax_error(exc) from None
        except (jinja2.TemplateError, ArithmeticError, LookupError, TypeError, ValueError) as exc:
            # The template is the team's own code: whatever it trips on is a fault of the template.
            raise InputError(f"{found.describe()}{self._line(exc, found)} cannot be rendered "
                             f"({type(exc).__name__}: {exc}): mend the template.") from None

    def render_all(self, names: Iterable[tuple[str, str]], context: dict, *,
                   platform: str | None = None) -> dict[str, str]:
        """Render several (key, template name) pairs; all or nothing."""
        return {key: self.render(name, context, platform=platform) for key, name in names}

    # ------------------------------------------------------------------------------------ messages

    def _team_dir(self) -> str:
        return str(self.home / "templates" / self.stage) if self.home else f"HOME/templates/{self.stage}"

    def _describe(self, name: str, filename: str | None) -> Template:
        filename = filename or name
        team = self.home is not None and Path(filename).is_relative_to(self.home / "templates")
        return Template(name=name, filename=filename, override=team)

    def _field_error(self, found: Template, field: str, exc: BaseException, context: dict) -> InputError:
        top = field.split(".", 1)[0].split("[", 1)[0]
        where = f"{found.describe()}{self._line(exc, found)}"
        if top == EMPTY:
            return InputError(f"{where} asks for '{field.split('.', 1)[1]}' of a field that is empty here (such as "
                              "'original', which only appeals have): guard it with {% if … %} or remove it.")
        if top in self.forbidden:
            return InputError(f"{where} asks for '{field}', which is never given to {self.stage} templates: "
                              f"{self.forbidden[top]}; remove it from the template.")
        parent, known = _known_fields(context, field)
        return InputError(f"{where} asks for '{field}', which is not a field it is given: {parent} holds "
                          f"{', '.join(sorted(known))}; use one of those or remove it.")

    def _syntax_error(self, exc) -> InputError:
        filename = exc.filename or exc.name or "?"
        return InputError(f"template {filename} line {exc.lineno} is not valid Jinja2 ({exc.message}): "
                          "mend the template.")

    @staticmethod
    def _line(exc: BaseException, found: Template) -> str:
        """' line N' of the template where `exc` was raised, when the traceback shows it."""
        line = None
        for frame in traceback.extract_tb(exc.__traceback__):
            if frame.filename == found.filename:
                line = frame.lineno
        return f" line {line}" if line else ""


def _candidates(name: str, platform: str | None) -> list[str]:
    """Where a template is looked for: the platform's own version first, then the general one."""
    return ([f"{platform}/{name}"] if platform else []) + [name]
