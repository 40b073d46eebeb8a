"""What is sensitive in this home, and where a text holds it: the one guard for everything that leaves
for a platform or an outside reader, and for reasons written to the audit chain (SOP 6.3, 6.4, 6.5, 8.3.3,
8.4, 9.3; DPA 2018 s.62).

Sensitive values are read in one query from every task of the home, not only the task at hand (another
task's subject or incident reference must not leave with this one):

* subjects (8.4) and applicants' names, and the officers on the roster: names;
* incident references (8.3.3) and indices research references (9.3): references; research summaries;
* platforms given as host names (`--platform drillforum.example.org`), which can point at a person.

A text and every value are normalised alike: Unicode NFKC, accents and zero-width characters dropped,
apostrophes dropped inside words, every other punctuation mark a word break, case folded. Then:

* a name matches as a whole, with any spacing or punctuation between its words or none ("Zebedee
  Quartermaine", "ZebedeeQuartermaine", a zero-width space inside), surname first ("Quartermaine,
  Zebedee"), a hyphenated part joined or spaced, an initial before a later part ("Z. Quartermaine"), and
  each part alone as a whole word ("Quartermaine", "Zebedee");
* a reference matches with its separators spaced, changed or dropped ("4399 / 15OCT26", "CAD 4399-15oct26"
  for CAD:4399/15OCT26), and a part of it with at least five digits alone ("CRIMINT 99887766" → "99887766");
* a research summary matches as a whole phrase.

A part alone is not matched when it is shorter than three letters, a rank or title (PC, DC, Insp), or one of
the common words below (a surname such as Park, a first name such as Ray): these would refuse ordinary
English ("a ray of light", "the park"); such names are still caught whole, surname first, or after an
initial. Matching is by whole words, so "Lee" is not found in "fleeing".
"""

from __future__ import annotations

import re
import unicodedata
import weakref
from dataclasses import dataclass, field
from typing import Iterable

from .errors import InputError
from .urls import PLATFORM_NAMES

# The kinds of sensitive value, and how an error line names each.
SUBJECT, REFERENCE, RESEARCH, APPLICANT, OFFICER, HOST = (
    "subject", "reference", "research", "applicant", "officer", "host")
ALL_KINDS = frozenset({SUBJECT, REFERENCE, RESEARCH, APPLICANT, OFFICER, HOST})
# What may not enter the audit chain, which cannot be purged: personal data of subjects and police
# information. Officers' and applicants' names are in the chain already, as who did what.
AUDIT_KINDS = frozenset({SUBJECT, REFERENCE, RESEARCH})

MIN_PART = 3        # a name part shorter than this is not matched alone
MIN_WHOLE = 4       # nor a whole value shorter than this (compacted)
REF_DIGITS = 5      # a part of a reference is matched alone when it has this many digits
SUMMARY_WORDS = 3   # research summaries of fewer words are not matched (they would be ordinary phrases)

RANKS = {"pc", "ps", "dc", "ds", "di", "dci", "dsu", "dcs", "sgt", "insp", "ch", "chief", "supt", "det", "cst",
         "inspector", "sergeant", "constable", "detective", "superintendent", "mr", "mrs", "ms", "miss", "mx",
         "dr", "sir"}
# English words that are also names or parts of names: not matched alone (see the module's docstring).
COMMON = frozenset("""
the and for but not you all any can her was one our out his has how man new now old see two way who boy did
its let put say she too use are from with this that they have what when your will more some into than then them
well also back even good just like long make much over such take very here most only last come made find give
know look right still think time where year same must part high each both life down off may rule park lee ray
will mark rose grace hope faith joy bill pat jack june april august summer dawn sky king young white black
brown green grey gray little hill wood stone rich lane bell ward field hall page cook baker price chase drill
gang rival video music road street north south east west central crew official love star angel don max art van
von del las los les des den der guy sue nick rob bob jean sandy rocky frank penny ruby amber ivy holly iris
violet olive jade crystal pearl heather daisy lily poppy ginger brook hunter archer carter fisher miller
taylor turner walker mason cooper porter wells rivers banks day moon sun ash bank case cash chance christian
english french dean dale glen major marshal miles noble page reed rice rush sage short small strong sweet
tom tim kim bay cross fox gold grant hart house joy keen king knight lord mann moss nash paul pope read royal
sharp shaw sterling storm swift tall vale wise wolf wren early gay hale hay hunt law low may mills new power
ray rock roe ross round shepherd west will win bird bush church dove dye east free gale home hood lamb lake
land light lock love mayo page pike pool post ring shore sims son spring tower watt
""".split())

_DROP = dict.fromkeys(map(ord, "\u00ad\u034f\u061c\u180e\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063"
                                "\u2064\ufeff'\u2019\u02bc\u0060\u00b4"), None)
_WORD = re.compile(r"[^\W_]+")


def normalise(text: str) -> str:
    """NFKC, accents and zero-width characters dropped, apostrophes dropped, case folded, one space between
    words, every other punctuation mark a break: "O’Brien, Zé\u200bbedee" → "obrien zebedee"."""
    text = unicodedata.normalize("NFKC", str(text or "")).translate(_DROP).casefold()
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(_WORD.findall(text))


def words(text: str) -> list[str]:
    return normalise(text).split()


@dataclass(frozen=True)
class Hit:
    """One sensitive value found: its kind, the task it belongs to (None for officers), and the value as
    recorded (for police-only messages; an error line about an outward text must not repeat it)."""

    kind: str
    task_id: str | None
    value: str
    key: str = field(compare=False, default="")

    def what(self, task_id: str | None = None) -> str:
        """The value's kind in words for an error line, naming another task where it is another's."""
        other = self.task_id is not None and task_id is not None and self.task_id != task_id
        whose = f"another task ({self.task_id})" if other else "the task"
        return {
            SUBJECT: f"the name of a subject linked to {whose} (SOP 8.4.1)",
            REFERENCE: f"a police incident reference of {whose} (SOP 8.3.3)",
            RESEARCH: f"police indices research of {whose} (SOP 9.3)",
            APPLICANT: "an applicant's name (SOP 6.4)",
            OFFICER: "an officer's name (SOP 6.4)",
            HOST: "a site's host name given as a platform (SOP 6.5)",
        }[self.kind]


class Guard:
    """The sensitive values of a home, indexed for matching by whole words (see the module's docstring)."""

    def __init__(self) -> None:
        self.single: dict[str, list[Hit]] = {}      # one word
        self.joined: dict[str, list[Hit]] = {}      # several adjacent words, concatenated
        self.initials: dict[tuple[str, str], list[Hit]] = {}  # (initial, later part)
        self.phrases: dict[tuple[str, ...], list[tuple[tuple[str, ...], Hit]]] = {}  # summaries by first words
        self.longest = 0  # the longest joined key, in characters: no longer run of words is looked up

    # ------------------------------------------------------------------------------------- building

    def _add(self, index: dict, key, hit: Hit) -> None:
        index.setdefault(key, []).append(hit)
        if index is self.joined:
            self.longest = max(self.longest, len(key))

    def add_name(self, kind: str, task_id: str | None, name: str) -> None:
        raw = [w for w in (name or "").split()]
        while raw and normalise(raw[0]).replace(" ", "") in RANKS:
            raw = raw[1:]  # "PC Sam Okafor", "Ch. Insp Ray Diaz": the rank is no part of the name
        parts = [words(w) for w in raw]
        parts = [p for p in parts if p]
        flat = [t for p in parts for t in p]
        if not flat:
            return
        whole = "".join(flat)
        hit = Hit(kind, task_id, name.strip(), whole)
        if len(flat) > 1 and len(whole) >= MIN_WHOLE:
            self._add(self.joined, whole, hit)
            surname_first = [t for p in parts[-1:] + parts[:-1] for t in p]
            self._add(self.joined, "".join(surname_first), hit)  # "Surname, Firstname"
        for part in parts:
            if len(part) > 1:  # a hyphenated part, joined or spaced: "Quartermaine-Smith"
                self._add(self.joined, "".join(part), hit)
        for token in flat:
            if len(token) >= MIN_PART and token not in COMMON and token not in RANKS and not token.isdigit():
                self._add(self.single, token, hit)
        for g, given in enumerate(parts[:-1]):  # "Z. Quartermaine", "S. Okafor"
            for later in parts[g + 1:]:
                self._add(self.initials, (given[0][0], later[0]), hit)

    def add_reference(self, kind: str, task_id: str | None, reference: str, system: str | None = None) -> None:
        flat = words(reference)
        whole = "".join(flat)
        if len(whole) < MIN_WHOLE:
            return
        hit = Hit(kind, task_id, reference.strip().upper(), whole)
        if len(flat) == 1:
            self._add(self.single, whole, hit)
        else:
            self._add(self.joined, whole, hit)
        prefix = "".join(words(system or ""))
        if prefix and not whole.startswith(prefix):
            self._add(self.joined, prefix + whole, hit)  # "CAD4399/15OCT26"
        for token in flat:
            if token != whole and sum(c.isdigit() for c in token) >= REF_DIGITS:
                self._add(self.single, token, hit)

    def add_phrase(self, kind: str, task_id: str | None, text: str) -> None:
        flat = tuple(words(text))
        if len(flat) < SUMMARY_WORDS:
            return
        self.phrases.setdefault(flat[:SUMMARY_WORDS], []).append((flat, Hit(kind, task_id, text.strip(), " ".join(flat))))

    def add_host(self, task_id: str | None, host: str) -> None:
        flat = words(re.sub(r"^www\.", "", (host or "").strip().lower()))
        if len(flat) > 1:
            whole = "".join(flat)
            self._add(self.joined, whole, Hit(HOST, task_id, host, whole))

    # ------------------------------------------------------------------------------------- matching

    def find(self, text: str, kinds: Iterable[str] = ALL_KINDS) -> list[Hit]:
        """Every sensitive value the text holds, of the kinds asked for, in the order found."""
        kinds = frozenset(kinds)
        tokens = words(text)
        found: list[Hit] = []
        for i, token in enumerate(tokens):
            found += self.single.get(token, ())
            joined, j = token, i + 1
            while len(joined) <= self.longest:
                found += self.joined.get(joined, ())
                if j == len(tokens):
                    break
                joined, j = joined + tokens[j], j + 1
            if i + 1 < len(tokens) and len(token) == 1:
                found += self.initials.get((token, tokens[i + 1]), ())
            for phrase, hit in self.phrases.get(tuple(tokens[i:i + SUMMARY_WORDS]), ()):
                if tuple(tokens[i:i + len(phrase)]) == phrase:
                    found.append(hit)
        seen: set = set()
        return [h for h in found if h.kind in kinds and not ((h.kind, h.task_id, h.key) in seen
                                                             or seen.add((h.kind, h.task_id, h.key)))]

    def first(self, text: str, *, public: str = "", kinds: Iterable[str] = ALL_KINDS) -> Hit | None:
        """The first sensitive value in `text` that `public` (what the content itself shows, the team's
        own name…) does not show; None when there is none."""
        hits = self.find(text, kinds)
        if not hits:
            return None
        shown = {(h.kind, h.key) for h in self.find(public, kinds)} if public else set()
        return next((h for h in hits if (h.kind, h.key) not in shown), None)


def build(db, officers: Iterable = (), extra: Iterable[tuple[str, str | None, str, str | None]] = ()) -> Guard:
    """The guard over every task's sensitive values, read in one query, plus the roster's names and any
    `extra` (kind, task, value, system) not yet written (a review's own research)."""
    guard = Guard()
    known = sorted(PLATFORM_NAMES)
    marks = ",".join("?" * len(known))
    rows = db.execute(
        "SELECT 's', task_id, name, NULL FROM subjects "
        "UNION ALL SELECT 'r', task_id, reference, system FROM incident_refs "
        "UNION ALL SELECT 'i', task_id, reference, summary FROM indices_research "
        "UNION ALL SELECT DISTINCT 'a', NULL, applicant_name, NULL FROM tasks WHERE applicant_name IS NOT NULL "
        f"UNION ALL SELECT 'h', id, platform, NULL FROM tasks WHERE platform LIKE '%.%' AND platform NOT IN ({marks})",
        known)
    for tag, task_id, value, other in [*rows, *extra]:
        if not value and not other:
            continue
        if tag == "s":
            guard.add_name(SUBJECT, task_id, value)
        elif tag == "r":
            guard.add_reference(REFERENCE, task_id, value, other)
        elif tag == "i":
            if value:
                guard.add_reference(RESEARCH, task_id, value)
            if other:
                guard.add_phrase(RESEARCH, task_id, other)
        elif tag == "a":
            guard.add_name(APPLICANT, None, value)
        elif tag == "h":
            guard.add_host(task_id, value)
    for officer in officers:
        guard.add_name(OFFICER, None, officer.name)
    return guard


# One guard per open database, rebuilt when another connection has written to it since, or this one has
# added a task, subject, reference or research: a command that checks several texts reads the home once.
_CACHE: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_STATE = ("SELECT (SELECT MAX(rowid) FROM tasks), (SELECT MAX(rowid) FROM subjects), "
          "(SELECT MAX(rowid) FROM incident_refs), (SELECT MAX(rowid) FROM indices_research)")


def for_context(ctx) -> Guard:
    """The guard of the home `ctx` is open on (SOP 6.3, 6.4)."""
    conn = ctx.db.conn
    state = (conn.execute("PRAGMA data_version").fetchone()[0], conn.execute(_STATE).fetchone(),
             tuple((o.name, o.number) for o in ctx.settings.officers))
    cached = _CACHE.get(ctx.db)
    if cached and cached[0] == state:
        return cached[1]
    guard = build(ctx.db, ctx.settings.officers)
    _CACHE[ctx.db] = (state, guard)
    return guard


def check_reason(ctx, text: str | None, flag: str = "--reason") -> None:
    """Refuse (InputError, nothing written) a free-text reason naming a subject, an incident reference or
    indices research: it goes into the audit chain, which can never be purged (DPA 2018 s.62, SOP 2.2)."""
    if not text or not text.strip():
        return
    hit = for_context(ctx).first(text, kinds=AUDIT_KINDS)
    if hit:
        raise InputError(f"{flag} holds {hit.what()}: it is written to the audit chain, which is never purged and "
                         "must not hold it; reword it, e.g. name the task by its id.")
