"""One guard for everything that leaves (issue 11, point 4; SOP 6.3, 6.4, 6.5): every wording of every kind
of sensitive value — of this task or another — fed to every outward path (referral draft, appeal, export
without --include-sensitive, quarterly report, reasons and other free texts written to the audit chain) is
refused or kept out, and ordinary text is not."""

from __future__ import annotations

import json
import sqlite3

import pytest

from ohrt_cli.ground import sensitive
from support.governance import at
from support.refer import (CONSTABLE, SERGEANT, add_task, approve, as_officer, clause_for, draft, real_contacts,
                           reviewed_task, sent)

SUBJECTS = ("Zebedee Quartermaine", "Ottilie Vexley-Brandt")
REF = "CAD:4399/15OCT26"
RESEARCH = "Aware|CRIMINT 99887766|2026-01-03|Linked to the stabbing outside the Peckham library"
APPLICANT = "DC Persephone Rae"
OTHER_SUBJECT, OTHER_REF = "Ottoline Pemberton", "CRIS:4277777/26"
HOST = "drillforum.example.org"
SEEDCAP = ("PC Sam Seedcap", "7782")

# (what the wording is, the text an officer writes, the kind of value it carries). The first ten are the
# wordings the issue found reaching a platform-bound draft.
WORDINGS = [
    ("surname alone", "Quartermaine taunts a rival", "subject", "Quartermaine"),
    ("first name alone", "Zebedee taunts a rival", "subject", "Zebedee"),
    ("initial and surname", "Z. Quartermaine taunts a rival", "subject", "Quartermaine"),
    ("hyphenated name", "Vexley-Brandt taunts a rival", "subject", "Vexley-Brandt"),
    ("surname, first name", "Quartermaine, Zebedee taunts a rival", "subject", "Quartermaine"),
    ("zero-width space inside", "Zebe\u200bdee Quartermaine taunts a rival", "subject", "Zebedee"),
    ("officer's surname alone", "Seedcap saw it first", "officer", "Seedcap"),
    ("reference spaced", "as in 4399 / 15OCT26", "reference", "4399/15OCT26"),
    ("another task's subject", "Pemberton taunts a rival", "subject", "Pemberton"),
    ("another task's reference", "as in CRIS 4277777 / 26", "reference", "4277777"),
    ("whole name", "Zebedee Quartermaine taunts a rival", "subject", "Quartermaine"),
    ("capitals and accents", "ZÉBÉDÉE QUARTERMAINE taunts a rival", "subject", "Quartermaine"),
    ("full-width letters", "\uff31\uff55\uff41\uff52\uff54\uff45\uff52\uff4d\uff41\uff49\uff4e\uff45 taunts a rival",
     "subject", "Quartermaine"),
    ("hyphenated name run together", "VexleyBrandt taunts a rival", "subject", "Vexley"),
    ("reference run together", "as in CAD4399-15oct26", "reference", "4399/15OCT26"),
    ("number of an indices reference", "intelligence 99887766 shows it", "research", "99887766"),
    ("indices research summary", "he was linked to the stabbing outside the Peckham library", "research", "Peckham"),
    ("applicant's name", "Persephone asked for this", "applicant", "Persephone"),
    ("officer's whole name", "as PC Sam Seedcap saw", "officer", "Seedcap"),
    ("host name given as a platform", "reposted on drillforum.example.org", "host", "drillforum"),
]
AUDITED = {"subject", "reference", "research"}  # what the audit chain and an evidence package may not hold
# Ordinary texts the guard must let through although the roster holds Ann Lee, Ray Diaz and Sam Okafor
ORDINARY = [
    "Names a rival and mocks his injuries",
    "Shows the hand signs of a named group throughout",
    "A ray of light falls on the park bench at 00:42",
    "The second verse threatens a rival by name; posted on 15 October 2026",
    "Sam-style lyrics about fleeing the scene, never captured on camera before",
]


def one_line_refusal(result) -> str:
    assert result.exit_code == 2, f"exit {result.exit_code}: {result.stdout} {result.stderr}"
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def holds(text: str, mark: str) -> bool:
    """Whether `text` carries `mark` in any spacing, case or punctuation."""
    return sensitive.normalise(mark).replace(" ", "") in sensitive.normalise(text).replace(" ", "")


@pytest.fixture
def home(ohrt):
    """A home whose task A carries two subjects, an incident reference, indices research and an applicant;
    task B another subject and reference; task C a platform given as a host name; and PC Sam Seedcap on
    the roster."""
    real_contacts(ohrt)
    ohrt.ok("officer", "add", SEEDCAP[0], "--number", SEEDCAP[1], "--role", "constable")
    task_a = add_task(ohrt, "instagram", *[a for s in SUBJECTS for a in ("--subject", s)], "--ref", REF)
    ohrt.db().execute("UPDATE tasks SET applicant_name = ? WHERE id = ?", [APPLICANT, task_a])
    ohrt.db().conn.commit()
    ohrt.ok("review", "research", task_a, "--system", "Aware", "--reference", "CRIMINT 99887766", "--date",
            "2026-01-03", "--summary", RESEARCH.split("|")[-1])
    task_b = add_task(ohrt, "tiktok", "--subject", OTHER_SUBJECT, "--ref", OTHER_REF)
    task_c = ohrt.ok("task", "add", "--url", "https://drillforum.example.org/t/123", "--platform", HOST,
                     "--title", "Thread", "--applicant", "DC Rae", "--ocu", "North", "--unit", "CID",
                     "--uploaded", "2026-01-02", "--rationale", "Threats").stdout.strip()
    return ohrt, {"a": task_a, "b": task_b, "c": task_c}


def review_note(ohrt, task_id: str, note: str, *extra: str):
    return ohrt("review", task_id, "--decision", "refer", "--format", "music-video", "--clause",
                clause_for(ohrt, "instagram"), "--finding", f"provocative-language|{note}", "--no-capture",
                "--reason", "Content deleted before capture", *extra, env=as_officer(CONSTABLE))


def sent_and_not_removed(ohrt, task_id: str) -> str:
    referral = draft(ohrt, task_id)
    approve(ohrt, referral["id"])
    sent(ohrt, referral["id"])
    ohrt.ok("refer", "outcome", referral["id"], "--not-removed", env=as_officer(CONSTABLE))
    return referral["id"]


def test_every_wording_is_kept_out_of_a_referral_draft(home):
    ohrt, tasks = home
    for what, wording, kind, mark in WORDINGS:
        recorded = review_note(ohrt, tasks["a"], wording)
        if recorded.exit_code == 2:  # a police reference is refused at the review already
            assert kind in ("reference", "research"), what
            assert "police reference" in one_line_refusal(recorded), what
            continue
        assert recorded.exit_code == 0, (what, recorded.stderr)
        line = one_line_refusal(ohrt("refer", "draft", tasks["a"], env=as_officer(CONSTABLE)))
        assert "finding 1's note" in line and "SOP 6.4" in line, (what, line)
        assert not holds(line, mark), (what, line)  # the error does not repeat it
    assert ohrt.db()["referrals"].count == 0
    folder = ohrt.home / "referrals"
    assert not folder.exists() or not any(folder.rglob("*.*"))


def test_every_wording_is_kept_out_of_an_appeal(home):
    ohrt, tasks = home
    task_id = reviewed_task(ohrt, "instagram", "--allow-duplicate")
    referral = sent_and_not_removed(ohrt, task_id)
    for what, wording, kind, mark in WORDINGS:
        line = one_line_refusal(ohrt("refer", "appeal", referral, "--grounds", wording, env=as_officer(CONSTABLE)))
        assert "--grounds" in line and not holds(line, mark), (what, line)
    assert [r["id"] for r in ohrt.json("refer", "list", "--task", task_id)] == [referral]
    appeal = ohrt.json("refer", "appeal", referral, "--grounds", ORDINARY[3], env=as_officer(CONSTABLE))
    assert appeal["kind"] == "appeal"


def test_every_wording_of_police_information_is_kept_out_of_an_export(home, tmp_path):
    ohrt, tasks = home
    task_id = reviewed_task(ohrt, "instagram", "--allow-duplicate")
    referral = sent_and_not_removed(ohrt, task_id)
    out = tmp_path / "out"
    out.mkdir()
    for n, (what, wording, kind, mark) in enumerate(WORDINGS):
        # the platform's decision as the officer noted it goes into the package's referrals.json
        ohrt.db().execute("UPDATE referrals SET outcome_note = ? WHERE id = ?", [wording, referral])
        ohrt.db().conn.commit()
        (out / str(n)).mkdir()
        result = ohrt("export", task_id, "--to", str(out / str(n)), "--recipient", "DC Bloggs, OIC",
                      "--reason", "File for the CPS")
        if kind in AUDITED:
            line = one_line_refusal(result)
            assert "--include-sensitive" in line and not holds(line, mark), (what, line)
            assert not (out / str(n)).exists() or not any((out / str(n)).iterdir()), what
        else:  # officers' and applicants' names belong in the officer in the case's package
            assert result.exit_code == 0, (what, result.stderr)
    (out / "all").mkdir()
    sensitive_export = ohrt("export", task_id, "--to", str(out / "all"), "--recipient", "DC Bloggs, OIC",
                            "--reason", "File for the CPS", "--include-sensitive")
    assert sensitive_export.exit_code == 0, sensitive_export.stderr


def test_every_wording_is_refused_as_a_reason_for_the_audit_chain(home, tmp_path):
    ohrt, tasks = home
    closable = reviewed_task(ohrt, "instagram", "--allow-duplicate")
    sent_and_not_removed(ohrt, closable)
    plain = add_task(ohrt, "youtube")  # none of the values is its own: a review's error could quote those
    (tmp_path / "out").mkdir()
    before = ohrt.db()["audit"].count
    for what, wording, kind, mark in WORDINGS:
        if kind not in AUDITED:
            continue  # officers and applicants are named in the chain already, as who did what
        attempts = {
            "--reason of an export": ohrt("export", plain, "--to", str(tmp_path / "out"), "--recipient",
                                          "DC Bloggs, OIC", "--reason", wording),
            "--recipient of an export": ohrt("export", plain, "--to", str(tmp_path / "out"), "--recipient",
                                             f"{wording}, Trident", "--reason", "File for the CPS"),
            "--reason of a task closed": ohrt("refer", "close", closable, "--reason", wording,
                                              env=as_officer(CONSTABLE)),
            "--reason of a capture": ohrt("capture", "new", "http://127.0.0.1:9/clip.mp4", "--reason", wording,
                                          env=as_officer(CONSTABLE)),
            "--reason of a capture opened": ohrt("capture", "open", "C-2026-000001", "--reason", wording,
                                                 env=as_officer(CONSTABLE)),
            "--reason of a hold": ohrt("library", "hold", "L-2026-000001", "--investigation", "Op Quenby",
                                       "--reason", wording, env=as_officer(SERGEANT)),
            "--reason of a release": ohrt("library", "release", "L-2026-000001", "--reason", wording,
                                          env=as_officer(SERGEANT)),
            "--reason of an nfa review": ohrt("review", plain, "--decision", "nfa", "--format", "video", "--reason", wording,
                                              "--no-capture", env=as_officer(CONSTABLE)),
        }
        for where, result in attempts.items():
            line = one_line_refusal(result)
            assert "audit chain" in line or "police reference" in line, (what, where, line)
            assert not holds(line, mark), (what, where, line)
    chain = " ".join(f"{r} {d}" for r, d in ohrt.db().execute("SELECT reason, detail FROM audit"))
    for what, wording, kind, mark in WORDINGS:
        if kind in AUDITED:
            assert not holds(chain, mark), what
    assert ohrt.db()["audit"].count == before  # nothing was written
    ohrt.ok("refer", "close", closable, "--reason", "No grounds for appeal", env=as_officer(CONSTABLE))
    ohrt.ok("audit", "verify")


def test_every_wording_is_refused_as_a_leavers_reason_or_a_hash_lists_source_and_provenance(home, tmp_path):
    """`officer disable --reason` and `library import-hashes --source` / `--provenance` are written to the audit
    chain too: one naming a subject, an incident reference or indices research is refused, and nothing changes."""
    ohrt, tasks = home
    signals = tmp_path / "signals.txt"
    signals.write_text("pdq " + "f0" * 32 + "\n", encoding="utf-8")
    roster = (ohrt.home / "config.toml").read_bytes()
    before = ohrt.db()["audit"].count
    for what, wording, kind, mark in WORDINGS:
        if kind not in AUDITED:
            continue
        attempts = {
            "--reason": ohrt("officer", "disable", SEEDCAP[1], "--reason", wording),
            "--source": ohrt("library", "import-hashes", signals, "--source", wording, env=as_officer(CONSTABLE)),
            "--provenance": ohrt("library", "import-hashes", signals, "--source", "GIFCT hash list", "--provenance",
                                 f"received by email: {wording}", env=as_officer(CONSTABLE)),
        }
        for flag, result in attempts.items():
            line = one_line_refusal(result)
            assert line.startswith(f"error: {flag} holds ") and "audit chain" in line, (what, flag, line)
            assert not holds(line, mark), (what, flag, line)
    assert ohrt.db()["audit"].count == before  # nothing was written
    assert (ohrt.home / "config.toml").read_bytes() == roster  # the officer is still on the team
    assert ohrt.db()["hash_sources"].count == 0
    assert not ohrt.db().execute("SELECT 1 FROM library_items WHERE source = 'import'").fetchall()
    ohrt.ok("officer", "disable", SEEDCAP[1], "--reason", "moved to CID")
    imported = ohrt.json("library", "import-hashes", signals, "--source", "GIFCT hash list", "--provenance",
                         "received by email on 2 January", env=as_officer(CONSTABLE))
    assert len(imported["added"]) == 1 and imported["provenance"] == "received by email on 2 January"
    ohrt.ok("audit", "verify")


def test_every_wording_is_withheld_from_the_quarterly_report(ohrt):
    """The report shows OCU / unit and platform names: one naming a sensitive value is not named (6.5)."""
    ohrt.ok("officer", "add", SEEDCAP[0], "--number", SEEDCAP[1], "--role", "constable")
    july = at("2026-07-01T09:00:00")
    ohrt.ok("task", "add", "--url", "https://www.youtube.com/watch?v=abc123", "--title", "Drill", "--applicant",
            APPLICANT, "--ocu", "North", "--unit", "CID", "--uploaded", "2026-06-30", "--rationale", "x",
            *[a for s in SUBJECTS for a in ("--subject", s)], "--ref", REF, "--subject", OTHER_SUBJECT,
            "--ref", OTHER_REF, env=july)
    ohrt.ok("review", "research", "T-2026-000001", "--system", "Aware", "--reference", "CRIMINT 99887766",
            "--date", "2026-07-01", "--summary", RESEARCH.split("|")[-1], env={**july, "OHRT_OFFICER": SERGEANT})
    for n, (what, wording, kind, mark) in enumerate(WORDINGS):
        ohrt.ok("task", "add", "--url", f"https://www.youtube.com/watch?v=w{n:04d}", "--title", "Drill",
                "--applicant", "DC Rae", "--ocu", "North", "--unit", wording, "--uploaded", "2026-06-30",
                "--rationale", "x", env=july)
    ohrt.ok("task", "add", "--url", "https://drillforum.example.org/t/1", "--platform", HOST, "--title", "T",
            "--applicant", "DC Rae", "--ocu", "North", "--unit", "CID", "--uploaded", "2026-06-30",
            "--rationale", "x", env=july)
    after = {"OHRT_OFFICER": SERGEANT, **at("2026-10-05T09:00:00")}
    report = json.loads(ohrt.ok("report", "--quarter", "2026Q3", "--format", "json", env=after).stdout)
    received = next(f for f in report["figures"] if f["id"] == "received")
    assert received["this_quarter"] == 22
    keys = {by: [row["key"] for row in rows] for by, rows in received["breakdowns"].items()}
    assert "North / CID" in keys["ocu_unit"] and "not named (SOP 6.5)" in keys["ocu_unit"]
    # a platform given as a host name is outside the catalogue: counted as "other", never named
    assert sorted(keys["platform"]) == ["other", "youtube"]
    for fmt in ("md", "csv", "json", "html"):
        text = ohrt.ok("report", "--quarter", "2026Q3", "--format", fmt, env=after).stdout
        for what, wording, kind, mark in WORDINGS:
            assert not holds(text, mark), (fmt, what)


def test_ordinary_text_passes_every_path(home, tmp_path):
    ohrt, tasks = home
    for text in ORDINARY:
        recorded = review_note(ohrt, tasks["a"], text, "--basis", text)
        assert recorded.exit_code == 0, (text, recorded.stderr)
        ohrt.ok("refer", "draft", tasks["a"], env=as_officer(CONSTABLE))
    task_id = reviewed_task(ohrt, "instagram", "--allow-duplicate", findings=[f"provocative-language|{t}" for t in ORDINARY])
    referral = sent_and_not_removed(ohrt, task_id)
    for text in ORDINARY:
        ohrt.ok("refer", "appeal", referral, "--grounds", text, env=as_officer(CONSTABLE))
    (tmp_path / "out").mkdir()
    for text in ORDINARY:
        ohrt.ok("export", task_id, "--to", str(tmp_path / "out"), "--recipient", f"{text}, Trident", "--reason", text)
    closable = reviewed_task(ohrt, "instagram", "--allow-duplicate")
    sent_and_not_removed(ohrt, closable)
    ohrt.ok("refer", "close", closable, "--reason", ORDINARY[2], env=as_officer(CONSTABLE))
    ohrt.ok("review", tasks["b"], "--decision", "nfa", "--format", "video", "--reason", ORDINARY[4], "--no-capture",
            env=as_officer(CONSTABLE))


def test_a_subject_the_content_itself_names_may_be_quoted_but_not_another_tasks(home):
    ohrt, tasks = home
    task_id = add_task(ohrt, "instagram", "--allow-duplicate", "--subject", "Marlowe Finchley", title="Marlowe Finchley - Opps")
    assert review_note(ohrt, task_id, "Marlowe Finchley taunts a rival").exit_code == 0
    ohrt.ok("refer", "draft", task_id, env=as_officer(CONSTABLE))
    assert review_note(ohrt, task_id, "Marlowe Finchley taunts Quartermaine").exit_code == 0
    line = one_line_refusal(ohrt("refer", "draft", task_id, env=as_officer(CONSTABLE)))
    assert f"another task ({tasks['a']})" in line and "subject" in line


def test_the_guards_keys_follow_the_rows_and_a_deletion_leaves_none(home, tmp_path):
    ohrt, tasks = home
    out = tmp_path / "out"
    out.mkdir()
    one_line_refusal(ohrt("export", tasks["b"], "--to", str(out), "--recipient", "DC Bloggs, OIC", "--reason",
                          "Pemberton"))
    con = sqlite3.connect(ohrt.home / "ohrt.db")
    assert con.execute("SELECT COUNT(*) FROM guard_keys WHERE key = 'spemberton'").fetchone()[0] == 1
    con.execute("DELETE FROM subjects WHERE task_id = ?", [tasks["b"]])
    con.execute("UPDATE incident_refs SET reference = '4288888/26' WHERE task_id = ?", [tasks["b"]])
    con.commit()
    assert con.execute("SELECT COUNT(*) FROM guard_keys WHERE key LIKE '%pemberton%' OR key LIKE '%4277777%'"
                       ).fetchone()[0] == 0
    ok = ohrt("export", tasks["b"], "--to", str(out), "--recipient", "DC Bloggs, OIC", "--reason",
              "Pemberton, see 4277777/26")
    assert ok.exit_code == 0, ok.stderr
    refused = ohrt("export", tasks["b"], "--to", str(out), "--recipient", "DC Bloggs, OIC", "--reason",
                   "see CRIS 4288888/26")
    assert "police incident reference" in one_line_refusal(refused)


def test_the_connect_record_carries_no_subject_from_the_reviews_notes(home):
    """10.8 copies the Connect record into the Domain library, which must not become a list of names; the
    applicant's rationale is the police's own and goes in as it stands."""
    ohrt, tasks = home
    task_id = add_task(ohrt, "youtube", "--subject", "Jaxon Ferrabee")
    ohrt.db().execute("UPDATE tasks SET rationale = 'Ferrabee goads a rival group' WHERE id = ?", [task_id])
    ohrt.db().conn.commit()
    ohrt.ok("review", task_id, "--decision", "refer", "--format", "music-video", "--clause",
            clause_for(ohrt, "youtube"), "--finding", "provocative-language|Mocks a rival's injuries",
            "--no-capture", "--reason", "Content deleted before capture", env=as_officer(CONSTABLE))
    assert "Ferrabee goads" in ohrt.ok("intel", task_id, env=as_officer(CONSTABLE)).stdout
    ohrt.ok("review", task_id, "--decision", "refer", "--format", "music-video", "--clause",
            clause_for(ohrt, "youtube"), "--finding", "provocative-language|Quartermaine mocks a rival",
            "--no-capture", "--reason", "Content deleted before capture", env=as_officer(CONSTABLE))
    line = one_line_refusal(ohrt("intel", task_id, env=as_officer(CONSTABLE)))
    assert "Connect record" in line and f"another task ({tasks['a']})" in line and "Quartermaine" not in line
