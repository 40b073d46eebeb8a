"""What is sensitive in this home, and where a text holds it: the one guard for everything that leaves
for a platform or an outside reader, and for reasons written to the audit chain (SOP 6.3, 6.4, 6.5, 8.3.3,
8.4, 9.3; DPA 2018 s.62).

Sensitive values are those of every task of the home, not only the task at hand (another task's subject or
incident reference must not leave with this one):

* subjects (8.4), applicants' names, and the officers on the roster: names;
* incident references (8.3.3) and indices research references (9.3): references; research summaries;
* platforms given as a site's host name (`--platform drillforum.example.org`), which can point at a person.

A text and every value are normalised alike: Unicode NFKC, accents and zero-width characters dropped,
apostrophes dropped inside words, every other punctuation mark a word break, case folded. Then:

* a name matches as a whole, with any spacing or punctuation between its words or none ("Zebedee
  Quartermaine", "ZebedeeQuartermaine", a zero-width space inside), surname first ("Quartermaine,
  Zebedee"), a hyphenated part joined or spaced, an initial before a later part ("Z. Quartermaine"), and
  each part alone as a whole word ("Quartermaine", "Zebedee");
* a reference matches with its separators spaced, changed or dropped ("4399 / 15OCT26", "CAD 4399-15oct26"
  for CAD:4399/15OCT26), and a part of it with at least five digits alone ("CRIMINT 99887766" → "99887766");
* a research summary of three words or more matches as a whole phrase.

A part alone is not matched when it is shorter than three letters, a rank or title (PC, DC, Insp), or one
of the 6,900 commonest English words (templates/guard/common-words.txt: a surname such as Park or Smith, a
first name such as Ray or John, "Never" and "Captured"): these would refuse ordinary English ("a ray of
light", "the park") for any text, since every task's names are checked; such names are still caught whole,
surname first, or after an initial. Matching is by whole words, so "Lee" is not found in "fleeing".

The keys each value is found by are kept in the table `guard_keys`, indexed, so that a check costs a few
lookups for the words of the text however many tasks the home holds. Triggers note every row added or
changed in `guard_dirty` and drop the keys of a row deleted (a purge leaves none behind); the keys of
noted rows are made before the next check. A key found is checked again against the row as it is now.
Officers' names come from the roster in config.toml, read with the settings.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Iterable

from . import resources
from .errors import InputError

SUBJECT, REFERENCE, RESEARCH, APPLICANT, OFFICER, HOST = (
    "subject", "reference", "research", "applicant", "officer", "host")
ALL_KINDS = frozenset({SUBJECT, REFERENCE, RESEARCH, APPLICANT, OFFICER, HOST})
# What may not enter the audit chain, which is never purged: subjects' personal data and police
# information. Officers' and applicants' names are in the chain already, as who did what.
AUDIT_KINDS = frozenset({SUBJECT, REFERENCE, RESEARCH})

MIN_PART = 3        # a name part shorter than this is not matched alone
MIN_WHOLE = 4       # nor a whole value shorter than this (its words run together)
REF_DIGITS = 5      # a part of a reference is matched alone when it has this many digits
LEAD = 3            # research summaries are found by their first three words, then compared whole
MAX_SPAN = 6        # the most words of a text run together to find a name or reference written across them
MAX_JOINED = 48     # …and the most characters
START = 4           # the letters of a b key (see with_starts)

RANKS = {"pc", "ps", "dc", "ds", "di", "dci", "dsu", "dcs", "sgt", "insp", "ch", "chief", "supt", "det", "cst",
         "inspector", "sergeant", "constable", "detective", "superintendent", "mr", "mrs", "ms", "miss", "mx",
         "dr", "sir"}


@functools.cache
def common_words() -> frozenset[str]:
    """Common English words (templates/guard/common-words.txt), not matched alone as a name's part."""
    path = resources.templates_dir() / "guard" / "common-words.txt"
    return frozenset(line.strip() for line in path.read_text(encoding="utf-8").splitlines()
                     if line.strip() and not line.startswith("#"))


_DROP = dict.fromkeys(map(ord, "\u00ad\u034f\u061c\u180e\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063"
                                "\u2064\ufeff'\u2019\u02bc\u0060\u00b4"), None)
_WORD = re.compile(r"[^\W_]+")
_POSSESSIVE = re.compile(r"(?<=\w)['\u2019\u02bc]s\b", re.IGNORECASE)  # "Brandwell's" is Brandwell's name


def normalise(text: str) -> str:
    """NFKC, accents and zero-width characters dropped, a possessive 's and then apostrophes dropped, case
    folded, one space between words, every other punctuation mark a break: "O’Brien's, Zé\u200bbedee" →
    "obrien zebedee"."""
    text = _POSSESSIVE.sub("", unicodedata.normalize("NFKC", str(text or ""))).translate(_DROP).casefold()
    if not text.isascii():
        text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(_WORD.findall(text))


def words(text: str) -> list[str]:
    return normalise(text).split()


# ------------------------------------------------------------------------------- the keys of a value
# A key is a kind letter and a string: s (one word), j (words run together), i (initial and later part),
# p (the first words of a phrase).

def name_keys(name: str) -> set[str]:
    raw = (name or "").split()
    while raw and normalise(raw[0]).replace(" ", "") in RANKS:
        raw = raw[1:]  # "PC Sam Okafor", "Ch. Insp Ray Diaz": the rank is no part of the name
    parts = [p for p in (words(w) for w in raw) if p]
    flat = [t for p in parts for t in p]
    keys: set[str] = set()
    if len(flat) > 1 and len("".join(flat)) >= MIN_WHOLE:
        keys.add("j" + "".join(flat))
        keys.add("j" + "".join(t for p in parts[-1:] + parts[:-1] for t in p))  # "Surname, Firstname"
    keys.update("j" + "".join(p) for p in parts if len(p) > 1)  # "Quartermaine-Smith", joined or spaced
    # a common word alone is left to the matching (text_keys), so the word list may change without
    # making the stored keys again
    keys.update("s" + t for t in flat if len(t) >= MIN_PART and t not in RANKS and not t.isdigit())
    for g, given in enumerate(parts[:-1]):  # "Z. Quartermaine"
        keys.update(f"i{given[0][0]} {later[0]}" for later in parts[g + 1:])
    return keys


def reference_keys(reference: str, system: str | None = None) -> set[str]:
    flat = words(reference)
    whole = "".join(flat)
    if len(whole) < MIN_WHOLE:
        return set()
    keys = {("s" if len(flat) == 1 else "j") + whole}
    prefix = "".join(words(system or ""))
    if prefix and not whole.startswith(prefix):
        keys.add("j" + prefix + whole)  # "CAD4399/15OCT26"
    keys.update("s" + t for t in flat if t != whole and sum(c.isdigit() for c in t) >= REF_DIGITS)
    return keys


def phrase_keys(text: str) -> set[str]:
    flat = words(text)
    return {"p" + " ".join(flat[:LEAD])} if len(flat) >= LEAD else set()


def host_keys(host: str) -> set[str]:
    flat = words(re.sub(r"^www\.", "", (host or "").strip().lower()))
    return {"j" + "".join(flat)} if len(flat) > 1 else set()


def with_starts(keys: set[str]) -> set[str]:
    """`keys` and, for each key of words run together, a b key of its first letters: a text is looked at
    for words run together only where such a start is found, which keeps a check to two short lookups.
    (Stored keys need none: a start is looked up there as a range of j keys.)"""
    return keys | {"b" + k[1:1 + START] for k in keys if k[0] == "j"}


def text_keys(tokens: list[str]) -> tuple[dict[str, int], dict[str, list[int]]]:
    """The s, i and p keys a text could be found by, with the word each starts at (the first, where it
    recurs); and the b key of the letters at each word, with the words it is at."""
    found: dict[str, int] = {}
    starts: dict[str, list[int]] = {}
    common = common_words()
    count = len(tokens)
    for i in range(count - 1, -1, -1):  # backwards, so that the first place a key starts at is kept
        token = tokens[i]
        if token not in common:
            found["s" + token] = i
        if len(token) == 1 and i + 1 < count:
            found[f"i{token} {tokens[i + 1]}"] = i
        if i + LEAD <= count:
            found["p" + " ".join(tokens[i:i + LEAD])] = i
        head, j = token, i + 1
        while len(head) < START and j < count:
            head, j = head + tokens[j], j + 1
        if len(head) >= START:
            starts.setdefault("b" + head[:START], []).insert(0, i)
    return found, starts


def span_keys(tokens: list[str], places: Iterable[int]) -> dict[str, int]:
    """The j keys of the words run together from each of `places`."""
    found: dict[str, int] = {}
    count = len(tokens)
    for i in sorted(set(places), reverse=True):
        joined, size = "j" + tokens[i], len(tokens[i])
        found[joined] = i
        for j in range(i + 1, min(count, i + MAX_SPAN)):
            size += len(tokens[j])
            if size > MAX_JOINED:
                break
            joined += tokens[j]
            found[joined] = i
    return found


# ------------------------------------------------------------------------------------------- sources

@dataclass(frozen=True)
class Source:
    """Where values of one kind are kept, and how their keys are made."""

    code: int
    kind: str
    table: str
    task: str     # the column naming the task (NULL where the kind is not a task's)
    value: str
    other: str    # a second column the keys need (the reference's system), or NULL

    def keys(self, value, other) -> set[str]:
        if not value:
            return set()
        if self.kind in (SUBJECT, APPLICANT):
            return name_keys(value)
        if self.kind == HOST:
            return host_keys(value) if "." in value else set()
        if self.code == 4:
            return phrase_keys(value)
        return reference_keys(value, other)


SOURCES = {s.code: s for s in (
    Source(1, SUBJECT, "subjects", "task_id", "name", "NULL"),
    Source(2, REFERENCE, "incident_refs", "task_id", "reference", "system"),
    Source(3, RESEARCH, "indices_research", "task_id", "reference", "NULL"),
    Source(4, RESEARCH, "indices_research", "task_id", "summary", "NULL"),
    Source(5, APPLICANT, "tasks", "NULL", "applicant_name", "NULL"),
    Source(6, HOST, "tasks", "id", "platform", "NULL"),
)}
# The codes and columns must agree with the triggers of migration m008_guard_keys (ground/migrations/after_0_1_0.py).


def refresh(db) -> None:
    """Make the keys of the rows noted since the last check (all of them, the first time)."""
    if db.execute("SELECT 1 FROM guard_dirty LIMIT 1").fetchone() is None:
        return
    from .db import insert_rows, transaction

    with transaction(db):
        noted: dict[str, set[int]] = {}
        for table, row in db.execute("SELECT tab, row FROM guard_dirty"):
            noted.setdefault(table, set()).add(row)
        for table, rows in noted.items():
            sources = [s for s in SOURCES.values() if s.table == table]
            ordered = sorted(rows)
            for start in range(0, len(ordered), 500):
                chunk = ordered[start:start + 500]
                marks = ",".join("?" * len(chunk))
                codes = ",".join(str(s.code) for s in sources)
                db.execute(f"DELETE FROM guard_keys WHERE row IN ({marks}) AND src IN ({codes})", chunk)
                cols = ", ".join(f"{s.value}, {s.other}" for s in sources)
                keys = []
                for rowid, *values in db.execute(f"SELECT rowid, {cols} FROM {table} WHERE rowid IN ({marks})", chunk):
                    for n, source in enumerate(sources):
                        keys += [{"key": k, "src": source.code, "row": rowid}
                                 for k in source.keys(values[2 * n], values[2 * n + 1])]
                insert_rows(db, "guard_keys", keys)
        db.execute("DELETE FROM guard_dirty")


# ------------------------------------------------------------------------------------------ matching

@dataclass(frozen=True)
class Hit:
    """One sensitive value found: its kind, the task it belongs to (None for officers and applicants), the
    value as recorded (for police-only messages: a line about an outward text must not repeat it), and the
    key it was found by."""

    kind: str
    task_id: str | None
    value: str
    key: str = field(compare=False, default="")
    at: int = field(compare=False, default=0)

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
    """Finds the sensitive values a text holds: those of the home's database when it has one, the roster's
    officers, and any added here (a review's research, not yet written)."""

    def __init__(self, db=None, officers: Iterable = ()):
        self.db = db
        self.memory: dict[str, list[tuple[str, str | None, str, str]]] = {}  # key → (kind, task, value, full)
        # what the database answered for each key and start asked before: a guard reads the keys as they
        # stood when it was made (for_context brings them up to date), and a batch asks the same words again
        self._stored: dict[str, list[tuple[int, int]]] = {}   # key → (src, row) of guard_keys
        self._started: dict[str, bool] = {}                   # j-key start → whether any stored key has it
        self._found: dict[tuple[str, frozenset], list[Hit]] = {}
        for officer in officers:
            self._remember(OFFICER, None, officer.name, name_keys(officer.name))

    def _remember(self, kind: str, task_id: str | None, value: str, keys: set[str], full: str = "") -> None:
        self._found.clear()   # what a text was found to hold may change with a value added
        for key in with_starts(keys):
            self.memory.setdefault(key, []).append((kind, task_id, value, full))

    def add_name(self, kind: str, task_id: str | None, name: str) -> None:
        self._remember(kind, task_id, name.strip(), name_keys(name))

    def add_reference(self, kind: str, task_id: str | None, reference: str, system: str | None = None) -> None:
        self._remember(kind, task_id, reference.strip().upper(), reference_keys(reference, system))

    def find(self, text: str, kinds: Iterable[str] = ALL_KINDS) -> list[Hit]:
        """Every sensitive value the text holds, of the kinds asked for, in the order of the text."""
        kinds = frozenset(kinds)
        if self.db is not None:  # a batch holds the same texts again and again (a task's public words…)
            known = self._found.get((text, kinds))
            if known is None:
                if len(self._found) >= 20_000:
                    self._found.clear()
                known = self._found[(text, kinds)] = self._find(text, kinds)
            return list(known)
        return self._find(text, kinds)

    def _find(self, text: str, kinds: frozenset) -> list[Hit]:
        tokens = words(text)
        if not tokens:
            return []
        found, starts = text_keys(tokens)
        hits, places = self._lookup({**found, **{b: at[0] for b, at in starts.items()}}, tokens, kinds)
        if places:  # words run together, looked at only from where a start of one was found
            spans, _ = self._lookup(span_keys(tokens, (i for b in places for i in starts[b])), tokens, kinds)
            hits += spans
        seen: set = set()
        hits.sort(key=lambda h: h.at)
        return [h for h in hits if not ((h.kind, h.task_id, h.key) in seen or seen.add((h.kind, h.task_id, h.key)))]

    def _lookup(self, candidates: dict[str, int], tokens: list[str], kinds: frozenset) -> tuple[list[Hit], set[str]]:
        """The hits among `candidates`, from memory and the database; and the b keys found."""
        places = {key for key in candidates.keys() & self.memory.keys() if key[0] == "b"}
        hits = [Hit(kind, task_id, value, key, candidates[key])
                for key in candidates.keys() & self.memory.keys() if key[0] != "b"
                for kind, task_id, value, _ in self.memory[key] if kind in kinds]
        if self.db is None:
            return hits, places
        codes = [s.code for s in SOURCES.values() if s.kind in kinds]
        if not codes:
            return hits, places
        keys = [k for k in candidates if k[0] != "b"]
        asked = [k for k in keys if k not in self._stored]
        if asked:
            for key in asked:
                self._stored[key] = []
            for key, src, row in self.db.execute(
                    "SELECT key, src, row FROM guard_keys WHERE key IN (SELECT value FROM json_each(?))",
                    [json.dumps(asked)]):
                self._stored[key].append((src, row))
        found: dict[int, dict[int, set[str]]] = {}
        wanted = set(codes)
        for key in keys:
            for src, row in self._stored[key]:
                if src in wanted:
                    found.setdefault(src, {}).setdefault(row, set()).add(key)
        starts = ["j" + k[1:] for k in candidates if k[0] == "b"]
        asked = [k for k in starts if k not in self._started]
        if asked:  # a start is found as any j key that begins with it: one index probe each
            for key in asked:
                self._started[key] = False
            for (key,) in self.db.execute(
                    "SELECT c.value FROM json_each(?) AS c WHERE EXISTS (SELECT 1 FROM guard_keys "
                    "WHERE key >= c.value AND key < c.value || char(1114111))", [json.dumps(asked)]):
                self._started[key] = True
        places.update("b" + k[1:] for k in starts if self._started[k])
        for src, rows in found.items():
            source = SOURCES[src]
            ids = sorted(rows)
            stored = []
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                stored += self.db.execute(
                    f"SELECT rowid, {source.task}, {source.value}, {source.other} FROM {source.table} "
                    f"WHERE rowid IN ({','.join('?' * len(chunk))})", chunk).fetchall()
            for rowid, task_id, value, other in stored:
                current = source.keys(value, other)  # the row as it is now, not as it was indexed
                for key in rows[rowid] & current:
                    if key[0] == "p" and not _holds(tokens, words(value), candidates[key]):
                        continue
                    shown = value.strip().upper() if source.kind in (REFERENCE, RESEARCH) and src != 4 else value
                    hits.append(Hit(source.kind, task_id, shown, key, candidates[key]))
        return hits, places

    def first(self, text: str, *, public: str = "", kinds: Iterable[str] = ALL_KINDS) -> Hit | None:
        """The first sensitive value in `text` that `public` (what the content itself shows, the team's
        own name…) does not show; None when there is none."""
        hits = self.find(text, kinds)
        if not hits:
            return None
        shown = {(h.kind, h.key) for h in self.find(public, kinds)} if public else set()
        return next((h for h in hits if (h.kind, h.key) not in shown), None)


def _holds(tokens: list[str], phrase: list[str], at: int) -> bool:
    return tokens[at:at + len(phrase)] == phrase


def for_context(ctx) -> Guard:
    """The guard of the home `ctx` is open on (SOP 6.3, 6.4), its keys brought up to date first."""
    refresh(ctx.db)
    return Guard(ctx.db, ctx.settings.officers)


def check_reason(ctx, text: str | None, flag: str = "--reason") -> None:
    """Refuse (InputError, nothing written) a free-text reason naming a subject, an incident reference or
    indices research: it goes into the audit chain, which can never be purged (DPA 2018 s.62, SOP 2.2)."""
    if not text or not text.strip():
        return
    hit = for_context(ctx).first(text, kinds=AUDIT_KINDS)
    if hit:
        raise InputError(f"{flag} holds {hit.what()}: it is written to the audit chain, which is never purged and "
                         "must not hold it; reword it, e.g. name the task by its id.")
