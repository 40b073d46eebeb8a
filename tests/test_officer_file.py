"""The officer in the case's file: exhibit references (SO/1 …), the capturing officer's witness statement
(MG11), the exhibit list (MG12), exhibit labels with a QR code, and CASE/UCO provenance in the package —
all through the real CLI, the documents read back with python-docx, pdftotext and zbarimg."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import docx
import pytest

from support.home import TASK_ARGS, Ohrt, copy_home, new_home
from support.library import env, review, run_ohrt

URL = "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
SUBJECT = "Jaylen Marsh"
REF = "CAD:4321/14NOV26"
SENSITIVE = [SUBJECT, "Jaylen", "Marsh", "4321/14NOV26", "4321"]
CONSTABLE, SERGEANT = {"OHRT_OFFICER": "7781"}, {"OHRT_OFFICER": "2345"}
RECIPIENT, REASON = "DC Jo Bloggs, Trident Central", "Evidence for the CPS charging decision"


def docx_text(path: Path) -> str:
    """Every paragraph and table cell of a DOCX, as python-docx reads it."""
    document = docx.Document(str(path))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts += [cell.text for row in table.rows for cell in row.cells]
    for section in document.sections:
        parts += [p.text for p in section.header.paragraphs]
    return "\n".join(parts)


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def qr_of(pdf: Path, workdir: Path) -> str:
    """The QR code on the first page of a PDF, rendered with pdftoppm and decoded with zbarimg."""
    subprocess.run(["pdftoppm", "-r", "300", "-png", "-f", "1", "-l", "1", str(pdf), str(workdir / "page")],
                   check=True)
    [png] = sorted(workdir.glob("page*.png"))
    found = subprocess.run(["zbarimg", "--quiet", "--raw", str(png)], capture_output=True, text=True)
    assert found.returncode == 0, found.stderr
    return found.stdout.strip()


@pytest.fixture(scope="module")
def flow(tmp_path_factory, make_clip):
    """A home whose task (a subject and an incident reference; a rationale naming the subject) was captured
    twice by PC Sam Okafor, and a second task captured by PS Ann Lee and by him."""
    ohrt = new_home(tmp_path_factory.mktemp("officer-file") / "home")
    args = list(TASK_ARGS)
    args[args.index("--rationale") + 1] = f"Goads a rival group; {SUBJECT} is named in it"
    task = ohrt.ok("task", "add", "--url", URL, *args, "--subject", SUBJECT, "--ref", REF).stdout.strip()
    first = ohrt.json("capture", "--file", make_clip("officer-file-a", seconds=3), "--url", URL,
                      "--reason", "Screen recorded", "--no-derivatives", env=CONSTABLE)
    second = ohrt.json("capture", "--file", make_clip("officer-file-b", seconds=3, freq=660), "--url", URL,
                       "--task", task, "--reason", "Recorded again", "--no-derivatives", env=CONSTABLE)
    other = ohrt.ok("task", "add", "--url", "https://www.youtube.com/watch?v=Other000001", *TASK_ARGS).stdout.strip()
    by_sergeant = ohrt.json("capture", "--file", make_clip("officer-file-c", seconds=3, freq=880), "--url",
                            "https://www.youtube.com/watch?v=Other000001", "--task", other, "--reason", "Recorded",
                            "--no-derivatives", env=SERGEANT)
    ohrt.json("capture", "--file", make_clip("officer-file-d", seconds=3, freq=990), "--url",
              "https://www.youtube.com/watch?v=Other000001", "--task", other, "--reason", "Recorded",
              "--no-derivatives", env=CONSTABLE)
    return ohrt, task, [first, second], other, by_sergeant


@pytest.fixture
def home(flow, tmp_path):
    ohrt, task, captures, other, by_sergeant = flow
    return copy_home(ohrt.home, tmp_path / "home"), task, captures, other, by_sergeant


def test_exhibit_references_are_the_officers_initials_and_a_running_number_given_once(home, tmp_path):
    ohrt, task, captures, other, by_sergeant = home
    assert ohrt.json("exhibit", "list") == []
    first = ohrt.json("exhibits", task, "--to", tmp_path, env=CONSTABLE)
    assert [(e["reference"], e["capture_id"], e["item"]) for e in first["exhibits"]] == [
        ("SO/1", captures[0]["id"], 1), ("SO/2", captures[1]["id"], 1)]
    again = ohrt.json("exhibits", task, "--to", tmp_path, env=SERGEANT)
    assert [e["reference"] for e in again["exhibits"]] == ["SO/1", "SO/2"]
    # The other task: PS Ann Lee's capture is AL/1, PC Sam Okafor's the next of his numbers.
    refs = {e["capture_id"]: e["reference"] for e in ohrt.json("exhibits", other, "--to", tmp_path)["exhibits"]}
    assert refs[by_sergeant["id"]] == "AL/1" and sorted(refs.values()) == ["AL/1", "SO/3"]
    listed = ohrt.json("exhibit", "list", "--task", task)
    assert [e["reference"] for e in listed] == ["SO/1", "SO/2"]
    assert listed[0]["sha256"] == captures[0]["files"][0]["sha256"] and listed[0]["officer"] == "7781"
    assert listed[0]["officer_name"] == "PC Sam Okafor" and listed[0]["seized_at"] == captures[0]["finished_at"]
    assigned = [e for e in ohrt.json("audit", "list") if e["action"] == "exhibit.assign"]
    assert len(assigned) == 4 and {e["detail"]["reference"] for e in assigned} == {"SO/1", "SO/2", "SO/3", "AL/1"}
    # Never changed by hand either: the database refuses it.
    with sqlite3.connect(ohrt.home / "ohrt.db") as db, pytest.raises(sqlite3.IntegrityError, match="never changed"):
        db.execute("UPDATE exhibits SET number = 9 WHERE reference = 'SO/1'")
    table = ohrt.ok("exhibit", "list").stdout
    assert "SO/1" in table and "AL/1" in table


def test_statement_holds_every_hash_and_reference_and_nothing_sensitive(home, tmp_path):
    ohrt, task, captures, _, _ = home
    result = ohrt.json("statement", task, "--to", tmp_path, env=CONSTABLE)
    assert result["officer"] == "7781" and result["exhibits"] == ["SO/1", "SO/2"]
    docx_path, pdf_path = Path(result["docx"]), Path(result["pdf"])
    assert docx_path.name == f"{task}-statement-7781-{docx_path.name.split('-7781-')[1]}" and pdf_path.suffix == ".pdf"
    manifests = [ohrt.json("capture", "show", c["id"])["manifest_sha256"] for c in captures]
    words, printed = docx_text(docx_path), pdf_text(pdf_path)
    for text in (words, printed):
        for capture in captures:
            original = next(f for f in capture["files"] if f["role"] == "original")
            assert original["sha256"] in text and original["md5"] in text
        for digest in manifests:
            assert digest in text
        for expected in ("SO/1", "SO/2", "Criminal Justice Act 1967, s. 9", "Signature:", "Date:", "PC Sam Okafor",
                         "DC Rae", URL, "sha256sum -c SHA256SUMS", "Continuity",
                         "Trusted timestamp: ________________ [trusted time: none recorded]"):
            assert expected in text, expected
        for secret in SENSITIVE:
            assert secret not in text, secret
        assert "[withheld: the reason for the request]" in text  # the rationale names the subject
    entry = [e for e in ohrt.json("audit", "list") if e["action"] == "evidence.statement"][-1]
    assert entry["object_id"] == task and entry["detail"]["include_sensitive"] is False
    assert {f["sha256"] for f in entry["detail"]["files"]} == {f["sha256"] for f in result["files"]}


def test_statement_with_include_sensitive_names_subjects_and_references(home, tmp_path):
    ohrt, task, _, _, _ = home
    result = ohrt.json("statement", task, "--to", tmp_path, "--include-sensitive", env=CONSTABLE)
    words = docx_text(Path(result["docx"]))
    assert SUBJECT in words and REF in words and "Goads a rival group" in words
    assert SUBJECT in pdf_text(Path(result["pdf"]))


def test_a_record_removed_from_the_database_is_a_visible_blank(home, tmp_path):
    ohrt, task, captures, _, _ = home
    ohrt.json("exhibits", task, "--to", tmp_path, env=CONSTABLE)
    original = next(f for f in captures[0]["files"] if f["role"] == "original")
    with sqlite3.connect(ohrt.home / "ohrt.db") as db:
        db.execute("DELETE FROM capture_files WHERE capture_id = ? AND role = 'original'", [captures[0]["id"]])
        db.execute("UPDATE tasks SET applicant_name = NULL WHERE id = ?", [task])
    result = ohrt.json("statement", task, "--to", tmp_path, env=CONSTABLE)
    for text in (docx_text(Path(result["docx"])), pdf_text(Path(result["pdf"]))):
        assert original["sha256"] not in text and "DC Rae" not in text
        assert "[not recorded: the applicant's name]" in text
        assert "Exhibit SO/1: ________________ [not recorded: the original file's record]" in text
    mg12 = ohrt.json("exhibits", task, "--to", tmp_path)
    listed = pdf_text(Path(mg12["pdf"]))
    assert "[not recorded: SHA-256]" in listed and original["sha256"] not in listed


def test_statement_of_several_capturing_officers_needs_officer(home, tmp_path):
    ohrt, _, _, other, _ = home
    refused = ohrt("statement", other, "--to", tmp_path, env=CONSTABLE)
    assert refused.exit_code == 2 and "--officer" in refused.stderr and "PS Ann Lee" in refused.stderr
    wrong = ohrt("statement", other, "--officer", "9001", "--to", tmp_path, env=CONSTABLE)
    assert wrong.exit_code == 2 and "captured nothing" in wrong.stderr
    missing = ohrt("exhibits", other, "--to", tmp_path / "nowhere", env=CONSTABLE)
    assert missing.exit_code == 2 and "does not exist" in missing.stderr
    assert not list(tmp_path.glob("*.docx")) and ohrt.json("exhibit", "list") == []  # refused: nothing given
    made = ohrt.json("statement", other, "--officer", "PS Ann Lee", "--to", tmp_path, env=CONSTABLE)
    text = docx_text(Path(made["docx"]))
    assert "Statement of: PS Ann Lee" in text and "AL/1" in text and "by PC Sam Okafor (7781, constable)" in text


def test_exhibit_list_mg12_in_docx_and_pdf(home, tmp_path):
    ohrt, task, captures, _, _ = home
    result = ohrt.json("exhibits", task, "--to", tmp_path, env=CONSTABLE)
    for text in (docx_text(Path(result["docx"])), pdf_text(Path(result["pdf"]))):
        assert "Exhibit list (MG12)" in text and "Where found" in text
        for capture, ref in zip(captures, ("SO/1", "SO/2")):
            assert ref in text and capture["files"][0]["sha256"] in text
        for secret in SENSITIVE:
            assert secret not in text


def test_label_qr_code_decodes_to_the_reference_and_hash(home, tmp_path):
    ohrt, task, captures, _, _ = home
    missing = ohrt("exhibit", "label", "SO/1", "--to", tmp_path, env=CONSTABLE)
    assert missing.exit_code == 2 and "ohrt exhibits TASK" in missing.stderr
    ohrt.json("exhibits", task, "--to", tmp_path, env=CONSTABLE)
    bad = ohrt("exhibit", "label", "not a ref", env=CONSTABLE)
    assert bad.exit_code == 2 and "e.g. SO/1" in bad.stderr
    label = ohrt.json("exhibit", "label", "so / 2", "--to", tmp_path, env=CONSTABLE)
    sha = captures[1]["files"][0]["sha256"]
    assert label["qr"] == f"SO/2 sha256:{sha}"
    pdf = Path(label["label"])
    assert qr_of(pdf, tmp_path) == f"SO/2 sha256:{sha}"
    text = pdf_text(pdf)
    assert "Exhibit SO/2" in text and "PC Sam Okafor" in text and sha[:32] in text and sha[32:] in text
    assert subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout.count("Pages:           1")


def test_documents_go_to_home_exports_and_are_purged_with_the_task(home):
    ohrt, task, _, _, _ = home
    result = ohrt.json("statement", task, env=CONSTABLE)
    assert Path(result["docx"]).parent == ohrt.home / "exports"
    review(ohrt, task, when="2026-12-01", decision="nfa", fmt="video")
    done = run_ohrt(ohrt.home, "purge", "--json", extra_env={"OHRT_NOW": "2099-01-01T02:00:00+00:00"})
    assert done.returncode == 0, done.stderr
    assert not Path(result["docx"]).exists() and not Path(result["pdf"]).exists()


CASE_VALIDATE = Path(sys.executable).parent / "case_validate"


def export(ohrt: Ohrt, task: str, to: Path) -> dict:
    to.mkdir(parents=True, exist_ok=True)
    return ohrt.json("export", task, "--to", to, "--recipient", RECIPIENT, "--reason", REASON, env=SERGEANT)


def test_export_carries_the_officer_file_and_case_provenance_with_stable_exhibit_numbers(home, tmp_path):
    ohrt, task, captures, other, _ = home
    with sqlite3.connect(ohrt.home / "ohrt.db") as db:  # a package refuses a rationale naming the subject
        db.execute("UPDATE tasks SET rationale = 'Goads a rival group' WHERE id = ?", [task])
    first, second = export(ohrt, task, tmp_path / "one"), export(ohrt, task, tmp_path / "two")
    assert first["exhibits"] == second["exhibits"] == ["SO/1", "SO/2"]
    package = Path(second["package"])
    data = package / "data"
    index = json.loads((data / "package.json").read_text())
    assert [e["reference"] for e in index["exhibits"]] == ["SO/1", "SO/2"] and index["provenance"] == "provenance.jsonld"
    assert index["officer_file"] == ["officer/exhibits.docx", "officer/exhibits.pdf", "officer/statement-7781.docx",
                                     "officer/statement-7781.pdf"]
    assert second["statements"] == [str(data / "officer/statement-7781.docx"), str(data / "officer/statement-7781.pdf")]
    assert second["provenance"] == str(data / "provenance.jsonld")
    bagged = (package / "manifest-sha256.txt").read_text()
    report = (data / "report.html").read_text()
    for rel in ["provenance.jsonld", *index["officer_file"]]:
        assert f"data/{rel}" in bagged and f"data/{rel}" in report
    printed = ohrt.ok("export", task, "--to", tmp_path / "two", "--recipient", RECIPIENT, "--reason", REASON,
                      env=SERGEANT).stdout
    assert "witness statement (MG11): " in printed and "provenance (CASE/UCO): " in printed and "SO/1, SO/2" in printed

    statement = docx_text(data / "officer" / "statement-7781.docx")
    for capture, ref in zip(captures, ("SO/1", "SO/2")):
        assert ref in statement and capture["files"][0]["sha256"] in statement and ref in report
    for secret in SENSITIVE:
        assert secret not in statement and secret not in (data / "provenance.jsonld").read_text()

    graph = json.loads((data / "provenance.jsonld").read_text())["@graph"]
    actions = {n["uco-core:name"] for n in graph if n["@type"] == "case-investigation:InvestigativeAction"}
    assert {"capture", "hashing", "export"} <= actions
    assert {n["case-investigation:exhibitNumber"] for n in graph if n["@type"] == "case-investigation:ProvenanceRecord"} \
        == {"SO/1", "SO/2"}
    checked = subprocess.run([str(CASE_VALIDATE), str(data / "provenance.jsonld")], capture_output=True, text=True)
    assert checked.returncode == 0 and "Conforms: True" in checked.stdout, checked.stdout + checked.stderr
    assert ohrt("verify", "--package", package).exit_code == 0

    # The task is closed and purged: its references stay spent, the next capture exhibited gets a new number.
    review(ohrt, task, when="2026-12-01", decision="nfa", fmt="video")
    done = run_ohrt(ohrt.home, "purge", "--json", extra_env={"OHRT_NOW": "2099-01-01T02:00:00+00:00"})
    assert done.returncode == 0, done.stderr
    assert task in [u["object_id"] for u in json.loads(done.stdout)["purged"]]
    listed = {e["reference"]: e for e in ohrt.json("exhibit", "list")}
    assert listed["SO/1"]["purged_at"] and listed["SO/1"]["sha256"] is None
    assert sorted(e["reference"] for e in ohrt.json("exhibits", other, "--to", tmp_path)["exhibits"]) == ["AL/1", "SO/3"]
    gone = ohrt("exhibit", "label", "SO/1", "--to", tmp_path, env=CONSTABLE)
    assert gone.exit_code == 2 and "purged" in gone.stderr


def test_statement_of_a_download_names_yt_dlp_the_final_url_and_the_self_tasking(tmp_path, site, make_clip):
    ohrt = new_home(tmp_path / "home")
    url = site.put("clips/officer-file.mp4", make_clip("officer-file-e", seconds=3))
    made = ohrt.json("capture", url, "--reason", "Seen on patrol", "--no-derivatives", env=CONSTABLE)
    result = ohrt.json("statement", made["task_id"], "--to", tmp_path, env=CONSTABLE)
    text = docx_text(Path(result["docx"]))
    assert "by downloading it with yt-dlp 20" in text
    assert f"The address it ended at was {made['final_url']}." in text
    assert "PC Sam Okafor (7781, constable) tasked the team (SOP 8.5)" in text
    assert "The reason given was: Seen on patrol." in text and "Exhibit SO/1: original/officer-file.mp4" in text


def test_a_stamped_capture_states_its_trusted_time_and_its_provenance_holds_the_stamp(tmp_path, make_clip):
    from devtools.loopback import Loopback
    from support.tsa import Authority

    tsa = Authority.make(tmp_path / "tsa")
    with Loopback(tmp_path / "tsa-site") as site:
        ohrt = new_home(tmp_path / "home")
        with open(ohrt.home / "config.toml", "a", encoding="utf-8") as handle:
            handle.write(f'\n[timestamp]\nurl = "{tsa.serve(site)}"\nca_file = "{tsa.ca}"\n')
        task = ohrt.ok("task", "add", "--url", URL, *TASK_ARGS).stdout.strip()
        made = ohrt.json("capture", "--file", make_clip("officer-file-f", seconds=1), "--url", URL, "--reason",
                         "Screen recorded", "--no-derivatives", env=CONSTABLE)
    [stamp] = made["timestamps"]
    result = ohrt.json("statement", task, "--to", tmp_path, env=CONSTABLE)
    moment = stamp["gen_time"]
    for text in (docx_text(Path(result["docx"])), pdf_text(Path(result["pdf"]))):
        assert "Trusted timestamp: the manifest above existed no later than" in text
        assert f"{moment[11:19]} UTC" in text and stamp["id"] in text and "none recorded" not in text
    package = Path(export(ohrt, task, tmp_path / "out")["package"])
    graph = json.loads((package / "data" / "provenance.jsonld").read_text())["@graph"]
    [action] = [n for n in graph if n.get("uco-core:name") == "trusted timestamp"]
    assert action["uco-action:startTime"]["@value"] == moment
    checked = subprocess.run([str(CASE_VALIDATE), str(package / "data" / "provenance.jsonld")], capture_output=True,
                             text=True)
    assert checked.returncode == 0, checked.stdout


def test_each_item_of_a_post_is_its_own_exhibit(tmp_path, site, make_clip):
    ohrt = new_home(tmp_path / "home")
    site.put("clips/officer-one.mp4", make_clip("officer-file-g", seconds=2))
    site.put("clips/officer-two.mp4", make_clip("officer-file-h", seconds=2, freq=880))
    url = site.put("pages/officer-two.html", '<html><head><title>Two</title></head><body>'
                   '<video src="../clips/officer-one.mp4"></video><video src="../clips/officer-two.mp4"></video>'
                   '</body></html>')
    made = ohrt.json("capture", url, "--reason", "Seen on patrol", "--no-page", "--no-derivatives", env=CONSTABLE)
    listed = ohrt.json("exhibits", made["task_id"], "--to", tmp_path, env=CONSTABLE)["exhibits"]
    items = {i["item"]: i for i in made["items"]}
    assert [(e["reference"], e["item"], e["sha256"]) for e in listed] == [
        ("SO/1", 1, items[1]["sha256"]), ("SO/2", 2, items[2]["sha256"])]
    assert listed[1]["where_found"] == items[2]["source_url"] and "item 2 of 2" in listed[1]["description"]
    text = docx_text(Path(ohrt.json("statement", made["task_id"], "--to", tmp_path, env=CONSTABLE)["docx"]))
    assert f"Exhibit SO/2: item 2, {items[2]['path']}" in text and items[2]["sha256"] in text
