"""config.toml: `init` writes it in the README's form, so the README's blocks can be added by hand; a broken
file is named with its line and how to mend it; `ohrt config check` checks every table and key."""

from __future__ import annotations

import json
import re
from pathlib import Path

from support.home import SERGEANT, as_officer

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_config() -> str:
    section = README.read_text().split("### The configuration file", 1)[1]
    return re.search(r"```toml\n(.*?)```", section, re.S)[1]


def test_init_writes_the_readmes_form_and_its_officer_block_can_be_appended(ohrt):
    text = (ohrt.home / "config.toml").read_text()
    assert "[team]" in text and "[[officers]]" in text and "officers = [" not in text and "[retention]" in text
    block = re.search(r"(\[\[officers\]\]\n(?:\w+ = .*\n)+)", readme_config())[1]
    block = block.replace('"2345"', '"4411"').replace("PS Ann Lee", "DC Kim Ho")
    (ohrt.home / "config.toml").write_text(text + "\n" + block)
    assert "4411" in [o["number"] for o in ohrt.json("officer", "list")]
    assert ohrt.ok("config", "check").stdout.strip().endswith("is usable")


def test_officer_add_keeps_the_teams_comments(ohrt):
    path = ohrt.home / "config.toml"
    path.write_text(path.read_text() + "\n# the roster is reviewed every quarter\n")
    ohrt.ok("officer", "add", "DC Kim Ho", "--number", "4411", "--role", "constable", env=as_officer(SERGEANT))
    text = path.read_text()
    assert "# the roster is reviewed every quarter" in text and text.count("[[officers]]") == 4


def test_a_table_given_twice_is_named_with_its_line_and_how_to_mend_it(ohrt):
    path = ohrt.home / "config.toml"
    lines = (path.read_text() + "\n[retention]\nmonths = 24\n").splitlines()
    path.write_text("\n".join(lines) + "\n")
    result = ohrt("task", "list")
    assert result.exit_code != 0
    message = result.stderr.strip()
    assert f"line {len(lines) - 1} ([retention])" in message and "given twice" in message
    assert "add the keys to the [retention] already in the file" in message and "ohrt config check" in message
    assert "Traceback" not in message and len(message.splitlines()) == 1
    checked = ohrt("config", "check", "--json")
    assert checked.exit_code == 2
    assert json.loads(checked.stdout)["findings"][0]["line"] == len(lines) - 1


def test_an_inline_roster_with_a_block_added_says_to_write_blocks(ohrt):
    path = ohrt.home / "config.toml"
    # as `init` wrote it before: the roster inline, above [team]
    path.write_text('officers = [{ name = "PS Ann Lee", number = "2345", role = "sergeant" }]\n'
                    '[team]\nname = "T"\nmailbox = "t@example.police.uk"\n'
                    '\n[[officers]]\nname = "DC Kim Ho"\nnumber = "4411"\nrole = "constable"\n')
    result = ohrt("officer", "list")
    assert result.exit_code != 0 and "line 6 ([[officers]])" in result.stderr
    assert "write every officer as a [[officers]] block" in result.stderr


def test_config_check_names_each_bad_value_with_its_line(ohrt):
    path = ohrt.home / "config.toml"
    text = path.read_text() + ('\n[capture]\nreview_crf = "high"\nfont = "/no/such/font.ttf"\n'
                               '\n[retension]\nmonths = 6\n\n[routes.tiktok]\nroute = "email"\n')
    path.write_text(text)
    lines = text.splitlines()
    crf, font = lines.index('review_crf = "high"') + 1, lines.index('font = "/no/such/font.ttf"') + 1
    result = ohrt("config", "check")
    assert result.exit_code == 2
    said = result.stderr
    assert f"line {crf}: [capture] review_crf" in said
    assert "must be a whole number 0–51" in said
    assert f"line {font}: [capture] font" in said and "names no file" in said
    assert f"line {lines.index('[retension]') + 1}: [retension]: ohrt reads no table [retension]: a typo?" in said
    assert "[routes.tiktok] route: route = 'email' must be one of portal, mailbox, individual" in said
    data = json.loads(ohrt("config", "check", "--json").stdout)
    assert not data["ok"] and {f["level"] for f in data["findings"]} == {"error", "warning"}


def test_a_configured_font_that_does_not_exist_is_said_not_silent(ohrt, make_clip):
    from support.refer import set_config

    set_config(ohrt, "capture", {"font": "/no/such/font.ttf"})
    result = ohrt.ok("capture", "--file", make_clip("font-clip", seconds=2), "--url", "https://youtu.be/abcdefghijk",
                     "--reason", "font check", env=as_officer(SERGEANT))
    assert "note: [capture] font '/no/such/font.ttf' in config.toml names no file: used" in result.stderr
    assert "contact-sheet ok" in result.stdout


def test_home_option_comes_before_ohrt_home(ohrt, tmp_path):
    from support.home import new_home

    other = new_home(tmp_path / "other", team="Other Team", roster=False)
    out = ohrt.ok("--home", str(other.home), "officer", "list", "--json").stdout  # OHRT_HOME names `ohrt`'s home
    assert [o["name"] for o in json.loads(out)] == ["PS Ann Lee"]
    assert len(ohrt.json("officer", "list")) == 3
