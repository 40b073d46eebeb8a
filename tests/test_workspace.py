"""The review workspace (`ohrt review open`) in a real browser (Debian's Chromium through Playwright): the
player, key frames, marking at the playhead and saving through `ohrt review`'s own function, the platform's
clauses only, the token, origin and CSRF checks, and the re-upload comparison. Each screen is saved as a
PNG in the folder the run names at its end."""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from ohrt_cli.ground import browser

from support.home import CONSTABLE, TASK_ARGS, audit_entries, ffmpeg, new_home, rows, start_ohrt
from support.library import captured_task, env, library_item, youtube

pytestmark = pytest.mark.skipif(not Path(browser.DEFAULT_EXECUTABLE).exists() and not shutil.which("chromium"),
                                reason="Chromium is not installed (make setup installs it)")

WHEN = "2026-03-05"
LATER = "2026-05-10"
REASON = "review for the workspace test"
NOTE = "Taunts a rival group"


# ------------------------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def screens(tmp_path_factory, request) -> Path:
    folder = tmp_path_factory.mktemp("workspace-screens")
    yield folder
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"\nworkspace screenshots: {folder}")


@pytest.fixture(scope="module")
def home(tmp_path_factory, library_media):
    """A home with a library item (song 1, removed), task `reupload` capturing a clip of it (a match), and
    task `clip` capturing a 10 s clip with a key frame every 2 s, with police-only research."""
    ohrt = new_home(tmp_path_factory.mktemp("workspace") / "home", env=env(WHEN))
    clip = tmp_path_factory.mktemp("workspace-media") / "clip.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=10", "-f", "lavfi", "-i",
           "sine=frequency=440:duration=10", "-c:v", "libx264", "-preset", "ultrafast", "-g", "50", "-pix_fmt",
           "yuv420p", "-c:a", "aac", "-shortest", "-movflags", "+faststart", clip)
    library = library_item(ohrt, library_media.song(1), youtube(1), when=WHEN)
    reupload, _ = captured_task(ohrt, library_media.clipped(1), "https://www.youtube.com/watch?v=Reup0000001",
                                when=LATER)
    task = ohrt.ok("task", "add", "--url", "https://www.youtube.com/watch?v=Clip0000001", *TASK_ARGS,
                   "--subject", "Zebedee Quartermaine", env=env(LATER)).stdout.strip()
    ohrt.ok("capture", "--file", clip, "--url", "https://www.youtube.com/watch?v=Clip0000001", "--reason", "test",
            "--task", task, env=env(LATER, CONSTABLE))
    ohrt.ok("review", "research", task, "--system", "Aware", "--reference", "CRIMINT 5550001", "--date", LATER,
            "--summary", "Linked to a 2025 stabbing", env=env(LATER, CONSTABLE))
    return ohrt, {"clip": task, "reupload": reupload, "item": library["item"]}


class Workspace:
    """`ohrt review open TASK --no-browser` as its own process, and the address it printed."""

    def __init__(self, ohrt, task: str, *, browser: str | None = None):
        self.proc = start_ohrt(ohrt.home, "review", "open", task, "--reason", REASON,
                               *([] if browser else ["--no-browser"]),
                               extra_env={"OHRT_OFFICER": CONSTABLE, "OHRT_NOW": f"{LATER}T10:00:00+00:00",
                                          "OHRT_DEBUG": "1", **({"BROWSER": browser} if browser else {})})
        self.started = time.monotonic()
        ready, _, _ = select.select([self.proc.stdout], [], [], 20)
        line = self.proc.stdout.readline() if ready else ""
        found = re.search(r"(http://127\.0\.0\.1:(\d+)/[A-Za-z0-9_-]+/)", line)
        assert found, f"no address printed: {line!r} {self.proc.stderr.read() if self.proc.poll() is not None else ''}"
        self.url, self.port = found[1], int(found[2])

    def stop(self) -> tuple[int, str, str]:
        if self.proc.poll() is None:
            self.proc.terminate()
        out, err = self.proc.communicate(timeout=20)
        return self.proc.returncode, out, err


@pytest.fixture(scope="module")
def workspaces(home, chromium):
    """workspaces(name) → the Workspace of task `name`, started once for the module, with a page of its own
    kept open (as the officer's tab is) so that the tests' pages may come and go."""
    ohrt, tasks = home
    opened: dict[str, Workspace] = {}
    keeper = chromium.new_context()

    def open_(name: str) -> Workspace:
        if name not in opened:
            opened[name] = Workspace(ohrt, tasks[name])
            keeper.new_page().goto(opened[name].url)
        return opened[name]

    yield open_
    keeper.close()
    for ws in opened.values():
        _, _, err = ws.stop()
        assert "Traceback" not in err, err


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(browser.find_executable()), headless=True,
                                              chromium_sandbox=browser.sandboxed(), args=browser.FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    opened = context.new_page()
    yield opened
    context.close()


def playable(page, selector: str = "video.player") -> None:
    # functions, not expressions: the page's Content-Security-Policy forbids eval
    page.wait_for_function(f"() => document.querySelector('{selector}') && "
                           f"document.querySelector('{selector}').readyState >= 2", timeout=10_000)


def time_of(page, player_id: str) -> float:
    return page.evaluate(f"document.getElementById('{player_id}').currentTime")


def wait_time(page, player_id: str, near: float) -> float:
    page.wait_for_function(f"() => Math.abs(document.getElementById('{player_id}').currentTime - {near}) < 0.05 && "
                           f"!document.getElementById('{player_id}').seeking", timeout=5_000)
    return time_of(page, player_id)


# ------------------------------------------------------------------------------------------- tests

def test_opening_is_a_consultation_audited_with_its_reason(home, workspaces):
    ohrt, tasks = home
    ws = workspaces("clip")
    entries = [e for e in audit_entries(ohrt, "capture.open") if e["detail"].get("task") == tasks["clip"]]
    assert entries and entries[-1]["reason"] == REASON and entries[-1]["officer"] == CONSTABLE
    assert ws.url.startswith("http://127.0.0.1:")


def test_the_player_seeks_to_a_key_frame_when_it_is_clicked(workspaces, page, screens):
    ws = workspaces("clip")
    page.goto(ws.url)
    playable(page)
    assert page.locator("img.keyframe").count() == 5
    page.locator("img.keyframe[data-t='4.0']").click()
    assert abs(wait_time(page, "player-1", 4.0) - 4.0) < 0.05
    assert page.locator(".now").first.inner_text() == "00:04.00"
    page.keyboard.press(".")  # one frame on, at the manifest's 25 frames a second
    assert abs(wait_time(page, "player-1", 4.04) - 4.04) < 0.02
    # the contact sheet: 16 tiles, 4 by 4, one every 0.625 s; the third of the second row is tile 6, 3.75 s
    page.click("details.sheet summary")
    sheet = page.locator("img.contact-sheet")
    box = sheet.bounding_box()
    sheet.click(position={"x": box["width"] * 2.5 / 4, "y": box["height"] * 1.5 / 4})
    assert abs(wait_time(page, "player-1", 3.76) - 3.76) < 0.02  # 3.75 s is frame 93.75: the nearest frame
    # the police-only research is there, in its own marked panel
    panel = page.locator("#police-only")
    assert "POLICE ONLY" in panel.locator("summary").inner_text()
    panel.locator("summary").click()
    assert "CRIMINT 5550001" in panel.inner_text() and "Zebedee Quartermaine" in panel.inner_text()
    assert "Goads a rival group" in page.inner_text(".task")
    page.screenshot(path=screens / "1-workspace-key-frame.png", full_page=True)


def test_a_finding_marked_with_the_keys_is_saved_as_the_review_row(home, workspaces, page, screens):
    ohrt, tasks = home
    ws = workspaces("clip")
    page.goto(ws.url)
    playable(page)
    page.locator("img.keyframe[data-t='2.0']").click()
    wait_time(page, "player-1", 2.0)
    page.keyboard.press("i")
    page.locator("img.keyframe[data-t='6.0']").click()
    wait_time(page, "player-1", 6.0)
    page.keyboard.press("o")
    assert (page.inner_text("#mark-in"), page.inner_text("#mark-out")) == ("00:02.00", "00:06.00")
    page.click("#add-finding")
    row = page.locator("#finding-rows .finding").last
    assert row.locator("[name=finding_at]").input_value() == "00:02-00:06"
    row.locator("select").select_option("provocative-language")
    row.locator("[name=finding_note]").fill(NOTE)
    page.check("input[name=clause][value='youtube:violent-criminal-orgs']")
    page.check("input[name=decision][value=refer]")
    page.select_option("select[name=format]", "music-video")
    page.screenshot(path=screens / "2-marked.png", full_page=True)
    page.click("#save")
    page.wait_for_selector("#saved")
    page.screenshot(path=screens / "3-saved.png", full_page=True)

    [review] = rows(ohrt, "SELECT * FROM reviews WHERE task_id = ? AND superseded_by IS NULL", [tasks["clip"]])
    assert (review["decision"], review["format"], review["officer"]) == ("refer", "music-video", CONSTABLE)
    [finding] = rows(ohrt, "SELECT * FROM findings WHERE review_id = ?", [review["id"]])
    assert (finding["factor"], finding["note"], finding["at"]) == ("provocative-language", NOTE, "00:02-00:06")
    [entry] = [e for e in audit_entries(ohrt, "review.record") if e["object_id"] == review["id"]]
    assert entry["officer"] == CONSTABLE and entry["detail"]["clauses"] == ["youtube:violent-criminal-orgs"]
    # the CLI reads back what the workspace saved
    assert "00:02-00:06" in ohrt.ok("review", "show", tasks["clip"]).stdout

    # a range past the end is refused beside its finding, in `ohrt review`'s words, and nothing is recorded
    page.locator("#finding-rows .finding [name=finding_at]").first.fill("00:08-00:30")
    page.click("#save")
    error = page.locator("[data-field='finding-1']")
    assert "runs past the end of the media" in error.inner_text()
    assert len(rows(ohrt, "SELECT id FROM reviews WHERE task_id = ?", [tasks["clip"]])) == 1

    # the draft referral, with the guard's verdict, before QA
    page.goto(ws.url + "preview")
    assert "The guard lets it go" in page.inner_text("#verdict") and NOTE in page.inner_text("main")
    page.screenshot(path=screens / "4-preview.png", full_page=True)


def test_a_clause_of_another_platform_cannot_be_chosen_nor_forged(home, workspaces, page, screens):
    ohrt, tasks = home
    ws = workspaces("clip")
    page.goto(ws.url)
    offered = page.eval_on_selector_all("input[name=clause]", "els => els.map(e => e.value)")
    assert offered and all(value.startswith("youtube:") for value in offered)
    before = rows(ohrt, "SELECT id FROM reviews WHERE task_id = ?", [tasks["clip"]])
    # the page's own origin and CSRF token, but a TikTok clause
    status = page.evaluate("""async () => {
        const form = new URLSearchParams({csrf: document.body.dataset.csrf, decision: 'refer', format: 'video',
            finding_factor: 'provocative-language', finding_note: 'Taunts', finding_at: '00:02-00:06',
            clause: 'tiktok:violent-and-hateful-orgs'});
        const r = await fetch(document.body.dataset.base + '/review', {method: 'POST', body: form});
        document.open(); document.write(await r.text()); document.close();
        return r.status; }""")
    assert status == 400
    assert "is TikTok's, but" in page.inner_text("[data-field='clauses']")
    page.screenshot(path=screens / "5-foreign-clause-refused.png", full_page=True)
    assert rows(ohrt, "SELECT id FROM reviews WHERE task_id = ?", [tasks["clip"]]) == before
    # an nfa without its reason: `ohrt review`'s own line, beside the reason
    page.goto(ws.url)
    page.check("input[name=decision][value=nfa]")
    page.select_option("select[name=format]", "video")
    page.click("#save")
    assert "no further action needs a reason" in page.inner_text("[data-field='reason']")
    assert rows(ohrt, "SELECT id FROM reviews WHERE task_id = ?", [tasks["clip"]]) == before


def _request(url: str, *, data: bytes | None = None, headers: dict | None = None) -> int:
    request = urllib.request.Request(url, data=data, headers=headers or {}, method="POST" if data else "GET")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_a_request_without_the_token_or_from_another_origin_is_refused(home, workspaces, page):
    ohrt, tasks = home
    ws = workspaces("clip")
    root = f"http://127.0.0.1:{ws.port}"
    assert _request(ws.url) == 200
    assert _request(root + "/") == 403 and _request(root + "/static/workspace.js") == 403
    assert _request(ws.url.replace(ws.url.split("/")[3], "x" * 43)) == 403
    # DNS rebinding: the right token under another host name
    assert _request(ws.url, headers={"Host": f"attacker.example:{ws.port}"}) == 403
    page.goto(ws.url)
    csrf = page.evaluate("document.body.dataset.csrf")
    form = f"csrf={csrf}&decision=nfa&format=video&reason=forged".encode()
    kind = {"Content-Type": "application/x-www-form-urlencoded"}
    assert _request(ws.url + "review", data=form, headers={**kind, "Origin": "http://attacker.example"}) == 403
    assert _request(ws.url + "review", data=form, headers=kind) == 403  # no Origin or Referer at all
    assert _request(ws.url + "review", data=b"csrf=wrong&decision=nfa&format=video&reason=forged",
                    headers={**kind, "Origin": root}) == 403
    assert rows(ohrt, "SELECT id FROM reviews WHERE reason = 'forged'") == []
    # files only by id: a path is not found
    assert _request(ws.url + "media/..%2F..%2Fohrt.db") == 404
    # the players' byte ranges
    media = re.search(r'/media/([0-9a-f]{16})"', page.content())[1]
    request = urllib.request.Request(ws.url + f"media/{media}", headers={"Range": "bytes=100-199"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 206 and len(answer.read()) == 100
        assert re.fullmatch(r"bytes 100-199/\d+", answer.headers["Content-Range"])
    # it listens on 127.0.0.1 alone (the kernel's own table of listening sockets)
    listening = [line.split()[1] for line in Path("/proc/net/tcp").read_text().splitlines()[1:]
                 if line.split()[3] == "0A" and int(line.split()[1].split(":")[1], 16) == ws.port]
    assert listening == [f"0100007F:{ws.port:04X}"]
    assert not any(int(line.split()[1].split(":")[1], 16) == ws.port and line.split()[3] == "0A"
                   for line in Path("/proc/net/tcp6").read_text().splitlines()[1:])


def test_the_match_view_seeks_both_players_to_the_aligned_ranges(home, workspaces, page, screens):
    ohrt, tasks = home
    ws = workspaces("reupload")
    page.goto(ws.url)
    library_capture = rows(ohrt, "SELECT capture_id FROM library_items WHERE id = ?", [tasks["item"]])[0]["capture_id"]
    page.click(f"a.match-link:text('{tasks['item']}')")
    # reading the comparison consults nothing of the other task; showing its capture is a POST, audited
    assert [e for e in audit_entries(ohrt, "capture.open") if e["object_id"] == library_capture] == []
    page.click("#consult")
    playable(page, "#playerA-1")
    playable(page, "#playerB-1")
    buttons = page.locator("button.segment")
    assert buttons.count() >= 1
    assert page.locator(".pdq").count() + page.locator(".ber").count() == buttons.count()
    for n in range(buttons.count()):
        button = buttons.nth(n)
        a, b = float(button.get_attribute("data-a")), float(button.get_attribute("data-b"))
        button.click()
        assert abs(wait_time(page, "playerA-1", a) - a) < 0.05 and abs(wait_time(page, "playerB-1", b) - b) < 0.05
    assert page.locator(".pdq").count() >= 1 and page.locator(".ber").count() >= 1
    page.screenshot(path=screens / "6-match.png", full_page=True)
    # the library item's capture was consulted too, once, with the same reason
    page.reload()
    assert [e["reason"] for e in audit_entries(ohrt, "capture.open") if e["object_id"] == library_capture] == [REASON]


def test_the_workspace_stops_when_its_page_is_closed(home, chromium):
    ohrt, tasks = home
    ws = Workspace(ohrt, tasks["clip"])
    try:
        context = chromium.new_context()
        opened = context.new_page()
        opened.goto(ws.url)
        opened.close(run_before_unload=True)
        context.close()
        code, out, err = ws.proc.wait(timeout=20), ws.proc.stdout.read(), ws.proc.stderr.read()
    finally:
        if ws.proc.poll() is None:
            ws.proc.kill()
    assert code == 0 and "workspace closed: the page was closed." in out and err == ""


def test_ctrl_c_stops_the_workspace_in_one_line_with_exit_130(home):
    import signal

    ohrt, tasks = home
    ws = Workspace(ohrt, tasks["clip"])
    ws.proc.send_signal(signal.SIGINT)
    ws.proc.wait(timeout=10)
    code, out, err = ws.stop()
    assert code == 130 and out.strip().splitlines()[-1] == "workspace closed (Ctrl-C); what was saved in it is kept."
    assert err == ""


def test_the_workspace_stops_by_itself_when_nothing_is_done_in_it(home):
    ohrt, tasks = home
    proc = start_ohrt(ohrt.home, "review", "open", tasks["clip"], "--reason", REASON, "--no-browser", "--idle", "0.02",
                      extra_env={"OHRT_OFFICER": CONSTABLE, "OHRT_DEBUG": "1"})
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0 and "workspace closed: nothing was done in it for 0.02 min." in out and err == ""


def test_the_reason_is_required_and_a_bad_idle_is_refused_before_anything_listens(home):
    ohrt, tasks = home
    result = ohrt("review", "open", tasks["clip"], "--no-browser", env={"OHRT_OFFICER": CONSTABLE})
    assert result.exit_code == 2 and "--reason is missing" in result.stderr and result.stdout == ""
    result = ohrt("review", "open", tasks["clip"], "--reason", "x", "--idle", "0", "--no-browser")
    assert result.exit_code == 2 and "--idle 0 is not a positive number" in result.stderr


def test_subtitles_are_served_as_webvtt(tmp_path):
    from ohrt_cli.cli.workspace.view import vtt_of

    srt = tmp_path / "clip.en.srt"
    srt.write_text("1\r\n00:00:01,500 --> 00:00:03,000\r\nRun up on them\r\n", encoding="utf-8")
    assert vtt_of(srt).decode() == "WEBVTT\n\n1\n00:00:01.500 --> 00:00:03.000\nRun up on them\n"
    ass = tmp_path / "clip.en.ass"
    ffmpeg("-i", srt, ass)
    converted = vtt_of(ass).decode()
    assert converted.startswith("WEBVTT") and "00:01.500 --> 00:03.000" in converted and "Run up on them" in converted


def test_a_post_of_two_videos_shows_them_side_by_side_with_its_page_and_marks_name_the_item(
        home, site, make_clip, page, screens):
    ohrt, _ = home
    site.put("ws/one.mp4", make_clip("ws-one", seconds=2))
    site.put("ws/two.mp4", make_clip("ws-two", seconds=3, freq=880))
    site.put("ws/one.en.srt", "1\n00:00:00,500 --> 00:00:01,500\nRun up on them\n")
    from support.comments import LD

    url = site.put("ws/post.html", "<html><head><title>Two clips</title><script type='application/ld+json'>"
                   f"{json.dumps(LD)}</script></head><body><p>Words of the post</p>"
                   '<video src="one.mp4"><track kind="subtitles" src="one.en.srt" srclang="en"></video>'
                   '<video src="two.mp4"></video></body></html>')
    # MP4s play as they are: no derivative is needed for this page (nor the time to make them)
    capture = ohrt.json("capture", url, "--reason", "Two clips goading a rival", "--comments", "--no-derivatives",
                        env=env(LATER, CONSTABLE))
    ws = Workspace(ohrt, capture["task_id"])
    try:
        page.goto(ws.url)
        playable(page, "#player-1")
        playable(page, "#player-2")
        assert page.locator(".items.several figure.item").count() == 2
        # the subtitles yt-dlp kept of the first video, as WebVTT, on its own player only
        page.wait_for_function("() => { const t = document.getElementById('player-1').textTracks[0];"
                               " return t && t.cues && t.cues.length > 0; }", timeout=10_000)
        assert page.evaluate("document.getElementById('player-1').textTracks[0].cues[0].text") == "Run up on them"
        assert page.evaluate("document.getElementById('player-2').textTracks.length") == 0
        assert page.locator("img.screenshot").count() == 1
        assert "Words of the post" in page.text_content("pre.page-text")
        # marks made on the second player name its item
        page.evaluate("document.getElementById('player-2').currentTime = 1")
        wait_time(page, "player-2", 1)
        page.keyboard.press("i")
        page.evaluate("document.getElementById('player-2').currentTime = 2.5")
        wait_time(page, "player-2", 2.5)
        page.keyboard.press("o")
        page.click("#add-finding")
        row = page.locator("#finding-rows .finding").last
        assert row.locator("[name=finding_at]").input_value() == "item 2 at 00:01-00:03"
        row.locator("select").select_option("public-safety")
        row.locator("[name=finding_note]").fill("Names a rival's street")
        # a comment kept with the capture, cited from its list
        assert "@kaydee_007" in page.inner_text(".comments") and "you lot are next" in page.inner_text(".comments")
        page.click("button.cite[data-cite='comment 1']")
        cited = page.locator("#finding-rows .finding").last
        assert cited.locator("[name=finding_at]").input_value() == "comment 1"
        cited.locator("select").select_option("public-safety")
        cited.locator("[name=finding_note]").fill("A threat under the post")
        page.check("input[name=decision][value=nfa]")
        page.select_option("select[name=format]", "video")
        page.fill("input[name=reason]", "Not enough to refer on its own")
        page.screenshot(path=screens / "7-two-items.png", full_page=True)
        page.click("#save")
        page.wait_for_selector("#saved")
        found = rows(ohrt, "SELECT f.at FROM findings f JOIN reviews r ON r.id = f.review_id WHERE r.task_id = ? "
                     "ORDER BY f.id", [capture["task_id"]])
        assert [f["at"] for f in found] == ["item 2 at 00:01-00:03", "comment 1"]
    finally:
        _, _, err = ws.stop()
    assert "Traceback" not in err


def test_the_preview_shows_the_guards_refusal_and_offers_no_draft(home, workspaces):
    ohrt, tasks = home
    ws = workspaces("clip")
    # a subject's name may stand in a review (police-only) but must not reach the platform
    ohrt.ok("review", tasks["clip"], "--decision", "refer", "--format", "video", "--finding",
            "provocative-language|Zebedee Quartermaine taunts a rival|00:02-00:06", "--clause",
            "youtube:violent-criminal-orgs",
            env=env(LATER, CONSTABLE))
    with urllib.request.urlopen(ws.url + "preview", timeout=10) as answer:
        shown = answer.read().decode()
    assert "The guard refuses it" in shown and "would disclose the name of a subject" in shown
    assert 'id="draft"' not in shown
    assert rows(ohrt, "SELECT id FROM referrals WHERE task_id = ?", [tasks["clip"]]) == []


def test_a_task_with_no_capture_is_opened_with_its_own_audit_entry(home):
    ohrt, _ = home
    task = ohrt.ok("task", "add", "--url", "https://www.youtube.com/watch?v=Gone0000001", *TASK_ARGS,
                   env=env(LATER)).stdout.strip()
    result = ohrt("review", "open", task, "--reason", REASON, "--no-browser", "--idle", "0.01",
                  env={"OHRT_OFFICER": CONSTABLE})
    assert result.exit_code == 0 and "workspace closed: nothing was done in it" in result.stdout
    [entry] = [e for e in audit_entries(ohrt, "review.open") if e["object_id"] == task]
    assert entry["reason"] == REASON
    assert (entry["detail"]["purpose"], entry["detail"]["capture"]) == ("consultation", None)


def test_a_protected_key_is_unlocked_once_at_the_terminal_and_the_pages_sign_with_it(home):
    """The passphrase is asked where the officer is, when the workspace opens; saving in the page then signs
    with the key without asking again (a request could not answer a prompt)."""
    import pty
    import signal
    import urllib.parse

    from support.home import INSPECTOR, OHRT_BIN

    ohrt, tasks = home
    ohrt.ok("officer", "key", "--passphrase", env={"OHRT_OFFICER": INSPECTOR, "OHRT_PASSPHRASE": "s3cret words"})
    environ = {k: v for k, v in os.environ.items() if not k.startswith("OHRT_")}
    environ.update(OHRT_HOME=str(ohrt.home), OHRT_OFFICER=INSPECTOR, OHRT_DEBUG="1")
    pid, terminal = pty.fork()
    if pid == 0:  # the child: ohrt at a terminal
        os.execve(OHRT_BIN, ["ohrt", "review", "open", tasks["reupload"], "--reason", REASON, "--no-browser"], environ)
    said = b""

    def read_until(pattern: bytes) -> re.Match:
        nonlocal said
        end = time.monotonic() + 20
        while time.monotonic() < end:
            if select.select([terminal], [], [], 0.5)[0]:
                said += os.read(terminal, 4096)
                found = re.search(pattern, said)
                if found:
                    return found
        raise AssertionError(f"{pattern!r} not said: {said!r}")

    try:
        read_until(rb"passphrase of your personal key: ")
        os.write(terminal, b"s3cret words\n")
        url = read_until(rb"(http://127\.0\.0\.1:\d+/[A-Za-z0-9_-]+/)")[1].decode()
        with urllib.request.urlopen(url, timeout=10) as answer:
            csrf = re.search(r'data-csrf="([^"]+)"', answer.read().decode())[1]
        form = urllib.parse.urlencode({"csrf": csrf, "decision": "nfa", "format": "music-video",
                                       "reason": "A re-upload already removed once"}).encode()
        status = _request(url + "review", data=form, headers={"Origin": url.rsplit("/", 2)[0],
                                                             "Content-Type": "application/x-www-form-urlencoded"})
        assert status == 200  # the 303 to the page, followed
    finally:
        os.kill(pid, signal.SIGINT)
        os.waitpid(pid, 0)
    assert said.count(b"passphrase of your personal key") == 1
    [review] = rows(ohrt, "SELECT id, officer FROM reviews WHERE task_id = ? AND superseded_by IS NULL",
                    [tasks["reupload"]])
    assert review["officer"] == INSPECTOR
    [entry] = [e for e in audit_entries(ohrt, "review.record") if e["object_id"] == review["id"]]
    signed = rows(ohrt, "SELECT officer FROM audit_signatures WHERE seq = ?", [entry["seq"]])
    assert [s["officer"] for s in signed] == [INSPECTOR]
    assert ohrt.ok("audit", "verify").exit_code == 0


def test_the_browser_is_opened_on_a_private_file_so_the_token_stands_on_no_command_line(home, tmp_path):
    ohrt, tasks = home
    seen = tmp_path / "seen"
    script = tmp_path / "browser.sh"  # $BROWSER, as webbrowser honours it: records what it was given
    script.write_text(f'#!/bin/sh\necho "$1" > {seen}.arg\nstat -c %a "${{1#file://}}" > {seen}.mode\n'
                      f'cp "${{1#file://}}" {seen}.html\n')
    script.chmod(0o755)
    ws = Workspace(ohrt, tasks["clip"], browser=str(script))
    try:
        end = time.monotonic() + 15
        while not (tmp_path / "seen.html").exists() and time.monotonic() < end:
            time.sleep(0.1)
    finally:
        code, out, err = ws.stop()
    given = (tmp_path / "seen.arg").read_text().strip()
    token = ws.url.split("/")[3]
    assert given.startswith("file:///") and token not in given
    assert (tmp_path / "seen.mode").read_text().strip() == "600"
    assert f'url={ws.url}"' in (tmp_path / "seen.html").read_text()
    assert not Path(given[len("file://"):]).exists()  # gone with the workspace
    assert "Traceback" not in err


def test_the_workspace_waits_for_its_last_open_page_only():
    from ohrt_cli.cli.workspace.server import BYE_GRACE_SECONDS, GONE_SECONDS, Lifetime

    now = [0.0]
    two_tabs = Lifetime(1800, clock=lambda: now[0])
    two_tabs.seen("a", active=True)
    two_tabs.seen("b", active=False)
    two_tabs.bye("a")
    now[0] += BYE_GRACE_SECONDS + 1
    assert two_tabs.why_stop() is None  # b is still open
    two_tabs.bye("b")
    now[0] += BYE_GRACE_SECONDS
    assert two_tabs.why_stop() == "the page was closed"
    # a page closed at once: its goodbye may come in before its hello
    hasty = Lifetime(1800, clock=lambda: now[0])
    hasty.bye("c")
    hasty.seen("c", active=True)
    now[0] += BYE_GRACE_SECONDS
    assert hasty.why_stop() == "the page was closed"
    # a page that stops saying it is open (its browser killed) is let go
    killed = Lifetime(1800, clock=lambda: now[0])
    killed.seen("d", active=True)
    now[0] += GONE_SECONDS - 1
    assert killed.why_stop() is None
    now[0] += 1
    assert killed.why_stop() == "the page was closed"
