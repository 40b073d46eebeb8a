"""Nothing sensitive leaves for a platform, SOP 6.4 (issue 5, point 3): the allow-listed context, the
sandboxed templates with strict undefined, team overrides, and the guard over free text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ohrt_cli.stages import disclosure, refer
from ohrt_cli.stages import review as review_stage
from ohrt_cli.ground.context import open_context
from ohrt_cli.ground.resources import templates_dir
from support.refer import (CONSTABLE, add_task, approve, as_officer, draft, plain_body, read_eml, real_contacts,
                           review, reviewed_task, sent, set_config)

SUBJECTS = ["Zebedee Quartermaine", "Marlowe Finch"]
REFS = ["CAD:1234/21NOV26", "CRIS:4212345/26", "Merlin:26MAB012345", "Connect:CON-77/2026"]
RESEARCH = "Aware|CRIMINT 99887766|2026-01-03|Linked to the stabbing of Ottoline Vexley in Peckham"
APPLICANT = "DC Persephone Rae"
SENSITIVE = [*SUBJECTS, "1234/21NOV26", "4212345/26", "26MAB012345", "CON-77/2026", "99887766", "Ottoline",
             "Vexley", "Peckham", APPLICANT, "Persephone", "Central West", "Gangs", "Goads a rival group",
             "PS Ann Lee", "PC Sam Okafor", "Insp Ray Diaz", "Okafor", "Diaz"]


@pytest.fixture(autouse=True)
def contacts(ohrt):
    real_contacts(ohrt)


def sensitive_task(ohrt, platform: str) -> str:
    """A reviewed task carrying subjects, incident references, indices research and an applicant."""
    extra = [arg for s in SUBJECTS for arg in ("--subject", s)] + [arg for r in REFS for arg in ("--ref", r)]
    task_id = add_task(ohrt, platform, *extra)
    ohrt.db().execute("UPDATE tasks SET applicant_name = ? WHERE id = ?", [APPLICANT, task_id])
    ohrt.db().conn.commit()
    review(ohrt, task_id, platform, "--research", RESEARCH,
           findings=("provocative-language|Names a rival and mocks his injuries",
                     "gang-affiliation|Shows the hand signs of a named group"))
    return task_id


def assert_clean(text: str, where: str) -> None:
    for secret in SENSITIVE:
        assert secret.lower() not in text.lower(), f"{secret!r} leaked into {where}"


def drafted_texts(home: Path) -> dict[str, str]:
    """Every drafted file, decoded: .eml as its headers and its decoded parts, .txt as text."""
    texts = {}
    for path in sorted((home / "referrals").rglob("*")):
        if path.suffix == ".eml":
            message = read_eml(path)
            parts = [part.get_content() for part in message.walk() if part.get_content_maintype() == "text"]
            texts[str(path)] = "\n".join([message["Subject"], message["To"], message["From"], *parts])
        elif path.suffix == ".txt":
            texts[str(path)] = path.read_text(encoding="utf-8")
    return texts


def test_no_sensitive_string_reaches_any_drafted_referral_or_appeal(ohrt):
    set_config(ohrt, "routes.facebook", {"contact": "jo.bloggs@meta.example.com", "contact_name": "Jo Bloggs"})
    for platform in ("youtube", "instagram", "tiktok", "facebook"):
        task_id = sensitive_task(ohrt, platform)
        referral = draft(ohrt, task_id)
        approve(ohrt, referral["id"])
        sent(ohrt, referral["id"], "--platform-ref", f"{platform}-1")
        ohrt.ok("refer", "outcome", referral["id"], "--not-removed", "--note", f"Left up; {SUBJECTS[0]} not shown",
                env=as_officer(CONSTABLE))
        ohrt.ok("refer", "appeal", referral["id"], env=as_officer(CONSTABLE))
    texts = drafted_texts(ohrt.home)
    routes = {p.split("/")[-1] for p in texts}
    assert routes == {"portal.txt", "checklist.txt", "referral.eml", "appeal.eml"}
    assert len(texts) == 2 * (2 + 3)  # youtube: portal + checklist, twice; three email routes, twice
    for where, text in texts.items():
        assert "Names a rival and mocks his injuries" in text or "checklist" in where
        assert_clean(text, where)


def test_every_shipped_template_renders_without_sensitive_data_for_every_route(ohrt):
    set_config(ohrt, "routes.facebook", {"contact": "jo.bloggs@meta.example.com", "contact_name": "Jo Bloggs"})
    names = sorted(p.name for p in (templates_dir() / "referral").iterdir() if not p.name.startswith("_"))
    assert {"referral-subject.txt", "referral-body.txt", "referral-body.html", "referral-portal.txt",
            "appeal-subject.txt", "appeal-body.txt", "appeal-body.html", "appeal-portal.txt",
            "portal-checklist.txt"} <= set(names)
    tasks = {platform: sensitive_task(ohrt, platform) for platform in ("youtube", "instagram", "facebook")}
    ctx = open_context(ohrt.home, CONSTABLE)
    try:
        renderer = refer.platform_renderer(ctx)
        original = {"id": "R-2026-000009", "kind": "referral", "sent_on": "2026-01-05", "platform_ref": "X-1",
                    "outcome_on": "2026-01-09", "outcome_note": SUBJECTS[0]}
        for platform, task_id in tasks.items():
            current = review_stage.current_review(ctx, task_id)
            route = refer.route_for(ctx, platform)
            for kind in ("referral", "appeal"):
                context = disclosure.platform_context(
                    ctx, task_id, current, route=route, original=original if kind == "appeal" else None,
                    referral={"id": "R-2026-000010", "version": 1, "kind": kind})
                assert_clean(json.dumps(context, ensure_ascii=False), f"the {kind} context for {platform}")
                for name in names:
                    if name.startswith(("referral-", "appeal-")) and not name.startswith(kind):
                        continue
                    text = renderer.render(name, context, platform=platform)
                    assert text.strip(), name
                    assert_clean(text, f"{name} for {platform}")
    finally:
        ctx.close()


def test_the_context_is_an_allow_list_of_named_fields(ohrt):
    task_id = sensitive_task(ohrt, "instagram")
    ctx = open_context(ohrt.home, CONSTABLE)
    try:
        context = disclosure.platform_context(ctx, task_id, review_stage.current_review(ctx, task_id),
                                              route=refer.route_for(ctx, "instagram"),
                                              referral={"id": "R-2026-000001", "version": 1, "kind": "referral"})
    finally:
        ctx.close()
    assert set(context) == {"team", "referral", "route", "content", "findings", "segments", "clauses", "original",
                            "grounds", "summary"}
    assert set(context["team"]) == {"name", "mailbox", "reference"}
    assert set(context["findings"][0]) == {"number", "factor", "note", "at", "harm"}
    assert not set(context) & set(disclosure.PLATFORM_FORBIDDEN)


# ------------------------------------------------------------------------------------- team overrides


def team_template(ohrt, name: str, text: str) -> Path:
    path = ohrt.home / "templates" / "referral" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def assert_refused_cleanly(ohrt, result) -> str:
    assert result.exit_code == 2, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in result.stderr
    assert ohrt.db()["referrals"].count == 0
    folder = ohrt.home / "referrals"
    assert not folder.exists() or not any(folder.rglob("*.*"))
    return lines[0]


def test_a_team_template_asking_for_subjects_fails_naming_the_field(ohrt):
    task_id = sensitive_task(ohrt, "instagram")
    team_template(ohrt, "referral-body.txt", "Hello\n{% for s in subjects %}{{ s }}\n{% endfor %}")
    line = assert_refused_cleanly(ohrt, ohrt("refer", "draft", task_id, env=as_officer(CONSTABLE)))
    assert "'subjects'" in line and "never given" in line and "SOP 8.4" in line
    assert "team template" in line and "referral-body.txt line 2" in line and "remove it" in line
    assert ohrt.json("task", "show", task_id)["status"] == "reviewed"


@pytest.mark.parametrize("text, expected", [
    ("{{ incident_refs }}", "'incident_refs', which is never given"),
    ("{{ task.applicant_name }}", "'task', which is never given"),
    ("{{ indices_research[0].summary }}", "'indices_research', which is never given"),
    ("Made by {{ officer.name }}", "'officer', which is never given"),
    ("{{ content.colour }}", "'content.colour', which is not a field"),
    ("{{ findings[0].factor_title }}", "'findings[].factor_title', which is not a field"),
    ("{{ original.reference }}", "'reference' of a field that is empty here"),
    ("{{ content.__class__.__mro__ }}", "may not"),
    ("{% if content.title %}", "not valid Jinja2"),
])
def test_team_templates_asking_for_what_they_are_not_given_fail_with_one_line(ohrt, text, expected):
    task_id = sensitive_task(ohrt, "instagram")
    team_template(ohrt, "referral-body.txt", text + "\n")
    line = assert_refused_cleanly(ohrt, ohrt("refer", "draft", task_id, env=as_officer(CONSTABLE)))
    assert expected in line


def test_a_shipped_template_is_named_as_such_when_it_fails(ohrt, monkeypatch, tmp_path):
    shipped = tmp_path / "shipped"
    (shipped / "referral").mkdir(parents=True)
    for path in (templates_dir() / "referral").iterdir():
        (shipped / "referral" / path.name).write_bytes(path.read_bytes())
    (shipped / "routes.toml").write_bytes((templates_dir() / "routes.toml").read_bytes())
    (shipped / "referral" / "referral-subject.txt").write_text("{{ subjects }}\n", encoding="utf-8")
    monkeypatch.setattr("ohrt_cli.ground.resources.templates_dir", lambda: shipped)
    task_id = sensitive_task(ohrt, "instagram")
    line = assert_refused_cleanly(ohrt, ohrt("refer", "draft", task_id, env=as_officer(CONSTABLE)))
    assert "shipped template referral-subject.txt" in line and "'subjects'" in line


def test_team_overrides_are_used_first_and_per_platform(ohrt):
    team_template(ohrt, "referral-subject.txt", "[{{ team.reference }}] Takedown request: {{ content.title }}\n")
    team_template(ohrt, "tiktok/referral-subject.txt", "[{{ team.reference }}] TikTok LE request\n")
    instagram = draft(ohrt, reviewed_task(ohrt, "instagram"))
    tiktok = draft(ohrt, reviewed_task(ohrt, "tiktok"))
    assert read_eml(instagram["draft_file"])["Subject"] == "[OHRT R-2026-000001] Takedown request: Drill video"
    assert read_eml(tiktok["draft_file"])["Subject"] == "[OHRT R-2026-000002] TikTok LE request"
    # the shipped body is still used where the team has none
    assert "good faith" in plain_body(read_eml(instagram["draft_file"]))


def test_the_html_alternative_can_be_turned_off(ohrt):
    set_config(ohrt, "referral", {"html": False})
    message = read_eml(draft(ohrt, reviewed_task(ohrt, "instagram"))["draft_file"])
    assert message.get_content_type() == "text/plain" and "good faith" in message.get_content()


def test_html_alternative_escapes_content_fields(ohrt):
    message = read_eml(draft(ohrt, reviewed_task(ohrt, "instagram", title="<script>alert(1)</script> & drill"))[
        "draft_file"])
    html = message.get_body(("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; drill" in html
    assert "<script>alert(1)</script> & drill" in plain_body(message)


def test_an_intel_override_asking_for_subjects_fails_naming_it(ohrt):
    task_id = sensitive_task(ohrt, "youtube")
    path = ohrt.home / "templates" / "intel" / "connect.txt"
    path.parent.mkdir(parents=True)
    path.write_text("{{ task.id }} {{ subjects }}\n", encoding="utf-8")
    result = ohrt("intel", task_id, env=as_officer(CONSTABLE))
    assert result.exit_code == 2 and "'subjects'" in result.stderr and "Connect itself" in result.stderr


# ------------------------------------------------------------------------------ the guard over free text


def test_a_finding_note_naming_a_subject_is_not_sent(ohrt):
    task_id = add_task(ohrt, "instagram", "--subject", "Zebedee Quartermaine")
    review(ohrt, task_id, "instagram", findings=("provocative-language|zebedee quartermaine taunts a rival",))
    line = assert_refused_cleanly(ohrt, ohrt("refer", "draft", task_id, env=as_officer(CONSTABLE)))
    assert "subject" in line and "finding 1's note" in line and "SOP 6.4" in line
    assert "Zebedee" not in line  # the error does not repeat the name either


def test_a_subject_the_content_itself_names_may_be_quoted(ohrt):
    task_id = add_task(ohrt, "instagram", "--subject", "Zebedee Quartermaine",
                       title="Zebedee Quartermaine - Opps (Official Video)")
    review(ohrt, task_id, "instagram", findings=("provocative-language|Zebedee Quartermaine taunts a rival",))
    body = plain_body(read_eml(draft(ohrt, task_id)["draft_file"]))
    assert "Zebedee Quartermaine taunts a rival" in body


def test_appeal_grounds_quoting_a_police_reference_are_refused(ohrt):
    task_id = reviewed_task(ohrt, "instagram", "--ref", "CRIS:4212345/26")
    referral = draft(ohrt, task_id)
    approve(ohrt, referral["id"])
    sent(ohrt, referral["id"])
    ohrt.ok("refer", "outcome", referral["id"], "--not-removed", env=as_officer(CONSTABLE))
    result = ohrt("refer", "appeal", referral["id"], "--grounds", "See CRIS 4212345/26", env=as_officer(CONSTABLE))
    assert result.exit_code == 2 and "--grounds" in result.stderr and "police incident reference" in result.stderr
    assert ohrt.json("refer", "list", "--task", task_id)[-1]["id"] == referral["id"]
    assert not (ohrt.home / "referrals" / "R-2026-000002").exists() or \
        not any((ohrt.home / "referrals" / "R-2026-000002").iterdir())


def test_appeal_grounds_quoting_the_number_of_an_indices_reference_are_refused(ohrt):
    task_id = reviewed_task(ohrt, "instagram", review_extra=["--research", RESEARCH])
    referral = draft(ohrt, task_id)
    approve(ohrt, referral["id"])
    sent(ohrt, referral["id"])
    ohrt.ok("refer", "outcome", referral["id"], "--not-removed", env=as_officer(CONSTABLE))
    result = ohrt("refer", "appeal", referral["id"], "--grounds", "As intelligence 99887766 shows, he is dangerous",
                  env=as_officer(CONSTABLE))
    assert result.exit_code == 2 and "police indices research" in result.stderr and "99887766" not in result.stderr
    appeal = ohrt.json("refer", "appeal", referral["id"], "--grounds", "The second verse threatens a rival by name.",
                       env=as_officer(CONSTABLE))
    assert appeal["id"] == "R-2026-000002" and appeal["version"] == 1
