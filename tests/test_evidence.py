"""Evidence packages for the officer in the case (issue 8): `ohrt export` as a validated BagIt bag with a
court-ready report, disclosure logged and minimal, and `verify_package` for a package that comes back.

One home is taken through the whole flow once (task with subjects, references and indices research →
capture → review → referral → QA → sent → removed) with the real CLI; each test exports into its own
folder, and tests that damage something damage a copy."""

from __future__ import annotations

import hashlib
import json
import re
import os
import shutil
import stat
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import bagit
import pytest

from support.home import TASK_ARGS, Ohrt, copy_home, new_home

from ohrt_cli.stages import evidence

URL = "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
SUBJECT = "Jaylen Marsh"
REF = "CAD:4321/14NOV26"
RESEARCH_REF = "CRIMINT 99887766"
RESEARCH_SUMMARY = "Both groups linked to a stabbing near the leisure centre"
SENSITIVE = [SUBJECT, "4321/14NOV26", "99887766", RESEARCH_SUMMARY]
RECIPIENT = "DC Jo Bloggs, Trident Central"
REASON = "Evidence for the CPS charging decision"
CONSTABLE, INSPECTOR = {"OHRT_OFFICER": "7781"}, {"OHRT_OFFICER": "9001"}
BAGIT_PY = Path(sys.executable).parent / "bagit.py"


def _home(root: Path) -> Ohrt:
    return new_home(root / "home")


def _task(ohrt: Ohrt) -> str:
    return ohrt.ok("task", "add", "--url", URL, *TASK_ARGS, "--subject", SUBJECT, "--ref", REF).stdout.strip()


@pytest.fixture(scope="module")
def flow(tmp_path_factory, make_clip):
    """A home whose task T-2026-000001 was captured, reviewed (with indices research), referred, approved,
    sent and removed, all through the CLI."""
    ohrt = _home(tmp_path_factory.mktemp("evidence"))
    task_id = _task(ohrt)
    clip = make_clip("evidence-clip", seconds=6)
    ohrt.ok("capture", "--file", str(clip), "--url", URL, "--reason", "Live stream, screen-recorded")
    ohrt.ok("review", task_id, "--decision", "refer", "--format", "music-video",
            "--finding", "provocative-language|Names a rival and mocks his injuries|00:01-00:03",
            "--clause", "youtube:violent-criminal-orgs",
            "--research", f"Aware|{RESEARCH_REF}|2026-01-03|{RESEARCH_SUMMARY}", env=CONSTABLE)
    referral = ohrt.json("refer", "draft", task_id, env=CONSTABLE)["id"]
    ohrt.ok("refer", "qa", referral, "--approve", env=INSPECTOR)
    ohrt.ok("refer", "sent", referral, "--platform-ref", "TF-88231", env=CONSTABLE)
    ohrt.ok("refer", "outcome", referral, "--removed")
    return ohrt, task_id, referral


def export(ohrt: Ohrt, task_id: str, to: Path, *extra: str) -> dict:
    to.mkdir(parents=True, exist_ok=True)
    return ohrt.json("export", task_id, "--to", str(to), "--recipient", RECIPIENT, "--reason", REASON, *extra)


def capture_folder(package: Path) -> Path:
    [folder] = sorted((package / "data" / "captures").iterdir())
    return folder


def copy_package(package: Path, target: Path) -> Path:
    shutil.copytree(package, target)
    for path in target.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return target


def every_text(folder: Path) -> dict[str, str]:
    """Every file under `folder`, and every member of every zip in it, as text (bytes decoded leniently)."""
    found = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        found[str(path)] = path.read_bytes().decode("utf-8", errors="replace")
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                for name in archive.namelist():
                    found[f"{path}!{name}"] = archive.read(name).decode("utf-8", errors="replace")
    return found


def audit_entries(ohrt: Ohrt, action: str) -> list[dict]:
    return [e for e in ohrt.json("audit", "list") if e["action"] == action]


# ----------------------------------------------------------------------------------------- the bag

def test_package_is_a_bag_that_bagit_sha256sum_and_openssl_all_accept(flow, tmp_path):
    ohrt, task_id, _ = flow
    result = export(ohrt, task_id, tmp_path / "out", "--zip")
    package = Path(result["package"])
    assert package.name == result["name"] and package.name.startswith(f"{task_id}-evidence-")
    assert result["bag_valid"] is True and result["captures"] == ["C-2026-000001"]

    bag = bagit.Bag(str(package))
    assert bag.validate(fast=False) and bag.algorithms == ["sha256"]
    assert bag.info["External-Identifier"] == task_id
    assert bag.info["Source-Organization"] == "Online Harm Referral Team"
    assert bag.info["Contact-Email"] == "ohrt@example.police.uk"
    assert bag.info["Recipient"] == RECIPIENT and bag.info["Disclosure-Reason"] == REASON
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", bag.info["Bagging-Date"]) and bag.info["External-Description"]
    checked = subprocess.run([sys.executable, str(BAGIT_PY), "--validate", package.name], cwd=package.parent,
                             capture_output=True, text=True)
    assert checked.returncode == 0 and "is valid" in checked.stderr

    capture = capture_folder(package)
    sums = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=capture, capture_output=True, text=True)
    assert sums.returncode == 0, sums.stdout + sums.stderr
    assert "original/" in sums.stdout and sums.stdout.count(": OK") == len(sums.stdout.splitlines())
    signature = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "data/public.pem", "-rawin",
                                "-in", f"data/captures/{capture.name}/manifest.json",
                                "-sigfile", f"data/captures/{capture.name}/manifest.sig"],
                               cwd=package, capture_output=True, text=True)
    assert signature.returncode == 0 and "Signature Verified Successfully" in signature.stdout

    zipped = subprocess.run(["sha256sum", "-c", f"{package.name}.zip.sha256"], cwd=package.parent,
                            capture_output=True, text=True)
    assert zipped.returncode == 0 and result["zip"] == str(package) + ".zip"
    with zipfile.ZipFile(result["zip"]) as archive:
        assert {n.split("/", 1)[0] for n in archive.namelist()} == {package.name}
        assert f"{package.name}/data/report.html" in archive.namelist()


def test_payload_holds_the_evidence_the_records_and_the_key(flow, tmp_path):
    ohrt, task_id, referral = flow
    package = Path(export(ohrt, task_id, tmp_path / "out")["package"])
    data = package / "data"
    capture = capture_folder(package)
    store = ohrt.home / "captures" / capture.name
    for rel in ("manifest.json", "manifest.sig", "SHA256SUMS", "original/evidence-clip.mp4",
                "derived/contact-sheet.jpg"):
        assert (capture / rel).read_bytes() == (store / rel).read_bytes(), rel
    assert stat.S_IMODE((capture / "original" / "evidence-clip.mp4").stat().st_mode) == 0o400  # read-only, and private (ground/exports.py)
    assert (data / "public.pem").read_bytes() == (ohrt.home / "keys" / "public.pem").read_bytes()
    review = json.loads((data / "review" / "review.json").read_text())
    assert review["current"]["findings"][0]["at"] == ["00:01-00:03"]
    assert "Names a rival and mocks his injuries" in (data / "review" / "review.txt").read_text()
    referrals = json.loads((data / "referrals" / "referrals.json").read_text())
    assert [(r["id"], r["status"], r["platform_ref"]) for r in referrals] == [(referral, "removed", "TF-88231")]
    draft = data / referrals[0]["draft_path"]
    assert hashlib.sha256(draft.read_bytes()).hexdigest() == referrals[0]["draft_sha256"]
    index = json.loads((data / "package.json").read_text())
    assert index["format"] == "ohrt-evidence/1" and index["captures"][0]["id"] == capture.name

    excerpt = [json.loads(line) for line in (data / "audit" / "audit-excerpt.jsonl").read_text().splitlines()]
    objects = {e["object_id"] for e in excerpt}
    assert {task_id, capture.name, "V-2026-000001", referral} <= objects
    actions = {e["action"] for e in excerpt}
    assert {"task.add", "capture.add", "review.record", "referral.qa", "referral.sent", "referral.outcome"} <= actions
    assert all(set(e) == {"seq", "at", "officer", "officer_name", "action", "object_type", "object_id", "reason",
                          "detail", "prev_hash", "hash"} for e in excerpt)


def test_report_is_self_contained_and_says_what_a_court_needs(flow, tmp_path):
    ohrt, task_id, referral = flow
    package = Path(export(ohrt, task_id, tmp_path / "out")["package"])
    html = (package / "data" / "report.html").read_text()
    manifest = json.loads((capture_folder(package) / "manifest.json").read_text())
    original = next(f for f in manifest["files"] if f["role"] == "original")

    # no network and no other file needed: nothing fetched, the contact sheet embedded
    assert not re.search(r"<(script|link|iframe)\b", html)
    assert not re.search(r"""(src|href)=["'](?!#|data:)""", html)
    assert 'src="data:image/jpeg;base64,' in html and "@media print" in html
    # what, from where, when, by whom, with which tools; every hash
    for text in (URL, "PS Ann Lee (2345, sergeant)", "ffmpeg", "yt_dlp", original["sha256"], original["md5"],
                 manifest["started_at"][:10], "Live stream, screen-recorded", RECIPIENT, REASON):
        assert text in html, text
    assert all(f["sha256"] in html for f in manifest["files"] if f["status"] == "ok")
    # the findings with their time ranges; the referral history to the platform's decision
    assert "Names a rival and mocks his injuries" in html and "00:01-00:03" in html and "SOP 9.2.3" in html
    assert referral in html and "TF-88231" in html and "approved" in html and "removed" in html
    # how to check, with the exact commands for this package
    name = package.name
    for command in (f"bagit.py --validate {name}", "sha256sum -c SHA256SUMS",
                    f"openssl pkeyutl -verify -pubin -inkey {name}/data/public.pem -rawin",
                    f"ohrt verify --package {name}"):
        assert command in html, command


def test_the_audit_check_printed_in_the_package_works_and_catches_an_edit(flow, tmp_path):
    ohrt, task_id, _ = flow
    package = Path(export(ohrt, task_id, tmp_path / "out")["package"])
    text = (package / "data" / "HOW-TO-CHECK.txt").read_text()
    command = text[text.index("python3 -c"):text.index("audit-excerpt.jsonl") + len("audit-excerpt.jsonl")]
    ran = subprocess.run(["bash", "-c", command], cwd=package.parent, capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines() and all(line.endswith(" ok") for line in ran.stdout.splitlines())

    copy = copy_package(package, tmp_path / "copy" / package.name)
    excerpt = copy / "data" / "audit" / "audit-excerpt.jsonl"
    excerpt.write_text(excerpt.read_text().replace("Live stream, screen-recorded", "Downloaded"))
    ran = subprocess.run(["bash", "-c", command], cwd=copy.parent, capture_output=True, text=True)
    assert "ALTERED" in ran.stdout
    report = evidence.verify_package(copy)
    assert not report["intact"]
    assert any(p["check"] == "audit" and p["problem"] == "changed" for p in report["problems"])


# ---------------------------------------------------------------------------------------- verifying

def test_verify_package_passes_a_package_and_its_zip(flow, tmp_path):
    ohrt, task_id, _ = flow
    result = export(ohrt, task_id, tmp_path / "out", "--zip")
    for target in (result["package"], result["zip"]):
        report = evidence.verify_package(target)
        assert report["intact"] and report["bag_valid"] and report["problems"] == []
        assert report["task_id"] == task_id and report["captures"][0]["intact"]
        assert report["public_key_fingerprint"] == result["public_key_fingerprint"]


def test_a_changed_byte_fails_bagit_and_verify_package(flow, tmp_path):
    ohrt, task_id, _ = flow
    package = Path(export(ohrt, task_id, tmp_path / "out")["package"])
    copy = copy_package(package, tmp_path / "copy" / package.name)
    original = next((capture_folder(copy) / "original").iterdir())
    data = bytearray(original.read_bytes())
    data[len(data) // 2] ^= 0x01
    original.write_bytes(bytes(data))

    with pytest.raises(bagit.BagValidationError):
        bagit.Bag(str(copy)).validate(fast=False)
    checked = subprocess.run([sys.executable, str(BAGIT_PY), "--validate", str(copy)], capture_output=True, text=True)
    assert checked.returncode != 0
    report = evidence.verify_package(copy)
    rel = f"data/captures/{capture_folder(copy).name}/original/{original.name}"
    assert not report["intact"] and not report["bag_valid"]
    assert {(p["check"], p["path"], p["problem"]) for p in report["problems"]} == {
        ("bag", rel, "changed"), ("capture", rel, "changed")}


def test_verify_package_names_a_replaced_signature_and_an_extra_file(flow, tmp_path):
    ohrt, task_id, _ = flow
    package = Path(export(ohrt, task_id, tmp_path / "out")["package"])
    copy = copy_package(package, tmp_path / "copy" / package.name)
    capture = capture_folder(copy)
    (capture / "manifest.sig").write_bytes(bytes(64))
    (copy / "data" / "notes.txt").write_text("added later")
    problems = {(p["check"], p["path"], p["problem"]) for p in evidence.verify_package(copy)["problems"]}
    assert ("capture", f"data/captures/{capture.name}/manifest.sig", "signature") in problems
    assert ("bag", "data/notes.txt", "unexpected") in problems
    assert ("bag", f"data/captures/{capture.name}/manifest.sig", "changed") in problems


def test_ohrt_verify_package_exits_1_naming_the_problem(flow, tmp_path):
    ohrt, task_id, _ = flow
    package = Path(export(ohrt, task_id, tmp_path / "out")["package"])
    good = ohrt.ok("verify", "--package", str(package))
    assert "package intact" in good.stdout and "signed with this home's key" in good.stdout
    copy = copy_package(package, tmp_path / "copy" / package.name)
    (copy / "data" / "task.json").write_text("{}\n")
    bad = ohrt("verify", "--package", str(copy))
    assert bad.exit_code == 1 and "data/task.json" in bad.stderr and "Traceback" not in bad.stderr
    nowhere = ohrt("verify", "--package", str(tmp_path / "nowhere"))
    assert nowhere.exit_code == 2 and f"{tmp_path / 'nowhere'} is neither a package folder nor its zip" in nowhere.stderr


# ---------------------------------------------------------------------------------------- disclosure

def test_sensitive_material_is_nowhere_in_the_package_unless_asked_for(flow, tmp_path):
    ohrt, task_id, _ = flow
    export(ohrt, task_id, tmp_path / "plain", "--zip")
    texts = every_text(tmp_path / "plain")
    assert any("!" in name for name in texts)  # the zip's members were read too
    for secret in SENSITIVE:
        leaks = [name for name, body in texts.items() if secret.lower() in body.lower()]
        assert leaks == [], f"{secret!r} found in {leaks}"

    result = export(ohrt, task_id, tmp_path / "sensitive", "--include-sensitive")
    package = Path(result["package"])
    sensitive = json.loads((package / "data" / "sensitive" / "sensitive.json").read_text())
    assert sensitive["subjects"] == [SUBJECT] and sensitive["incident_refs"] == [REF]
    assert sensitive["indices_research"][0]["summary"] == RESEARCH_SUMMARY
    handling = (package / "data" / "sensitive" / "HANDLING.txt").read_text()
    assert "SOP 6.3" in handling and "UK law enforcement" in handling and RECIPIENT in handling
    outside = [name for name, body in every_text(package).items()
               if "/data/sensitive/" not in name and any(s.lower() in body.lower() for s in SENSITIVE)]
    assert outside == []  # the report and the rest never carry it
    assert bagit.Bag(str(package)).info["Sensitive-Data"].startswith("included")


def modes(root: Path) -> dict[str, int]:
    """Each folder and file under `root` (itself included, as '.') → its permission bits."""
    found = {".": stat.S_IMODE(root.stat().st_mode)}
    for path in root.rglob("*"):
        found[str(path.relative_to(root))] = stat.S_IMODE(path.lstat().st_mode)
    return found


def test_a_package_and_its_zip_are_private_unless_mode_says_otherwise(flow, tmp_path):
    """Files 0600 (a capture's copied files 0400, read-only as in the store) in folders 0700, the zip and its .sha256 0600; --mode 0640 gives
    0640 (0440) in 0750; a nonsense mode is refused before anything is written."""
    ohrt, task_id, _ = flow
    result = export(ohrt, task_id, tmp_path / "usb", "--zip", "--include-sensitive")
    package = Path(result["package"])
    found = modes(package)
    assert found["data/sensitive/sensitive.json"] == 0o600 and found["data/sensitive"] == 0o700
    assert {m for name, m in found.items() if (package / name).is_dir()} == {0o700}
    copied = {n for n in found if n.startswith("data/captures/") and (package / n).is_file()}
    assert any("/original/" in n for n in copied) and {found[n] for n in copied} == {0o400}
    assert {m for n, m in found.items() if (package / n).is_file() and n not in copied} == {0o600}
    for name in (f"{package.name}.zip", f"{package.name}.zip.sha256"):
        assert stat.S_IMODE((package.parent / name).stat().st_mode) == 0o600, name
    with zipfile.ZipFile(result["zip"]) as archive:  # unzipped, the members keep the same modes
        assert {(info.external_attr >> 16) & 0o777 for info in archive.infolist()} == {0o600, 0o400}
    assert ohrt.ok("verify", "--package", str(package)).exit_code == 0

    shared = Path(export(ohrt, task_id, tmp_path / "shared", "--mode", "0640")["package"])
    found = modes(shared)
    assert {m for n, m in found.items() if (shared / n).is_dir()} == {0o750}
    assert {m for n, m in found.items() if (shared / n).is_file()} == {0o640, 0o440}

    (tmp_path / "bad").mkdir()
    for bad in ("0777", "abc", "0400", "0642", "4600"):
        refused = ohrt("export", task_id, "--to", str(tmp_path / "bad"), "--recipient", RECIPIENT, "--reason",
                       REASON, "--mode", bad)
        assert refused.exit_code == 2 and len(refused.stderr.strip().splitlines()) == 1, (bad, refused.stderr)
        assert f"--mode {bad}" in refused.stderr or repr(bad) in refused.stderr
    assert list((tmp_path / "bad").iterdir()) == []


def test_every_other_export_is_private_unless_mode_says_otherwise(flow, tmp_path):
    """Statement, exhibit list, label, hash file, audit export and report: 0600 by default, --mode obeyed."""
    ohrt, task_id, _ = flow
    out = tmp_path / "out"
    out.mkdir()
    written = []
    statement = ohrt.json("statement", task_id, "--to", out, env=CONSTABLE)
    written += [statement["docx"], statement["pdf"]]
    listing = ohrt.json("exhibits", task_id, "--to", out, "--mode", "0640")
    written += [listing["docx"], listing["pdf"]]
    written.append(ohrt.json("exhibit", "label", listing["exhibits"][0]["reference"], "--to", out)["label"])
    hashes = ohrt.json("library", "export-hashes", out / "hashes.json", env=CONSTABLE)
    written += [hashes["file"], hashes["signature"]]
    chain = ohrt.json("audit", "export", out / "audit.jsonl", "--mode", "0644")
    written += [chain["file"], chain["signature"]]
    ohrt.ok("report", "--format", "md", "--out", out / "report.md")
    written.append(str(out / "report.md"))
    found = {Path(p).name: stat.S_IMODE(Path(p).stat().st_mode) for p in written}
    expected = {Path(p).name: 0o600 for p in written}
    expected.update({Path(listing["docx"]).name: 0o640, Path(listing["pdf"]).name: 0o640,
                     "audit.jsonl": 0o644, "audit.jsonl.sig": 0o644})
    assert found == expected
    assert sorted(p.name for p in out.iterdir()) == sorted(found)  # no partial file left beside them
    refused = ohrt("report", "--format", "md", "--out", out / "again.md", "--mode", "1234")
    assert refused.exit_code == 2 and not (out / "again.md").exists()


def test_export_is_logged_with_recipient_reason_and_sensitivity(flow, tmp_path):
    ohrt, task_id, _ = flow
    before = len(audit_entries(ohrt, "evidence.export"))
    plain = export(ohrt, task_id, tmp_path / "a")
    sensitive = export(ohrt, task_id, tmp_path / "b", "--include-sensitive")
    entries = audit_entries(ohrt, "evidence.export")[before:]
    assert [e["seq"] for e in entries] == [plain["audit_seq"], sensitive["audit_seq"]]
    for entry, result in zip(entries, (plain, sensitive)):
        assert (entry["object_type"], entry["object_id"], entry["reason"]) == ("task", task_id, REASON)
        assert entry["detail"]["recipient"] == RECIPIENT
        assert entry["detail"]["include_sensitive"] is result["include_sensitive"]
        tagmanifest = Path(result["package"]) / "tagmanifest-sha256.txt"
        assert entry["detail"]["package_sha256"] == hashlib.sha256(tagmanifest.read_bytes()).hexdigest()
        assert not any(s.lower() in json.dumps(entry).lower() for s in SENSITIVE)
    assert ohrt.json("audit", "verify")["intact"]
    back = evidence.verify_package(plain["package"], ctx=_context(ohrt))
    assert back["key_matches_home"] is True and back["export"]["audit_seq"] == plain["audit_seq"]


def _context(ohrt: Ohrt):
    from ohrt_cli.ground.context import open_context

    return open_context(ohrt.home, "2345")


# --------------------------------------------------------------------------------------- refusals

@pytest.mark.parametrize("missing", ["--recipient", "--reason"])
def test_missing_recipient_or_reason_is_refused_and_nothing_is_written(flow, tmp_path, missing):
    ohrt, task_id, _ = flow
    out = tmp_path / "out"
    out.mkdir()
    before = len(ohrt.json("audit", "list"))
    args = {"--recipient": RECIPIENT, "--reason": REASON}
    args.pop(missing)
    result = ohrt("export", task_id, "--to", str(out), *[x for pair in args.items() for x in pair])
    assert result.exit_code == 2 and f"{missing} is missing" in result.stderr
    assert list(out.iterdir()) == [] and len(ohrt.json("audit", "list")) == before
    blank = ohrt("export", task_id, "--to", str(out), "--recipient", "DC Jo Bloggs", "--reason", REASON)
    assert blank.exit_code == 2 and "NAME, UNIT" in blank.stderr and list(out.iterdir()) == []


def test_unknown_task_and_bad_destination_are_refused(flow, tmp_path):
    ohrt, _, _ = flow
    unknown = ohrt("export", "T-2026-999999", "--to", str(tmp_path), "--recipient", RECIPIENT, "--reason", REASON)
    assert unknown.exit_code == 2 and "no task 'T-2026-999999'" in unknown.stderr
    missing = ohrt("export", "T-2026-000001", "--to", str(tmp_path / "absent"), "--recipient", RECIPIENT,
                   "--reason", REASON)
    assert missing.exit_code == 2 and "does not exist" in missing.stderr
    store = ohrt("export", "T-2026-000001", "--to", str(ohrt.home / "captures"), "--recipient", RECIPIENT,
                 "--reason", REASON)
    assert store.exit_code == 2 and "inside the evidence store" in store.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_reason_naming_a_subject_is_refused_before_anything_is_written(flow, tmp_path):
    ohrt, task_id, _ = flow
    result = ohrt("export", task_id, "--to", str(tmp_path), "--recipient", RECIPIENT, "--reason",
                  f"Charging file re {SUBJECT}")
    assert result.exit_code == 2 and "audit chain" in result.stderr and list(tmp_path.iterdir()) == []


def test_a_capture_that_fails_its_check_is_never_packaged(tmp_path, make_clip):
    ohrt = _home(tmp_path)
    task_id = _task(ohrt)
    capture = ohrt.json("capture", "--file", str(make_clip("evidence-clip", seconds=6)), "--url", URL,
                        "--reason", "Live stream, screen-recorded")
    original = Path(capture["path"]) / next(f["path"] for f in capture["files"] if f["role"] == "original")
    original.chmod(0o644)
    data = bytearray(original.read_bytes())
    data[100] ^= 0x01
    original.write_bytes(bytes(data))
    out = tmp_path / "out"
    out.mkdir()
    before = len(ohrt.json("audit", "list"))
    result = ohrt("export", task_id, "--to", str(out), "--recipient", RECIPIENT, "--reason", REASON)
    assert result.exit_code == 1
    assert f"capture {capture['id']} fails its own check" in result.stderr and "changed" in result.stderr
    assert list(out.iterdir()) == [] and len(ohrt.json("audit", "list")) == before


def test_a_note_naming_a_subject_keeps_the_package_back_unless_sensitive_is_asked_for(ohrt, tmp_path):
    task_id = _task(ohrt)
    ohrt.ok("review", task_id, "--decision", "refer", "--format", "video", "--no-capture", "--reason",
            "Content deleted before capture", "--clause", "youtube:violent-criminal-orgs",
            "--finding", f"provocative-language|{SUBJECT} taunts a rival", env=CONSTABLE)
    out = tmp_path / "out"
    out.mkdir()
    refused = ohrt("export", task_id, "--to", str(out), "--recipient", RECIPIENT, "--reason", REASON)
    assert refused.exit_code == 2 and "--include-sensitive" in refused.stderr and "subject" in refused.stderr
    assert list(out.iterdir()) == []  # not even a hidden staging folder
    result = export(ohrt, task_id, out, "--include-sensitive")
    assert result["captures"] == [] and evidence.verify_package(result["package"])["intact"]
    assert "No capture of this content is held" in (Path(result["package"]) / "data" / "report.html").read_text()


def test_a_broken_team_template_fails_in_one_line_and_leaves_nothing(flow, tmp_path):
    ohrt, task_id, _ = flow
    override = ohrt.home / "templates" / "export" / "report.html"
    override.parent.mkdir(parents=True)
    override.write_text("<p>{{ task.colour }}</p>")
    try:
        out = tmp_path / "out"
        out.mkdir()
        before = len(ohrt.json("audit", "list"))
        result = ohrt("export", task_id, "--to", str(out), "--recipient", RECIPIENT, "--reason", REASON)
        assert result.exit_code == 2 and "task.colour" in result.stderr and "Traceback" not in result.stderr
        assert list(out.iterdir()) == [] and len(ohrt.json("audit", "list")) == before
        override.write_text("<p>{{ subjects }}</p>")
        result = ohrt("export", task_id, "--to", str(out), "--recipient", RECIPIENT, "--reason", REASON)
        assert result.exit_code == 2 and "never goes into the report" in result.stderr
    finally:
        shutil.rmtree(override.parent.parent)


def test_a_second_export_the_same_day_gets_its_own_folder(flow, tmp_path):
    ohrt, task_id, _ = flow
    first = export(ohrt, task_id, tmp_path)
    second = export(ohrt, task_id, tmp_path)
    assert second["name"] == first["name"] + "-2"
    assert sorted(p.name for p in tmp_path.iterdir()) == [first["name"], second["name"]]


def test_without_to_the_package_goes_to_the_homes_exports_with_the_teams_marking(flow):
    ohrt, task_id, _ = flow
    config = ohrt.home / "config.toml"
    saved = config.read_text()
    config.write_text(saved + '\n[export]\nmarking = "OFFICIAL"\n')
    try:
        result = ohrt.json("export", task_id, "--recipient", RECIPIENT, "--reason", REASON)
    finally:
        config.write_text(saved)
    package = Path(result["package"])
    assert package.parent == ohrt.home / "exports" and package.is_dir()
    assert '<div class="marking">OFFICIAL</div>' in (package / "data" / "report.html").read_text()


def test_the_leftovers_of_a_killed_export_are_swept_and_nothing_else(flow, tmp_path):
    ohrt, task_id, _ = flow
    dead = 2 ** 22 + 12345  # above Linux's largest pid: never a running process
    leftover = tmp_path / f".{task_id}-evidence-2026-11-20.partial-{dead}-0a1b2c3d"
    (leftover / "captures").mkdir(parents=True)
    (tmp_path / f".{task_id}-evidence-2026-11-20.zip.partial-{dead}-0a1b2c3d").write_bytes(b"PK")
    mine = tmp_path / ".tmp-notes"
    mine.mkdir()
    live = tmp_path / f".{task_id}-evidence-2026-11-20.partial-{os.getpid()}-0a1b2c3d"
    live.mkdir()
    result = export(ohrt, task_id, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([mine.name, live.name, result["name"]])


def test_a_broken_audit_chain_is_never_excerpted(ohrt, tmp_path):
    task_id = _task(ohrt)
    db = ohrt.db()
    db.execute("DROP TRIGGER audit_no_update")
    db.execute("UPDATE audit SET reason = 'edited' WHERE seq = 1")
    db.conn.commit()
    out = tmp_path / "out"
    out.mkdir()
    result = ohrt("export", task_id, "--to", str(out), "--recipient", RECIPIENT, "--reason", REASON)
    assert result.exit_code == 1 and "audit chain broken at entry 1" in result.stderr
    assert list(out.iterdir()) == []


def test_a_downloaded_capture_and_an_image_are_packaged_whole(ohrt, tmp_path, site, make_clip, make_image):
    """A capture made by yt-dlp (with source/info.json) and an image (shown in the report itself)."""
    video = ohrt.json("capture", site.put("evidence/drill.mp4", make_clip("evidence-download", seconds=3)),
                      "--reason", "Seen on patrol")
    still = ohrt.json("capture", site.put("evidence/still.jpg", make_image("evidence-still")),
                      "--reason", "Posted alongside the video")
    for capture in (video, still):
        ohrt.ok("review", capture["task_id"], "--decision", "nfa", "--format", capture["media_kind"],
                "--reason", "No harm factor", env=CONSTABLE)
        result = export(ohrt, capture["task_id"], tmp_path / capture["id"])
        package = Path(result["package"])
        folder = package / "data" / "captures" / capture["id"]
        assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) == sorted(
            [f["path"] for f in capture["files"] if f["status"] == "ok"] + ["manifest.json", "manifest.sig",
                                                                            "manifest.officer.sig", "SHA256SUMS"])
        assert evidence.verify_package(package)["intact"]
        html = (package / "data" / "report.html").read_text()
        assert "data:image/jpeg;base64," in html and "No harm factor" in html
    assert [p.name for p in (tmp_path / video["id"]).rglob("source/*")] == ["info.json"]


# ------------------------------------------------------------------------------ who did it, provably

def test_the_report_names_who_captured_and_approved_and_openssl_checks_each_signature(flow, tmp_path):
    ohrt, task_id, referral = flow
    package = Path(export(ohrt, task_id, tmp_path / "out", "--zip")["package"])
    guide = (package / "data" / "HOW-TO-CHECK.txt").read_text()
    report = (package / "data" / "report.html").read_text()
    assert "captured C-2026-000001" in report and f"checked (QA) {referral} (approved)" in report
    assert "PS Ann Lee (2345, sergeant) captured C-2026-000001" in guide
    assert f"Insp Ray Diaz (9001, inspector) checked (QA) {referral} (approved)" in guide
    commands = [line.strip() for line in guide.splitlines()
                if line.strip().startswith("openssl pkeyutl") and "/officer-keys/" in line]
    assert len(commands) >= 3  # the capture, the approval, the manifest sealed
    for command in commands:
        checked = subprocess.run(command, shell=True, cwd=package.parent, capture_output=True, text=True)
        assert checked.returncode == 0 and "Signature Verified Successfully" in checked.stdout, command
    fingerprints = [line.strip() for line in guide.splitlines() if "officer-keys/" in line and "sha256sum" in line]
    printed = subprocess.run(fingerprints[0], shell=True, cwd=package.parent, capture_output=True, text=True)
    assert printed.stdout.split()[0] in guide  # the key's fingerprint is the one the guide shows

    # and the package carries the chain's head: the home's chain is checked against it once it has left
    assert ohrt.json("audit", "verify", "--against", str(package) + ".zip")["intact"]
    copy = copy_home(ohrt.home, tmp_path / "insider")
    db = sqlite3.connect(copy.home / "ohrt.db")
    db.execute("DROP TRIGGER audit_no_delete")
    last = db.execute("SELECT MAX(seq) FROM audit").fetchone()[0]
    db.execute("DELETE FROM audit_signatures WHERE seq >= ?", [last - 2])
    db.execute("DELETE FROM audit WHERE seq >= ?", [last - 2])
    db.execute("UPDATE audit_head SET seq = ?, hash = (SELECT hash FROM audit WHERE seq = ?)", [last - 3, last - 3])
    db.commit()
    db.close()
    (copy.home / "audit-checkpoints.jsonl").unlink()
    result = copy("audit", "verify", "--against", package)
    assert result.exit_code == 1 and "entries were cut from its end" in result.stderr
