"""Referral emails as files and, optionally, through the team's SMTP relay (SOP 10.5.2, 10.5.3).

An email referral is an RFC 5322 message written to a `.eml` file that Outlook and Thunderbird open:
From the team mailbox, To the route's contact, a Subject carrying the team's reference, Date, Message-ID,
a plain-text body and, optionally, an HTML alternative. `X-Unsent: 1` makes Outlook open it as a message
ready to send; that one header is left out when ohrt sends the file itself through the relay.
"""

from __future__ import annotations

import datetime as dt
import email.policy
import email.utils
import os
import re
import secrets
import smtplib
import ssl
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage

from .errors import Failure, InputError

EMAIL_RE = re.compile(r"[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\".]+")
PLACEHOLDER_SUFFIXES = (".invalid", ".example", ".test")


def valid_address(text: str) -> bool:
    return bool(EMAIL_RE.fullmatch(text or ""))


def is_placeholder(address: str) -> bool:
    """Addresses under the reserved .invalid/.example/.test names (RFC 2606) are placeholders."""
    return (address or "").lower().endswith(PLACEHOLDER_SUFFIXES)


def _address(name: str | None, addr: str) -> Address:
    username, _, domain = addr.partition("@")
    return Address(display_name=(name or "").strip(), username=username, domain=domain)


def build_message(*, sender_name: str, sender: str, to_name: str | None, to: str, subject: str, text: str,
                  html: str | None, when: dt.datetime, id_string: str) -> tuple[bytes, str]:
    """(the message's bytes with CRLF line ends, its Message-ID)."""
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = _address(sender_name, sender)
    message["To"] = _address(to_name, to)
    message["Subject"] = subject
    message["Date"] = email.utils.format_datetime(when)
    # Short enough not to be folded: some clients mishandle a folded Message-ID.
    message_id = f"<{id_string}.{secrets.token_hex(8)}@{sender.partition('@')[2]}>"
    message["Message-ID"] = message_id
    message["X-Unsent"] = "1"
    # Quoted-printable keeps every line 7-bit, so any relay carries UTF-8 titles unharmed.
    message.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    if html:
        message.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    return message.as_bytes(), message_id


def one_line(text: str) -> str:
    """A rendered subject as one header line."""
    return re.sub(r"\s+", " ", text or "").strip()


def without_unsent(data: bytes) -> bytes:
    """The message as it goes on the wire: the same bytes, less the X-Unsent draft marker."""
    head, sep, body = data.partition(b"\r\n\r\n")
    lines = [line for line in head.split(b"\r\n") if not line.lower().startswith(b"x-unsent:")]
    return b"\r\n".join(lines) + sep + body


@dataclass
class Relay:
    """The `[smtp]` table of config.toml."""

    host: str
    port: int
    starttls: bool
    username: str | None
    password: str | None
    timeout: float
    allow_plaintext_auth: bool = False

    @property
    def plaintext_auth(self) -> bool:
        """True when the password goes to the relay unencrypted (a username without STARTTLS)."""
        return bool(self.username) and not self.starttls

    def plaintext_warning(self) -> str | None:
        """The warning given each time a message is sent with the password in clear, else None."""
        if not self.plaintext_auth:
            return None
        return (f"the SMTP password of {self.username!r} went to {self.host}:{self.port} unencrypted "
                "([smtp] starttls = false, allow_plaintext_auth = true): anyone on the network path can read it.")

    @classmethod
    def from_settings(cls, settings) -> "Relay":
        table = settings.get("smtp") or {}
        host = str(table.get("host") or "").strip()
        if not host:
            raise InputError('no SMTP relay is set: add [smtp] host = "relay.example" (and port, starttls, username, '
                             "password_env) to config.toml, or send the .eml by hand and leave out --smtp.")
        starttls = bool(table.get("starttls", True))
        try:
            port = int(table.get("port") or (587 if starttls else 25))
        except (TypeError, ValueError):
            raise InputError(f"[smtp] port {table.get('port')!r} in config.toml is not a number: correct it.") from None
        username = str(table.get("username") or "").strip() or None
        allow_plaintext = table.get("allow_plaintext_auth", False) is True
        if username and not starttls and not allow_plaintext:
            raise InputError("[smtp] has a username but starttls = false, so the password would cross the network "
                             "unencrypted: set starttls = true in config.toml (or, for a relay reached only over a "
                             "trusted link, add allow_plaintext_auth = true to [smtp]).")
        password = None
        if username:
            variable = str(table.get("password_env") or "").strip()
            if not variable:
                raise InputError("[smtp] username is set but password_env is not: add password_env = \"NAME\" to "
                                 "config.toml and put the password in that environment variable.")
            password = os.environ.get(variable)
            if not password:
                raise InputError(f"the SMTP password is not in ${variable}: export it before running this command.")
        return cls(host, port, starttls, username, password, float(table.get("timeout") or 30), allow_plaintext)

    def send(self, data: bytes, sender: str, recipients: list[str]) -> None:
        """Hand `data` to the relay unchanged; Failure (exit 1) when the relay will not take it."""
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                smtp.ehlo()
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                if self.username:
                    smtp.login(self.username, self.password or "")
                refused = smtp.sendmail(sender, recipients, data)
        except (smtplib.SMTPException, OSError) as exc:
            raise Failure(f"the SMTP relay {self.host}:{self.port} did not take the message ({_reason(exc)}): "
                          "nothing was recorded as sent; check [smtp] in config.toml, or send the .eml by hand and run "
                          "the command without --smtp.") from None
        if refused:
            raise Failure(f"the SMTP relay refused {', '.join(refused)}: nothing was recorded as sent; check the route's "
                          "contact in config.toml.")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        message = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        return f"{exc.smtp_code} {message}"
    return str(exc) or type(exc).__name__
