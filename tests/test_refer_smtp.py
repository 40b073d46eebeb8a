"""Optional sending through the team's SMTP relay (issue 5, point 7), against aiosmtpd on 127.0.0.1."""

from __future__ import annotations

import email
import email.policy
import socket

import pytest
from aiosmtpd.controller import Controller

from refer_helpers import CONSTABLE, approve, as_officer, draft, real_contacts, reviewed_task, set_config


class Inbox:
    """An aiosmtpd handler keeping every envelope it is given."""

    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
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
                              "username": "ohrt", "password_env": "OHRT_TEST_SMTP_PASSWORD"})
    result = ohrt("refer", "sent", mailbox["id"], "--smtp", env=as_officer(CONSTABLE))
    assert result.exit_code == 2 and "$OHRT_TEST_SMTP_PASSWORD" in result.stderr
    result = ohrt("refer", "sent", mailbox["id"], "--smtp", "--on", "2026-01-01", env=as_officer(CONSTABLE))
    assert result.exit_code == 2 and "leave out --on" in result.stderr
    assert inbox.envelopes == []
    assert {r["status"] for r in ohrt.json("refer", "list")} == {"approved"}
