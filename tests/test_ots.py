"""OpenTimestamps, the second anchor (issue 14): a proof over an anchor request's root, made here with the
opentimestamps library itself (as `ots stamp` and `ots upgrade` make them: calendar attestations, then a
Bitcoin block header attestation), imported through the real CLI; stamped online by the real `ots` command
against a calendar on 127.0.0.1. No calendar or Bitcoin node on the network is reached."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("opentimestamps", reason="the test extras (pip install -e '.[test]') bring the ots extra")
from opentimestamps.core.notary import BitcoinBlockHeaderAttestation, PendingAttestation
from opentimestamps.core.op import OpAppend, OpSHA256
from opentimestamps.core.serialize import BytesSerializationContext
from opentimestamps.core.timestamp import DetachedTimestampFile, Timestamp

from devtools.loopback import Loopback
from support.home import CONSTABLE, Ohrt, new_home

from ohrt_cli.ground import otsfile, timestamp

URL = "https://www.tiktok.com/@drill/video/1"
CALENDAR = "https://alice.btc.calendar.opentimestamps.org"
BLOCK = 871234


def proof_of(data: bytes, *, calendar: str | None = CALENDAR, block: int | None = None) -> bytes:
    """A detached .ots proof over the SHA-256 of `data`, as `ots stamp` writes one: a nonce appended, hashed,
    then a calendar's pending attestation; with `block`, the Bitcoin attestation `ots upgrade` adds."""
    stamp = Timestamp(hashlib.sha256(data).digest())
    tip = stamp.ops.add(OpAppend(os.urandom(16))).ops.add(OpSHA256())
    if calendar:
        tip.attestations.add(PendingAttestation(calendar))
    if block is not None:
        tip.ops.add(OpAppend(b"\x02" * 32)).ops.add(OpSHA256()).attestations.add(BitcoinBlockHeaderAttestation(block))
    out = BytesSerializationContext()
    DetachedTimestampFile(OpSHA256(), stamp).serialize(out)
    return out.getbytes()


def capture(ohrt: Ohrt, make_clip, name: str, url: str = URL) -> str:
    clip = make_clip(name, seconds=1)
    return ohrt.json("capture", "--file", str(clip), "--url", url, "--reason", "Video, downloaded",
                     "--no-derivatives", env={"OHRT_OFFICER": CONSTABLE})["id"]


def ots_command(*args) -> subprocess.CompletedProcess:
    ots = otsfile.command()
    if ots is None:
        pytest.skip("the ots command (opentimestamps-client) is not installed")
    return subprocess.run([ots, "--no-cache", *map(str, args)], capture_output=True, text=True)


@pytest.fixture
def carried(tmp_path, make_clip):
    """A standalone home with two captures and a request carried on a stick: (ohrt, capture ids, request)."""
    ohrt = new_home(tmp_path / "home")
    ids = [capture(ohrt, make_clip, "ots-a"), capture(ohrt, make_clip, "ots-b", url=URL.replace("1", "2"))]
    stick = tmp_path / "stick"
    stick.mkdir()
    made = ohrt.json("anchor", "request", "--out", str(stick / "ohrt.tsq"))
    return ohrt, ids, made


def test_a_proof_of_the_carried_root_is_kept_pending_and_an_upgraded_one_replaces_it(carried, tmp_path):
    ohrt, ids, made = carried
    subject = Path(made["subject_copy"])
    assert subject == tmp_path / "stick" / "ohrt.root.txt"
    assert subject.read_text() == made["root"] + "\n" == Path(made["subject"]).read_text()
    assert made["ots"] == {"id": made["id"], "state": "off"}  # not asked to stamp online

    # the networked machine: `ots stamp ohrt.root.txt` writes ohrt.root.txt.ots beside it
    pending = subject.with_name("ohrt.root.txt.ots")
    pending.write_bytes(proof_of(subject.read_bytes()))
    kept = ohrt.json("anchor", "import", str(pending))
    assert (kept["kind"], kept["id"], kept["state"], kept["bitcoin_block"]) == ("ots", made["id"], "pending", None)
    assert kept["calendars"] == [CALENDAR] and len(kept["items"]) == len(made["items"])
    stored = ohrt.home / "anchors" / made["id"] / "root.txt.ots"
    assert stored.read_bytes() == pending.read_bytes()
    listed = ohrt.json("anchor", "list")
    states = {p["object_id"]: p["ots"] for p in listed["pending"]}
    assert states[ids[0]]["state"] == states[ids[1]]["state"] == "pending"  # RFC 3161: pending too
    assert states[ids[0]]["anchor"] == made["id"] and states[ids[0]]["bitcoin_block"] is None
    assert [r["ots"] for r in listed["requested"]] == ["pending"]
    text = ohrt.ok("anchor", "list", env={"COLUMNS": "80"}).stdout
    assert "OpenTimestamps" in text and "pending until a Bitcoin block" in text
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "OpenTimestamps: pending until confirmed" in ohrt.ok("capture", "show", ids[0]).stdout
    again = ohrt("anchor", "import", str(pending))
    assert again.exit_code == 2 and "already imported" in again.stderr

    # interoperability: the client reads the proof ohrt kept, over the root file ohrt wrote
    info = ots_command("info", stored)
    assert info.returncode == 0 and hashlib.sha256(subject.read_bytes()).hexdigest() in info.stdout
    assert CALENDAR in info.stdout

    # later, `ots upgrade`: the same proof now reaches a Bitcoin block header
    upgraded = tmp_path / "upgraded.ots"
    upgraded.write_bytes(proof_of(subject.read_bytes(), calendar=None, block=BLOCK))
    replaced = ohrt.json("anchor", "import", str(upgraded))
    assert (replaced["state"], replaced["bitcoin_block"], replaced["replaced"]) == ("bitcoin", BLOCK, True)
    assert stored.read_bytes() == upgraded.read_bytes()
    listed = ohrt.json("anchor", "list")["pending"]
    assert {p["ots"]["state"] for p in listed if p["kind"] == "capture"} == {"bitcoin"}
    shown = ohrt.ok("capture", "show", ids[1]).stdout
    assert f"attested in Bitcoin block {BLOCK} — confirm with `ots verify`" in shown
    checked = ohrt.json("verify")
    assert checked["intact"] and checked["ots"] == {"pending": 0, "bitcoin": 2}
    assert {c["ots"]["bitcoin_block"] for c in checked["captures"]} == {BLOCK}
    assert f"{ids[0]}: OpenTimestamps: attested in Bitcoin block {BLOCK}" in ohrt.ok("verify").stdout
    # a pending proof does not take the place of the attested one
    refused = ohrt("anchor", "import", str(pending))
    assert refused.exit_code == 2 and f"attested in Bitcoin block {BLOCK}" in refused.stderr
    assert stored.read_bytes() == upgraded.read_bytes()
    entries = ohrt.json("audit", "list", "--object", made["id"])
    assert [e["action"] for e in entries] == ["anchor.request", "anchor.ots", "anchor.ots"]
    assert [e["detail"]["state"] for e in entries[1:]] == ["pending", "bitcoin"]


def test_a_proof_of_another_file_is_refused_and_nothing_is_kept(carried, tmp_path):
    ohrt, ids, made = carried
    other = tmp_path / "other.ots"
    other.write_bytes(proof_of(b"another home's root\n"))
    refused = ohrt("anchor", "import", str(other))
    assert refused.exit_code == 2 and "is a proof of another file" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    broken = tmp_path / "broken.ots"
    broken.write_bytes(otsfile.MAGIC + b"\x00" * 20)
    refused = ohrt("anchor", "import", str(broken))
    assert refused.exit_code == 2 and "is not an OpenTimestamps proof" in refused.stderr
    assert not (ohrt.home / "anchors" / made["id"] / "root.txt.ots").exists()
    assert all(p["ots"] is None for p in ohrt.json("anchor", "list")["pending"])
    assert "anchor.ots" not in [e["action"] for e in ohrt.json("audit", "list", "--object", made["id"])]


def test_a_package_carries_the_proof_with_the_commands_that_check_it(carried, tmp_path):
    ohrt, ids, made = carried
    subject = Path(made["subject_copy"])
    (tmp_path / "p.ots").write_bytes(proof_of(subject.read_bytes(), block=BLOCK))
    ohrt.ok("anchor", "import", str(tmp_path / "p.ots"))
    task = ohrt.json("capture", "show", ids[1])["task_id"]
    (tmp_path / "out").mkdir()
    package = Path(ohrt.json("export", task, "--to", str(tmp_path / "out"), "--recipient", "DC Jo Bloggs, Trident Central",
                             "--reason", "CPS charging file")["package"])
    index = json.loads((package / "data" / "package.json").read_text())
    [entry] = index["timestamps"]["ots"]
    assert (entry["capture"], entry["state"], entry["bitcoin_block"]) == (ids[1], "bitcoin", BLOCK)
    folder = package / "data" / "timestamps" / ids[1] / "ots"
    assert (folder / "root.txt").read_text() == made["root"] + "\n"
    item = json.loads((folder / "proof.json").read_text())
    leaf = hashlib.sha256((package / "data" / "captures" / ids[1] / "manifest.json").read_bytes()).hexdigest()
    assert timestamp.root_from(leaf, item["proof"]) == made["root"]
    how = (package / "data" / "HOW-TO-CHECK.txt").read_text()
    report = (package / "data" / "report.html").read_text()
    assert f"attested in Bitcoin block {BLOCK}" in how and f"Bitcoin block {BLOCK}" in report
    from ohrt_cli.stages import ots

    [commands] = [c["commands"] for c in ots.verify_commands(package.name, index["timestamps"]["ots"])]
    assert commands[1] == (f"ots verify -f {package.name}/data/timestamps/{ids[1]}/ots/root.txt "
                           f"{package.name}/data/timestamps/{ids[1]}/ots/root.txt.ots")
    for command in commands:
        assert command.replace("\n", "\n   ") in how
    ran = subprocess.run(["bash", "-c", commands[0]], cwd=package.parent, capture_output=True, text=True)
    assert ran.returncode == 0 and "the manifest leads to the root" in ran.stdout, ran.stderr
    info = ots_command("info", folder / "root.txt.ots")
    assert info.returncode == 0 and f"BitcoinBlockHeaderAttestation({BLOCK})" in info.stdout
    elsewhere = Ohrt(tmp_path / "no-home")("verify", "--package", str(package))
    assert elsewhere.exit_code == 0, elsewhere.stderr
    assert f"{ids[1]}: OpenTimestamps: attested in Bitcoin block {BLOCK}" in elsewhere.stdout
    assert Ohrt(tmp_path / "no-home").json("verify", "--package", str(package))["ots"][0]["verified"]
    # a reader without the opentimestamps library: the package is still intact, the proof not checked
    script = ("import sys; sys.modules['opentimestamps'] = None\nfrom ohrt_cli.cli import main\n"
              f"sys.argv = ['ohrt', 'verify', '--package', {str(package)!r}]\nmain()")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OHRT_")}
    bare = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env={**env, "OHRT_HOME": str(tmp_path / "bare")}, cwd=Path(__file__).parent.parent)
    assert bare.returncode == 0, bare.stderr
    assert f"{ids[1]}: OpenTimestamps: attested in Bitcoin block {BLOCK}" in bare.stdout
    assert "not checked: the opentimestamps library is not installed" in bare.stdout


def calendar(site: Loopback) -> str:
    """A calendar on the loopback that answers `ots stamp` as a public one does: a pending attestation of its
    own URL over what it is sent (POST /digest)."""
    url = site.url("").rstrip("/")

    def handler(request) -> None:
        digest = request.rfile.read(int(request.headers.get("Content-Length") or 0))
        stamp = Timestamp(digest)
        stamp.ops.add(OpAppend(b"\x03" * 8)).ops.add(OpSHA256()).attestations.add(PendingAttestation(url))
        out = BytesSerializationContext()
        stamp.serialize(out)
        body = out.getbytes()
        request.send_response(200)
        request.send_header("Content-Type", "application/octet-stream")
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    site.route("/digest", handler)
    return url


def test_online_each_request_is_stamped_with_ots_and_a_calendar_that_is_down_fails_nothing(tmp_path, make_clip):
    if otsfile.command() is None:
        pytest.skip("the ots command (opentimestamps-client) is not installed")
    ohrt = new_home(tmp_path / "home")
    capture(ohrt, make_clip, "ots-online")
    with open(ohrt.home / "config.toml", "a", encoding="utf-8") as handle:
        handle.write('\n[timestamp]\nots = true\nots_calendars = ["http://127.0.0.1:9"]\ntimeout_seconds = 2\n')
    assert ohrt.ok("config", "check").exit_code == 0
    made = ohrt.json("anchor", "request")  # nothing listens on the discard port
    assert made["ots"]["state"] == "failed" and made["id"]
    assert not (ohrt.home / "anchors" / made["id"] / "root.txt.ots").exists()
    assert [e["action"] for e in ohrt.json("audit", "list", "--object", made["id"])] == \
        ["anchor.request", "anchor.ots_failed"]
    with Loopback(tmp_path / "site") as site:
        url = calendar(site)
        text = (ohrt.home / "config.toml").read_text().replace("http://127.0.0.1:9", url)
        (ohrt.home / "config.toml").write_text(text)
        again = ohrt.json("anchor", "request")
    assert (again["ots"]["state"], again["ots"]["calendars"]) == ("pending", [url])
    assert ohrt.json("anchor", "list")["pending"][0]["ots"]["anchor"] == again["id"]
    info = ots_command("info", ohrt.home / "anchors" / again["id"] / "root.txt.ots")
    assert info.returncode == 0 and url in info.stdout
