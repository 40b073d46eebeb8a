"""Trusted time (issue 14): RFC 3161 stamps from a real authority on 127.0.0.1 (OpenSSL's `openssl ts -reply`
with a CA made here), online when a capture is sealed, offline through a request carried to it and a reply
brought back; what a stamp proves is checked by `openssl ts -verify` and by `ohrt verify`."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
from pathlib import Path

import pytest

from devtools.loopback import Loopback, Response
from support.home import CONSTABLE, Ohrt, new_home
from support.tsa import Authority

from ohrt_cli.ground import signing, timestamp

URL = "https://www.tiktok.com/@drill/live"


@pytest.fixture(scope="module")
def tsa(tmp_path_factory) -> Authority:
    return Authority.make(tmp_path_factory.mktemp("tsa"))


@pytest.fixture(scope="module")
def authority(tsa, tmp_path_factory):
    """The authority served over HTTP on the loopback: (its URL, the loopback)."""
    with Loopback(tmp_path_factory.mktemp("tsa-site")) as site:
        yield tsa.serve(site), site


def configure(ohrt: Ohrt, **settings) -> None:
    """Add a [timestamp] table to the home's config.toml."""
    lines = ["", "[timestamp]"] + [f"{k} = {json.dumps(v if isinstance(v, (int, float)) else str(v))}"
                                   for k, v in settings.items()]
    with open(ohrt.home / "config.toml", "a", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")


def capture(ohrt: Ohrt, make_clip, name: str = "stamped", url: str = URL) -> dict:
    clip = make_clip(name, seconds=1)
    return ohrt.json("capture", "--file", str(clip), "--url", url, "--reason", "Live stream, screen-recorded",
                     "--no-derivatives", env={"OHRT_OFFICER": CONSTABLE})


def manifest_path(ohrt: Ohrt, capture_id: str) -> Path:
    return ohrt.home / "captures" / capture_id / "manifest.json"


def openssl(*args) -> subprocess.CompletedProcess:
    return subprocess.run(["openssl", *map(str, args)], capture_output=True, text=True)


def test_a_capture_is_stamped_online_as_it_is_sealed_and_openssl_verifies_the_stamp(tmp_path, make_clip, tsa,
                                                                                     authority):
    url, site = authority
    ohrt = new_home(tmp_path / "home")
    configure(ohrt, url=url, ca_file=tsa.ca)
    result = capture(ohrt, make_clip)
    [stamp] = result["timestamps"]
    assert [i["object_id"] for i in stamp["items"]] == [result["id"]] and stamp["gen_time"]
    reply = ohrt.home / "anchors" / stamp["id"] / "reply.tsr"
    checked = openssl("ts", "-verify", "-data", manifest_path(ohrt, result["id"]), "-in", reply, "-CAfile", tsa.ca)
    assert checked.returncode == 0 and "Verification: OK" in checked.stdout
    listed = ohrt.json("anchor", "list")
    assert [(s["kind"], s["object_id"]) for s in listed["stamped"]] == [("capture", result["id"])]
    assert result["id"] not in [p["object_id"] for p in listed["pending"]]
    shown = ohrt.ok("verify")
    assert f"{result['id']}: existed no later than {stamp['gen_time']}" in shown.stdout
    assert ohrt.json("verify")["captures"][0]["proven"]["anchor"] == stamp["id"]
    assert [e["action"] for e in ohrt.json("audit", "list", "--object", stamp["id"])] == \
        ["anchor.request", "anchor.stamped"]
    package = export_task(ohrt, result["id"], tmp_path / "out")  # a stamp of one item: -data manifest.json
    run_check_commands(package, result["id"])
    # the package's seal is stamped as it is exported, and the issuing home says so when it comes back
    [sealed] = [s for s in ohrt.json("anchor", "list")["stamped"] if s["kind"] == "package"]
    assert sealed["object_id"] == package.name
    assert sealed["digest"] == hashlib.sha256((package / "tagmanifest-sha256.txt").read_bytes()).hexdigest()
    back = ohrt.ok("verify", "--package", str(package))
    assert f"the package as sealed existed no later than {sealed['gen_time']} (time stamp {sealed['anchor']})" \
        in back.stdout


@pytest.mark.parametrize("down", ["refused", "error"])
def test_an_authority_that_is_down_leaves_the_capture_made_and_its_stamp_pending(tmp_path, make_clip, tsa, authority,
                                                                                  down):
    url, site = authority
    if down == "refused":
        broken = "http://127.0.0.1:9/tsa"  # discard port: nothing listens
    else:
        broken = site.route("/broken-tsa", Response(status=503, body="maintenance"))
    ohrt = new_home(tmp_path / "home")
    configure(ohrt, url=broken, ca_file=tsa.ca, timeout_seconds=3)
    result = capture(ohrt, make_clip)
    assert result["timestamps"] == [] and result["id"]  # the capture is made (--no-derivatives: incomplete)
    assert "timestamp" not in {f["role"] for f in result["files"]}  # nothing failed is recorded on it
    assert ohrt.ok("verify").exit_code == 0
    listed = ohrt.json("anchor", "list")
    [pending] = [p for p in listed["pending"] if p["kind"] == "capture"]
    assert pending["object_id"] == result["id"] and pending["since"]
    [failed] = listed["failed"]
    assert ("503" if down == "error" else "could not be reached") in failed["error"]
    again = ohrt("anchor", "stamp")
    assert again.exit_code == 1 and "stay pending" in again.stderr
    # the authority is back: everything pending (the capture, the chain's head) is stamped in one request
    text = (ohrt.home / "config.toml").read_text().replace(broken, url)
    (ohrt.home / "config.toml").write_text(text)
    stamped = ohrt.json("anchor", "stamp")
    assert {(i["kind"], i["object_id"]) for i in stamped["items"]} >= {("capture", result["id"])}
    assert [p for p in ohrt.json("anchor", "list")["pending"] if p["kind"] == "capture"] == []
    assert ohrt.json("verify")["captures"][0]["proven"]["anchor"] == stamped["id"]


@pytest.fixture
def offline(tmp_path, make_clip, tsa):
    """A standalone home (no authority URL) that trusts the test authority, with two captures."""
    ohrt = new_home(tmp_path / "home")
    configure(ohrt, ca_file=tsa.ca)
    first = capture(ohrt, make_clip, "offline-a")
    second = capture(ohrt, make_clip, "offline-b", url="https://www.tiktok.com/@drill/video/2")
    assert first["timestamps"] == [] == second["timestamps"]
    return ohrt, [first["id"], second["id"]]


def test_an_offline_request_carried_answered_and_imported_proves_each_capture_alone(offline, tmp_path, tsa):
    ohrt, ids = offline
    stick = tmp_path / "stick"
    stick.mkdir()
    made = ohrt.json("anchor", "request", "--out", str(stick / "ohrt.tsq"))
    assert {(i["kind"], i["object_id"]) for i in made["items"]} >= {("capture", ids[0]), ("capture", ids[1]),
                                                                    ("chain", made["items"][-1]["object_id"])}
    asked = openssl("ts", "-query", "-in", stick / "ohrt.tsq", "-text")
    assert "Certificate required: yes" in asked.stdout
    assert ohrt.json("anchor", "list")["pending"][0]["requested_in"] == made["id"]

    (stick / "ohrt.tsr").write_bytes(tsa.answer((stick / "ohrt.tsq").read_bytes()))  # the networked machine
    checked = openssl("ts", "-verify", "-queryfile", stick / "ohrt.tsq", "-in", stick / "ohrt.tsr", "-CAfile", tsa.ca)
    assert checked.returncode == 0 and "Verification: OK" in checked.stdout

    kept = ohrt.json("anchor", "import", str(stick / "ohrt.tsr"))
    assert kept["id"] == made["id"] and len(kept["items"]) == len(made["items"])
    listed = ohrt.json("anchor", "list")
    assert listed["pending"] == [] and listed["requested"] == []
    for entry in ohrt.json("verify")["captures"]:
        assert entry["proven"] == {"gen_time": kept["gen_time"], "anchor": kept["id"], "tsa": kept["tsa"]}
    # one capture shown alone: its manifest's sha256, its path to the root, and the stamp of the root
    items = json.loads((ohrt.home / "anchors" / made["id"] / "items.json").read_text())
    [item] = [i for i in items if i["object_id"] == ids[1]]
    leaf = hashlib.sha256(manifest_path(ohrt, ids[1]).read_bytes()).hexdigest()
    assert item["leaf"] == leaf and timestamp.root_from(leaf, item["proof"]) == made["root"]
    checked = openssl("ts", "-verify", "-digest", made["root"], "-in", stick / "ohrt.tsr", "-CAfile", tsa.ca)
    assert checked.returncode == 0
    again = ohrt("anchor", "import", str(stick / "ohrt.tsr"))
    assert again.exit_code == 2 and "already imported" in again.stderr


def test_a_reply_to_another_request_or_from_an_untrusted_authority_is_refused(offline, tmp_path, tsa):
    ohrt, ids = offline
    made = ohrt.json("anchor", "request")
    other = tsa.answer(timestamp.query(hashlib.sha256(b"another home's manifest").hexdigest()))
    (tmp_path / "other.tsr").write_bytes(other)
    refused = ohrt("anchor", "import", str(tmp_path / "other.tsr"))
    assert refused.exit_code == 2 and "answers no request of this home" in refused.stderr
    stranger = Authority.make(tmp_path / "stranger", name="Stranger TSA")
    (tmp_path / "stranger.tsr").write_bytes(stranger.answer(Path(made["request"]).read_bytes()))
    refused = ohrt("anchor", "import", str(tmp_path / "stranger.tsr"))
    assert refused.exit_code == 2 and "does not verify against request" in refused.stderr
    (tmp_path / "junk.tsr").write_bytes(b"not a reply")
    refused = ohrt("anchor", "import", str(tmp_path / "junk.tsr"))
    assert refused.exit_code == 2 and "not an RFC 3161 time-stamp reply" in refused.stderr
    listed = ohrt.json("anchor", "list")
    assert listed["stamped"] == [] and [r["id"] for r in listed["requested"]] == [made["id"]]
    assert not (ohrt.home / "anchors" / made["id"] / "reply.tsr").exists()


def test_a_manifest_changed_after_stamping_is_caught_even_when_re_signed_with_the_home_key(offline, tmp_path, tsa):
    ohrt, ids = offline
    made = ohrt.json("anchor", "request")
    reply = tmp_path / "reply.tsr"
    reply.write_bytes(tsa.answer(Path(made["request"]).read_bytes()))
    ohrt.ok("anchor", "import", str(reply))
    # an insider with the home's key: edits the manifest, signs it again, mends SHA256SUMS and the row
    folder = ohrt.home / "captures" / ids[0]
    for path in (folder, folder / "manifest.json", folder / "manifest.sig", folder / "SHA256SUMS"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["title"] = "Threat to kill"
    body = json.dumps(manifest, indent=2).encode()
    old = {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in ("manifest.json", "manifest.sig")}
    (folder / "manifest.json").write_bytes(body)
    (folder / "manifest.sig").write_bytes(signing.sign(ohrt.home / "keys", body))
    sums = (folder / "SHA256SUMS").read_text()
    for name in old:
        sums = sums.replace(old[name], hashlib.sha256((folder / name).read_bytes()).hexdigest())
    (folder / "SHA256SUMS").write_text(sums)
    with sqlite3.connect(ohrt.home / "ohrt.db") as db:
        db.execute("UPDATE captures SET manifest_sha256 = ? WHERE id = ?", [hashlib.sha256(body).hexdigest(), ids[0]])
    checked = ohrt("verify")
    assert checked.exit_code == 1
    assert f"{ids[0]}: timestamp manifest.json: is not the manifest stamped at" in checked.stderr
    assert f"{ids[1]}: existed no later than" in checked.stdout
    assert openssl("ts", "-verify", "-data", folder / "manifest.json", "-in", reply, "-CAfile", tsa.ca).returncode == 1


def test_without_a_trusted_certificate_nothing_is_imported_and_stamp_needs_an_authority(tmp_path, make_clip, tsa):
    ohrt = new_home(tmp_path / "home")
    capture(ohrt, make_clip, "untrusted")
    made = ohrt.json("anchor", "request")
    (tmp_path / "r.tsr").write_bytes(tsa.answer(Path(made["request"]).read_bytes()))
    refused = ohrt("anchor", "import", str(tmp_path / "r.tsr"))
    assert refused.exit_code == 2 and "set `ca_file` under [timestamp]" in refused.stderr
    refused = ohrt("anchor", "stamp")
    assert refused.exit_code == 2 and "set `url` under [timestamp]" in refused.stderr
    refused = ohrt("anchor", "request", "--out", str(tmp_path / "no-such-folder" / "x.tsq"))
    assert refused.exit_code == 2 and "--out" in refused.stderr


def export_task(ohrt: Ohrt, capture_id: str, to: Path) -> Path:
    task = ohrt.json("capture", "show", capture_id)["task_id"]
    to.mkdir(parents=True, exist_ok=True)
    made = ohrt.json("export", task, "--to", str(to), "--recipient", "DC Jo Bloggs, Trident Central",
                     "--reason", "CPS charging file")
    return Path(made["package"])


def run_check_commands(package: Path, capture_id: str) -> list[str]:
    """Run the time-stamp commands HOW-TO-CHECK.txt gives for a capture, as the reader would, in bash."""
    text = (package / "data" / "HOW-TO-CHECK.txt").read_text()
    index = json.loads((package / "data" / "package.json").read_text())
    [entry] = [e for e in index["timestamps"]["captures"] if e["capture"] == capture_id]
    from ohrt_cli.stages import anchor

    [commands] = [c["commands"] for c in anchor.verify_commands(package.name, index["timestamps"])
                  if c["capture"] == capture_id]
    outputs = []
    for command in commands:
        assert command.replace("\n", "\n   ") in text and command in (package / "data" / "report.html").read_text() \
            .replace("&#34;", '"').replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        ran = subprocess.run(["bash", "-c", command], cwd=package.parent, capture_output=True, text=True)
        assert ran.returncode == 0 and "Verification: OK" in ran.stdout, ran.stderr
        outputs.append(ran.stdout)
    assert entry["gen_time"]
    return outputs


def test_a_package_carries_each_capture_s_stamp_proof_and_certificate_and_openssl_checks_them(offline, tmp_path,
                                                                                             tsa):
    ohrt, ids = offline
    made = ohrt.json("anchor", "request")
    reply = tmp_path / "reply.tsr"
    reply.write_bytes(tsa.answer(Path(made["request"]).read_bytes()))
    kept = ohrt.json("anchor", "import", str(reply))
    package = export_task(ohrt, ids[1], tmp_path / "out")
    stamps = package / "data" / "timestamps"
    assert (stamps / "tsa-ca.pem").read_bytes() == tsa.ca.read_bytes()
    assert (stamps / ids[1] / "reply.tsr").is_file() and (stamps / ids[1] / "proof.json").is_file()
    run_check_commands(package, ids[1])
    report = (package / "data" / "report.html").read_text()
    assert "existed no later than" in report and "openssl x509 -in" in report
    elsewhere = Ohrt(tmp_path / "no-home")("verify", "--package", str(package))
    assert elsewhere.exit_code == 0, elsewhere.stderr
    assert f"{ids[1]}: existed no later than {kept['gen_time']}" in elsewhere.stdout
    assert "certificate the package carries" in elsewhere.stdout
    at_home = ohrt.json("verify", "--package", str(package))
    assert at_home["timestamp_ca"]["checked_with"] == "home" and at_home["timestamps"][0]["verified"]
