"""Optional sending through the team's SMTP relay (issue 5, point 7), against aiosmtpd on 127.0.0.1."""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import signal
import socket
import threading

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from support.home import start_ohrt
from support.refer import CONSTABLE, approve, as_officer, draft, real_contacts, reviewed_task, set_config


class Inbox:
    """An aiosmtpd handler keeping every envelope it is given. `hold()` makes it a slow relay: it takes
    the message (`arrived` is set) and does not answer until the test calls `answer()`."""

    def __init__(self):
        self.envelopes = []
        self.arrived = threading.Event()
        self.answered = threading.Event()
        self.answered.set()

    def hold(self) -> None:
        self.answered.clear()

    def answer(self) -> None:
        self.answered.set()

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        self.arrived.set()
        for _ in range(1200):  # a minute at most
            if self.answered.is_set():
                break
            await asyncio.sleep(0.05)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def relay():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


def approved_mailbox_referral(ohrt, port: int) -> dict:
    set_config(ohrt, "smtp", {"host": "127.0.0.1", "port": port, "starttls": False})
    real_contacts(ohrt)
    referral = draft(ohrt, reviewed_task(ohrt, "instagram", title="Drill vidéo — “Ünïcode”"))
    approve(ohrt, referral["id"])
    return referral


def test_sent_smtp_delivers_the_approved_eml_intact_and_records_its_message_id(ohrt, relay):
    controller, inbox = relay
    referral = approved_mailbox_referral(ohrt, controller.port)
    result = ohrt.ok("refer", "sent", referral["id"], "--smtp", env=as_officer(CONSTABLE))
    assert f"as {referral['message_id']}" in result.stdout

    [envelope] = inbox.envelopes
    assert envelope.mail_from == "ohrt@example.police.uk"
    assert envelope.rcpt_tos == ["le-referrals@instagram.example.com"]
    arrived = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
    draft_bytes = (ohrt.home / referral["draft_path"]).read_bytes()
    drafted = email.message_from_bytes(draft_bytes, policy=email.policy.default)
    assert arrived["Message-ID"] == drafted["Message-ID"] == referral["message_id"]
    assert arrived["Subject"] == drafted["Subject"] and "Drill vidéo — “Ünïcode”" in arrived["Subject"]
    assert arrived.get_body(("plain",)).get_content() == drafted.get_body(("plain",)).get_content()
    assert arrived.get_body(("html",)).get_content() == drafted.get_body(("html",)).get_content()
    assert arrived["X-Unsent"] is None and drafted["X-Unsent"] == "1"
    # the same bytes as approved, less the one draft marker line
    assert envelope.original_content.replace(b"\r\n", b"\n") == \
        draft_bytes.replace(b"X-Unsent: 1\r\n", b"").replace(b"\r\n", b"\n")

    shown = ohrt.json("refer", "show", referral["id"])
    assert (shown["status"], shown["sent_via"], shown["message_id"]) == ("sent", "smtp", referral["message_id"])
    entry = ohrt.json("audit", "list", "--object", referral["id"])[-1]
    assert entry["action"] == "referral.sent" and entry["detail"]["message_id"] == referral["message_id"]


def test_a_relay_that_is_down_records_nothing(ohrt):
    referral = approved_mailbox_referral(ohrt, free_port())
    result = ohrt("refer", "sent", referral["id"], "--smtp", env=as_officer(CONSTABLE))
    assert result.exit_code == 1 and "nothing was recorded" in result.stderr
    assert ohrt.json("refer", "show", referral["id"])["status"] == "approved"
    # the attempt and its failure are in the chain; the referral carries no attempt any more
    assert actions(ohrt, referral["id"])[-2:] == ["referral.send-attempt", "referral.send-failed"]
    assert ohrt.json("refer", "show", referral["id"])["send_attempt_at"] is None
    assert ohrt.json("task", "show", referral["task_id"])["status"] == "qa-approved"


def test_smtp_refuses_portals_back_dates_and_missing_settings(ohrt, relay):
    controller, inbox = relay
    real_contacts(ohrt)
    portal = draft(ohrt, reviewed_task(ohrt, "youtube"))
    approve(ohrt, portal["id"])
    result = ohrt("refer", "sent", portal["id"], "--smtp", env=as_officer(CONSTABLE))
    assert result.exit_code == 2 and "portal" in result.stderr and "without --smtp" in result.stderr

    mailbox = draft(ohrt, reviewed_task(ohrt, "instagram"))
    approve(ohrt, mailbox["id"])
    result = ohrt("refer", "sent", mailbox["id"], "--smtp", env=as_officer(CONSTABLE))
    assert result.exit_code == 2 and "[smtp]" in result.stderr
    set_config(ohrt, "smtp", {"host": "127.0.0.1", "port": controller.port, "starttls": False,
                              "username": "ohrt", "password_env": "OHRT_TEST_SMTP_PASSWORD",
                              "allow_plaintext_auth": True})
    result = ohrt("refer", "sent", mailbox["id"], "--smtp", env=as_officer(CONSTABLE))
    assert result.exit_code == 2 and "$OHRT_TEST_SMTP_PASSWORD" in result.stderr
    result = ohrt("refer", "sent", mailbox["id"], "--smtp", "--on", "2026-01-01", env=as_officer(CONSTABLE))
    assert result.exit_code == 2 and "leave out --on" in result.stderr
    assert inbox.envelopes == []
    assert {r["status"] for r in ohrt.json("refer", "list")} == {"approved"}


class Logins:
    """An aiosmtpd authenticator that accepts one login and keeps each one it is given."""

    def __init__(self):
        self.seen = []

    def __call__(self, server, session, envelope, mechanism, auth_data):
        self.seen.append((mechanism, auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=(auth_data.login, auth_data.password) == (b"ohrt", b"s3cret"))


def test_a_password_in_clear_is_refused_unless_allowed_and_then_warned_each_time(ohrt):
    inbox, logins = Inbox(), Logins()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), authenticator=logins,
                            auth_require_tls=False)
    controller.start()
    try:
        referral = approved_mailbox_referral(ohrt, controller.port)
        set_config(ohrt, "smtp", {"username": "ohrt", "password_env": "OHRT_TEST_SMTP_PASSWORD"})
        env = {**as_officer(CONSTABLE), "OHRT_TEST_SMTP_PASSWORD": "s3cret"}
        refused = ohrt("refer", "sent", referral["id"], "--smtp", env=env)
        assert refused.exit_code == 2 and len(refused.stderr.strip().splitlines()) == 1
        assert "unencrypted" in refused.stderr and "allow_plaintext_auth = true" in refused.stderr
        checked = ohrt("config", "check")
        assert checked.exit_code == 2 and "[smtp] starttls" in checked.stdout + checked.stderr
        assert (logins.seen, inbox.envelopes) == ([], [])
        assert ohrt.json("refer", "show", referral["id"])["status"] == "approved"

        set_config(ohrt, "smtp", {"allow_plaintext_auth": True})
        assert ohrt("config", "check").exit_code == 0
        sent = ohrt.ok("refer", "sent", referral["id"], "--smtp", "--json", env=env)
        assert "warning: the SMTP password of 'ohrt' went to 127.0.0.1" in sent.stderr
        assert logins.seen == [("PLAIN", "ohrt", "s3cret")] and len(inbox.envelopes) == 1
        assert ohrt.json("refer", "show", referral["id"])["status"] == "sent"
    finally:
        controller.stop()


def ohrt_process(ohrt, *args: str):
    """`ohrt` as another officer's process (the constable's), beside the in-process runs of the test."""
    return start_ohrt(ohrt.home, *args, extra_env=as_officer(CONSTABLE))


def actions(ohrt, referral_id: str) -> list[str]:
    return [e["action"] for e in ohrt.json("audit", "list", "--object", referral_id)]


def test_a_slow_relay_does_not_hold_the_home(ohrt, relay):
    """The message goes outside the write transaction: while the relay takes its time, another officer's
    `task add` goes through at once, and a second send of the same referral is turned away."""
    controller, inbox = relay
    referral = approved_mailbox_referral(ohrt, controller.port)
    inbox.hold()
    sending = ohrt_process(ohrt, "refer", "sent", referral["id"], "--smtp")
    try:
        assert inbox.arrived.wait(30), sending.communicate()
        quick = {"OHRT_BUSY_TIMEOUT": "1", "OHRT_DEBUG": "1"}
        added = ohrt.ok("task", "add", "--url", "https://www.tiktok.com/@x/video/77", "--title", "Another",
                        "--applicant", "DC Rae", "--ocu", "Central West", "--unit", "Gangs", "--uploaded",
                        "2026-01-02", "--rationale", "Goads a rival group", env=quick).stdout.strip()
        assert ohrt.json("task", "show", added)["title"] == "Another"
        twice = ohrt("refer", "sent", referral["id"], env={**as_officer(CONSTABLE), **quick})
        assert twice.exit_code == 1 and "is being sent through the relay by another ohrt command" in twice.stderr
        shown = ohrt.json("refer", "show", referral["id"])
        assert shown["status"] == "approved" and shown["send_attempt_pid"] == sending.pid
        assert sending.poll() is None  # all of that while the relay still held the message
    finally:
        inbox.answer()
        out, err = sending.communicate(timeout=60)
    assert sending.returncode == 0, err
    assert f"as {referral['message_id']}" in out
    shown = ohrt.json("refer", "show", referral["id"])
    assert (shown["status"], shown["sent_via"], shown["send_attempt_at"]) == ("sent", "smtp", None)
    assert actions(ohrt, referral["id"])[-2:] == ["referral.send-attempt", "referral.sent"]
    assert len(inbox.envelopes) == 1


def test_a_send_killed_midway_leaves_the_referral_approved_and_can_be_sent_again(ohrt, relay):
    controller, inbox = relay
    referral = approved_mailbox_referral(ohrt, controller.port)
    inbox.hold()
    sending = ohrt_process(ohrt, "refer", "sent", referral["id"], "--smtp")
    assert inbox.arrived.wait(30), sending.communicate()
    os.kill(sending.pid, signal.SIGKILL)
    sending.communicate(timeout=30)

    shown = ohrt.json("refer", "show", referral["id"])
    assert shown["status"] == "approved" and shown["sent_on"] is None
    assert shown["send_attempt_at"] and shown["send_attempt_by"] == CONSTABLE
    assert actions(ohrt, referral["id"])[-1] == "referral.send-attempt"
    assert ohrt.json("task", "show", shown["task_id"])["status"] == "qa-approved"

    # The process is gone: the officer may send again (the same Message-ID, so a duplicate is recognisable).
    inbox.answer()
    ohrt.ok("refer", "sent", referral["id"], "--smtp", env=as_officer(CONSTABLE))
    shown = ohrt.json("refer", "show", referral["id"])
    assert (shown["status"], shown["send_attempt_at"]) == ("sent", None)
    [first, second] = inbox.envelopes
    ids = {email.message_from_bytes(e.original_content, policy=email.policy.default)["Message-ID"]
           for e in (first, second)}
    assert ids == {referral["message_id"]}
    entry = ohrt.json("audit", "list", "--object", referral["id"])[-1]
    assert entry["action"] == "referral.sent" and entry["detail"]["after_interrupted_attempt"]


def test_a_send_killed_midway_can_be_recorded_sent_by_hand(ohrt, relay):
    controller, inbox = relay
    referral = approved_mailbox_referral(ohrt, controller.port)
    inbox.hold()
    sending = ohrt_process(ohrt, "refer", "sent", referral["id"], "--smtp")
    assert inbox.arrived.wait(30), sending.communicate()
    os.kill(sending.pid, signal.SIGKILL)
    sending.communicate(timeout=30)
    # the team mailbox's sent items show it went: record it as sent, without sending again
    ohrt.ok("refer", "sent", referral["id"], env=as_officer(CONSTABLE))
    shown = ohrt.json("refer", "show", referral["id"])
    assert (shown["status"], shown["sent_via"], shown["send_attempt_at"]) == ("sent", "email", None)
    assert len(inbox.envelopes) == 1
