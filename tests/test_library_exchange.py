"""Hash exchange in the formats other tools use (SOP 10.8 sharing): the library exported as ThreatExchange
signals that Meta's `threatexchange` CLI reads and matches; ThreatExchange signal files and CSV hash lists
(MD5, SHA-256, PDQ, labels) imported as named sources with their provenance and expiry, matched against
every new capture; a bad file is one line, exit 2, and changes nothing."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from ohrt_cli.ground import fingerprint as fpmod
from ohrt_cli.ground import media as media_info
from support.home import copy_home, new_home as _new_home
from support.library import CONSTABLE, Media, audit_entries, captured_task, env, library_item, rows, youtube
from support.threatexchange import ThreatExchange

BUILT = "2026-03-05"
LATER = "2026-05-10"


@pytest.fixture(scope="module")
def media(library_media) -> Media:
    return library_media


def new_home(path: Path, team: str = "Online Harm Referral Team"):
    return _new_home(path, team=team, env=env(BUILT))


@pytest.fixture(scope="module")
def made(tmp_path_factory, media):
    """A home whose library holds a music video (song 1) and two photos (stills of songs 3 and 5)."""
    ohrt = new_home(tmp_path_factory.mktemp("exchange") / "home")
    items = {"video": library_item(ohrt, media.song(1), youtube(1), when=BUILT)}
    for n in (3, 5):  # photos, put in the library by hand
        task, _ = captured_task(ohrt, media.still(n), youtube(n), when=BUILT)
        items[n] = ohrt.json("library", "add", task, "--removed-on", BUILT, env=env(BUILT, CONSTABLE))["id"]
    return ohrt.home, items


@pytest.fixture
def home(made, tmp_path):
    source, items = made
    return copy_home(source, tmp_path / "home"), items


@pytest.fixture(scope="module")
def signals(made, tmp_path_factory) -> Path:
    """The library exported as ThreatExchange signals (made once; the home is copied, not changed)."""
    source, _ = made
    ohrt = copy_home(source, tmp_path_factory.mktemp("export") / "home")
    path = ohrt.home.parent / "signals.txt"
    ohrt.json("library", "export-hashes", path, "--format", "threatexchange", env=env(LATER, CONSTABLE))
    return path


def test_the_library_exported_as_threatexchange_signals_is_matched_by_the_threatexchange_cli(home, media, tmp_path):
    ohrt, items = home
    path = tmp_path / "signals.txt"
    result = ohrt.json("library", "export-hashes", path, "--format", "threatexchange", env=env(LATER, CONSTABLE))
    assert result["items"] == 3 and result["signals"] == {"vpdq": 1, "video_md5": 1, "pdq": 2}
    text = path.read_text()
    assert [line.split(" ", 1)[0] for line in text.splitlines()] == ["vpdq", "video_md5", "pdq", "pdq"]
    for secret in ("Drill video", "youtube", "Jon Subject", "CRIMINT", "Names a rival", "L-2026"):
        assert secret not in text  # hashes only
    [entry] = audit_entries(ohrt, "library.export")
    assert entry["detail"]["format"] == "threatexchange" and entry["detail"]["sha256"] == result["sha256"]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == result["sha256"]

    tx = ThreatExchange(tmp_path / "tx")
    tx.load(path)
    # Meta's CLI hashes the files itself (its vPDQ, its PDQ) and finds them in what ohrt exported
    for video in (media.song(1), media.reupload("rescaled"), media.reupload("reencoded")):
        assert any(line.startswith("vpdq ") for line in tx.match("video", video)), video.name
    assert any(line.startswith("video_md5") for line in tx.match("video", media.song(1)))
    assert any(line.startswith("pdq") for line in tx.match("photo", media.still(3)))
    assert tx.match("video", media.song(2)) == [] and tx.match("photo", media.still(4)) == []
    result = ohrt("library", "export-hashes", path, "--format", "threatexchange", env=env(LATER, CONSTABLE))
    assert result.exit_code == 2 and "already exists" in result.stderr


def test_a_threatexchange_file_imported_is_a_source_whose_hashes_match_new_captures(signals, media, tmp_path):
    other = new_home(tmp_path / "wmp", team="West Midlands OHRT")
    when = env(LATER, CONSTABLE)
    imported = other.json("library", "import-hashes", signals, "--source", "Meta HMA bank", "--provenance",
                          "received 2026-05-09 from the platform's law enforcement portal", "--expires",
                          "2027-01-31", env=when)
    assert imported["format"] == "threatexchange" and len(imported["added"]) == 4
    [source] = other.json("library", "sources")
    assert (source["name"], source["format"], source["items"], source["last_expiry"]) == (
        "Meta HMA bank", "threatexchange", 4, "2027-01-31")
    assert source["provenance"].startswith("received 2026-05-09") and source["imported_by"] == CONSTABLE
    assert source["file_sha256"] == hashlib.sha256(signals.read_bytes()).hexdigest()
    [entry] = audit_entries(other, "library.import")
    assert entry["detail"]["provenance"] == source["provenance"] and entry["detail"]["added"] == 4

    capture = other.json("capture", "--file", media.reupload("rescaled"), "--url", youtube(9), "--reason",
                         "Re-upload seen", env=when)
    [match] = capture["matches"]
    assert (match["source"], match["by"], match["kind"]) == ("Meta HMA bank", "vpdq", "same visuals")
    assert match["segments"][0]["vpdq_match_percent"] >= 80 and match["item_id"] in imported["added"]
    photo = other.json("capture", "--file", media.still(5), "--url", youtube(8), "--reason", "Photo seen", env=when)
    assert [(m["by"], m["kind"]) for m in photo["matches"]] == [("pdq", "same visuals")]
    unrelated = other.json("capture", "--file", media.song(2), "--url", youtube(7), "--reason", "Seen", env=when)
    assert unrelated["matches"] == []
    said = other.ok("library", "match", capture["id"], env=when).stdout
    assert "Meta HMA bank" in said and "matched by its vPDQ frames" in said

    again = other.json("library", "import-hashes", signals, "--source", "Meta HMA bank", "--expires", "2027-01-31",
                       env=when)
    assert again["added"] == again["updated"] == [] and len(again["unchanged"]) == 4


def test_a_csv_hash_list_matches_by_md5_sha256_and_pdq_and_expires_per_row(media, tmp_path):
    ohrt = new_home(tmp_path / "home")
    when = env(LATER, CONSTABLE)
    song2 = media.song(2).read_bytes()
    still4 = media.still(4).read_bytes()
    pdq5 = fpmod.standard_hashes(media.still(5), media_info.probe(media.still(5))).pdq
    listing = tmp_path / "list.csv"
    listing.write_text("id,md5,sha256,pdq,label,expires_on\n"
                       f"A1,{hashlib.md5(song2).hexdigest()},,,violent extremism,2026-12-31\n"
                       f"A2,,{hashlib.sha256(still4).hexdigest().upper()},,terrorist logo,\n"
                       f"A3,,,{pdq5},propaganda still,\n"
                       f"A4,{'0' * 32},,,old entry,2026-01-01\n")
    result = ohrt.json("library", "import-hashes", listing, "--source", "GIFCT hash list", "--expires", "2026-11-30",
                       env=when)
    assert result["format"] == "csv" and len(result["added"]) == 3
    assert result["skipped"] == [{"ref": "A4", "reason": "expired on 2026-01-01"}]
    items = {i["title"]: i for i in ohrt.json("library", "list")}
    assert items["violent extremism"]["expires_on"] == "2026-12-31"
    assert items["terrorist logo"]["expires_on"] == "2026-11-30" and items["terrorist logo"]["source_name"] == \
        "GIFCT hash list"

    found = {}
    for n, path in enumerate((media.song(2), media.still(4), media.still(5))):
        capture = ohrt.json("capture", "--file", path, "--url", youtube(20 + n), "--reason", "Seen", env=when)
        [match] = capture["matches"]
        found[match["title"]] = (match["by"], match["kind"], match["item_ref"])
    assert found == {"violent extremism": ("md5", "same file", "A1"), "terrorist logo": ("sha256", "same file", "A2"),
                     "propaganda still": ("pdq", "same visuals", "A3")}

    summary = json.loads(ohrt.ok("purge", "--json", env=env("2026-12-01")).stdout)
    assert sorted(u["rule"] for u in summary["purged"]) == ["import", "import"]
    assert [i["title"] for i in ohrt.json("library", "list") if i["status"] == "kept"] == ["violent extremism"]
    assert rows(ohrt, "SELECT COUNT(*) AS n FROM standard_hashes WHERE item_id IS NOT NULL")[0]["n"] == 1


# name: (file name, its text, extra arguments, what the one line says)
BAD = {
    "no source named": ("list.csv", "md5,label\n" + "a" * 32 + ",x\n", [], "--source"),
    "no hash column": ("list.csv", "name,label\nfoo,bar\n", ["--source", "S"], "names no md5, sha256 or pdq column"),
    "a short md5": ("list.csv", "md5,label\nabc,x\n", ["--source", "S"], "line 2: 'abc' is not an MD5"),
    "a bad pdq": ("list.csv", "pdq\n" + "z" * 64 + "\n", ["--source", "S"], "line 2"),
    "a row without a hash": ("list.csv", "md5,label\n" + "a" * 32 + ",x\n,y\n", ["--source", "S"], "line 3 has no hash"),
    "an id twice": ("list.csv", "id,md5\nX," + "a" * 32 + "\nX," + "b" * 32 + "\n", ["--source", "S"], "more than one row"),
    "a bad row expiry": ("list.csv", "md5,expires_on\n" + "a" * 32 + ",31/12/2026\n", ["--source", "S"], "not a date"),
    "an expiry already past": ("list.csv", "md5\n" + "a" * 32 + "\n", ["--source", "S", "--expires", "2026-01-01"],
                               "is not after today"),
    "an unknown signal type": ("signals.txt", "pdq " + "a" * 64 + "\nurl https://example.org/\n", ["--source", "S"],
                               "line 2: signal type 'url'"),
    "a malformed vpdq signal": ("signals.txt", 'vpdq ["abc,100,0.0"]\n', ["--source", "S"], "line 1: the vpdq signal"),
    "a key for a hash list": ("list.csv", "md5\n" + "a" * 32 + "\n", ["--source", "S", "--format", "csv", "--key",
                                                                     "k.pem"], "drop --key"),
    "an unknown format": ("list.csv", "md5\n" + "a" * 32 + "\n", ["--format", "stix"], "is not auto, ohrt"),
    "an empty file": ("signals.txt", "\n", ["--source", "S"], "holds no hashes"),
}


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    return new_home(tmp_path_factory.mktemp("bad-lists") / "home")


@pytest.mark.parametrize("name", BAD)
def test_a_bad_hash_list_is_one_line_exit_2_and_changes_nothing(plain, tmp_path, name):
    file_name, text, extra, said = BAD[name]
    path = tmp_path / file_name
    path.write_text(text)
    before = len(rows(plain, "SELECT * FROM audit"))
    result = plain("library", "import-hashes", path, *extra, env=env(LATER, CONSTABLE))
    assert result.exit_code == 2 and said in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert plain.json("library", "list") == [] and plain.json("library", "sources") == []
    assert len(rows(plain, "SELECT * FROM audit")) == before
