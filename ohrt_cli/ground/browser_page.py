"""One page loaded in a fresh browser context and recorded (SOP 9.1: the page as the officer saw it).

`Session.run` is the course of one visit that `browser.visit` starts: go to the URL, wait for the load
(bounded), scroll to the end so lazy content is asked for, wait for the network to go quiet, cut what is
still arriving at the bounds (offline, loading stopped, what had come kept as a truncated body), then the
snapshot (screenshot, PDF, DOM, visible text), the TLS chain and the exchanges handed to the WARC writer.
What it fills in (`Visit`, `Exchange`) and its bounds (`Limits`) are in browser_visit.py.

This is ground: no captures, tasks or database here.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import time
from collections import Counter
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

from .browser_visit import MB, Exchange, Limits, PageFailed, Visit, short

RACE_ROOM = 256 * MB  # what Chromium may hold of one body while ohrt's copy of it is being set up

SCROLL_JS = """async ({steps, pause}) => {
  const height = () => Math.max(document.documentElement.scrollHeight, document.body ? document.body.scrollHeight : 0);
  let n = 0;
  for (; n < steps; n++) {
    if (window.scrollY + window.innerHeight >= height()) break;
    window.scrollBy(0, window.innerHeight);
    await new Promise(r => setTimeout(r, pause));
  }
  window.scrollTo(0, 0);
  return {steps: n, height: height()};
}"""


class Session:
    """One page in one fresh browser context: load, settle, snapshot, hand over the exchanges."""

    def __init__(self, browser, result: Visit, limits: Limits, record: Callable[[Exchange], None],
                 watchdog):
        self.browser, self.result, self.limits, self.record = browser, result, limits, record
        self.watchdog = watchdog
        self.requests: list = []          # Playwright requests in the order made
        self.requested_at: dict = {}      # id(request) -> epoch seconds
        self.responded_at: dict = {}      # id(request) -> epoch seconds
        self.inflight = 0
        self.last_activity = time.monotonic()
        self.bytes: dict[str, int] = {}   # CDP request id -> body bytes so far
        self.cdp_urls: dict[str, str] = {}
        self.sole: dict[str, str] = {}    # url -> its CDP request id, where one request asked for it (hand-over)
        self.cdp_done: set[str] = set()
        self.cdp_failed: set[str] = set()
        self.partial: dict[str, tuple[bytes, str]] = {}  # url -> (bytes kept, truncation reason)
        self.streamed: dict[str, bytearray] = {}          # CDP request id -> copy of a body of unknown length
        self.unstreamed: dict[str, int] = {}  # CDP request id -> bytes that came before its copy began
        self.head: dict[str, int] = {}        # CDP request id -> bytes Chromium still held when it began
        self.cut: str | None = None       # why loading was stopped early, if it was
        self.security: dict = {}
        self.main_security: dict = {}

    # -------------------------------------------------------------------------------- events

    def _on_request(self, request) -> None:
        self.requests.append(request)
        self.requested_at[id(request)] = time.time()
        self.inflight += 1
        self.last_activity = time.monotonic()

    def _on_response(self, response) -> None:
        self.responded_at[id(response.request)] = time.time()

    def _on_done(self, request) -> None:
        self.inflight -= 1
        self.last_activity = time.monotonic()

    def _on_data(self, event: dict) -> None:
        rid = event["requestId"]
        self.bytes[rid] = self.bytes.get(rid, 0) + int(event.get("dataLength") or 0)
        kept = self.streamed.get(rid)
        if not event.get("data"):
            self.unstreamed[rid] = self.unstreamed.get(rid, 0) + int(event.get("dataLength") or 0)
        elif kept is not None and len(kept) < self.limits.max_response_bytes:
            kept += base64.b64decode(event["data"])
        if self.cut is None and (self.bytes[rid] > self.limits.max_response_bytes
                                 or sum(self.bytes.values()) > self.limits.max_total_bytes):
            self.cut = "length"
            self._go_offline()

    def _on_cdp_response(self, event: dict) -> None:
        rid = event["requestId"]
        self.cdp_urls[rid] = event["response"]["url"]
        self._stream_if_unbounded(rid, event["response"])
        if event.get("type") == "Document" and event.get("frameId") == self.main_frame_id:
            self.main_security = {"state": event["response"].get("securityState"),
                                  "details": event["response"].get("securityDetails")}

    def _stream_if_unbounded(self, rid: str, response: dict) -> None:
        """A response of no stated length, or one longer than the cap, is copied as it arrives: if it
        is cut, what came before the cut is what the WARC keeps (Chromium drops a body over its buffer)."""
        length = {k.lower(): v for k, v in (response.get("headers") or {}).items()}.get("content-length")
        try:
            bounded = length is not None and int(length) <= self.limits.max_response_bytes
        except ValueError:
            bounded = False
        if bounded or not response.get("url", "").startswith(("http:", "https:")):
            return
        # Events go on being handled while the command is under way: what arrives meanwhile carries its
        # data and follows what Chromium had buffered before.
        copy = self.streamed[rid] = bytearray()
        try:
            buffered = base64.b64decode(self.cdp.send("Network.streamResourceContent", {"requestId": rid})
                                        .get("bufferedData") or "")
        except Exception:  # finished already, or not a streamable resource
            self.streamed.pop(rid, None)
            return
        self.head[rid] = len(buffered)
        copy[0:0] = buffered

    def _on_finished(self, event: dict) -> None:
        rid = event["requestId"]
        self.cdp_done.add(rid)
        if self.cut is None:
            self.streamed.pop(rid, None)  # complete: the browser's own copy of the body is recorded

    def _on_failed(self, event: dict) -> None:
        self.cdp_done.add(event["requestId"])
        self.cdp_failed.add(event["requestId"])

    def _on_security(self, event: dict) -> None:
        self.security = event.get("visibleSecurityState") or {}

    def _keep_partial(self, rid: str, reason: str) -> None:
        """What Chromium has buffered of a response still arriving, kept as a truncated body."""
        url = self.cdp_urls.get(rid)
        if url is None or url in self.partial:
            return
        if rid in self.streamed:
            copy = self.streamed.pop(rid)
            # Chromium lets go of a body that outgrew its buffer before the copy began: what the copy
            # holds is then no beginning, and the body is recorded truncated and empty, never as a middle.
            # (Events without data all came before the copy began, so by now they are all counted.)
            whole = self.head.get(rid) == self.unstreamed.get(rid, 0)
            self.partial[url] = (bytes(copy[:self.limits.max_response_bytes]) if whole else b"", reason)
            return
        try:
            data = base64.b64decode(self.cdp.send("Network.streamResourceContent", {"requestId": rid})
                                    .get("bufferedData") or "")
        except Exception:  # the response went before it could be read: recorded truncated and empty
            data = b""
        if len(data) < self.bytes.get(rid, 0):  # less than had come: Chromium let go of its beginning
            data = b""
        self.partial[url] = (data[:self.limits.max_response_bytes], reason)

    def _go_offline(self) -> None:
        """The cut: nothing more comes in (every request in flight fails), and loading stops."""
        for method, params in (("Network.emulateNetworkConditions", {"offline": True, "latency": 0,
                                                                     "downloadThroughput": -1, "uploadThroughput": -1}),
                               ("Page.stopLoading", {})):
            try:
                self.cdp.send(method, params)
            except Exception:
                pass

    def _on_popup(self, popup) -> None:
        self.result.popups_closed += 1
        try:
            popup.close()
        except Exception:
            pass

    # ---------------------------------------------------------------------------------- run

    def run(self, url: str, folder: Path) -> None:
        from playwright.sync_api import Error as PlaywrightError

        limits, result = self.limits, self.result
        context = self.browser.new_context(
            viewport={"width": limits.width, "height": limits.height}, accept_downloads=False,
            service_workers="block", ignore_https_errors=True, java_script_enabled=True)
        page = context.new_page()
        page.on("popup", self._on_popup)
        page.on("request", self._on_request)
        page.on("response", self._on_response)
        page.on("requestfinished", self._on_done)
        page.on("requestfailed", self._on_done)
        self.page = page
        self.cdp = context.new_cdp_session(page)
        self.main_frame_id = self.cdp.send("Page.getFrameTree")["frameTree"]["frame"]["id"]
        # A body of unknown length races on while its copy is being set up (tens of MB on a fast line),
        # and Chromium lets go of one that outgrows its buffer before the copy begins: the buffer leaves
        # room for that race, whatever the caps. It is a ceiling, never filled past the cut but in it.
        buffer = max(limits.max_total_bytes, RACE_ROOM) + MB
        self.cdp.send("Network.enable", {"maxResourceBufferSize": buffer, "maxTotalBufferSize": buffer})
        self.cdp.send("Security.enable")
        self.cdp.on("Network.dataReceived", self._on_data)
        self.cdp.on("Network.responseReceived", self._on_cdp_response)
        self.cdp.on("Network.loadingFinished", self._on_finished)
        self.cdp.on("Network.loadingFailed", self._on_failed)
        self.cdp.on("Security.visibleSecurityStateChanged", self._on_security)
        deadline = time.monotonic() + limits.timeout
        page.set_default_timeout(limits.snapshot_timeout * 1000)

        navigated = None
        try:
            navigated = page.goto(url, wait_until="commit", timeout=limits.timeout * 1000)
        except PlaywrightError as exc:
            self._fail_navigation(url, exc)
        if navigated is None:
            raise PageFailed(f"{url} gave the browser no page: capture again, or check the URL.", result)
        loaded = self._wait_load(deadline)
        if loaded:
            self._scroll(deadline)
        idle = self._wait_quiet(deadline)
        result.network_idle = idle
        if not (loaded and idle) and self.cut is None:
            self.cut = "time"
        result.timed_out = not (loaded and idle) and self.cut == "time"
        if self.cut:
            self._go_offline()
            for rid in list(self.cdp_urls):
                # still arriving, over its own cap, or failed at the cut with its beginning copied
                if (rid not in self.cdp_done or self.bytes.get(rid, 0) > limits.max_response_bytes
                        or rid in self.cdp_failed and rid in self.streamed):
                    self._keep_partial(rid, self.cut)
        self._main_document(navigated)
        self._snapshot(folder)
        self._certificates(folder)
        self._hand_over()
        context.close()

    def _fail_navigation(self, url: str, exc) -> None:
        """No page at all: the redirect chain so far is still worth recording."""
        message = short(exc)
        result = self.result
        result.redirects = [_hop(r) for r in self.requests if _is_redirect(r)]
        result.requests = len(self.requests)
        self._hand_over()
        if "ERR_TOO_MANY_REDIRECTS" in message:
            why = f"{url} redirects endlessly (more than {len(result.redirects)} redirects): nothing to keep"
        elif "Download is starting" in message:
            why = f"{url} is a file download, not a page: capture the file itself (or use --file)"
        elif "Timeout" in message:
            result.timed_out = True
            why = f"{url} sent nothing within {self.limits.timeout:g} s: check that it opens in a browser"
        elif "ERR_CONNECTION_REFUSED" in message or "ERR_NAME_NOT_RESOLVED" in message or "ERR_ADDRESS" in message:
            why = f"could not reach {url} ({message}): check the URL and the network connection"
        else:
            why = f"the browser could not open {url} ({message})"
        result.error = why
        raise PageFailed(why + ".", result)

    def _wait_load(self, deadline: float) -> bool:
        from playwright.sync_api import Error as PlaywrightError

        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        try:
            self.page.wait_for_load_state("load", timeout=remaining * 1000)
            return self.cut is None
        except PlaywrightError:
            return False

    def _scroll(self, deadline: float) -> None:
        """Scroll screen by screen to the end (bounded) so lazy images and posts are asked for."""
        from playwright.sync_api import Error as PlaywrightError

        limits = self.limits
        steps = min(limits.scroll_steps, max(0, int((deadline - time.monotonic()) * 1000 / limits.scroll_pause_ms) - 1))
        try:
            self.result.scroll = self.page.evaluate(SCROLL_JS, {"steps": steps, "pause": limits.scroll_pause_ms})
        except PlaywrightError as exc:
            self.result.scroll = {"error": short(exc)}

    def _wait_quiet(self, deadline: float) -> bool:
        """Until no request has been in flight for `quiet_ms`, or the deadline, or the cut."""
        quiet = self.limits.quiet_ms / 1000
        while time.monotonic() < deadline and self.cut is None:
            if self.inflight <= 0 and time.monotonic() - self.last_activity >= quiet:
                return True
            self.page.wait_for_timeout(50)
        return False

    def _main_document(self, navigated) -> None:
        """Provenance of the document the officer sees: final URL, redirects, server, status, headers, clock."""
        result = self.result
        documents = self._documents(navigated.request)
        redirects = []
        for index, document in enumerate(documents):
            chain = []
            hop = document.redirected_from
            while hop is not None:
                chain.insert(0, hop)
                hop = hop.redirected_from
            redirects += [_hop(r) for r in chain]
            if index + 1 < len(documents):  # the page itself moved on (a script, a meta refresh)
                response = _safe(document.response, None)
                redirects.append({"url": document.url, "status": response.status if response else None,
                                  "location": documents[index + 1].url, "by": "the page (script or meta refresh)"})
        main = documents[-1]
        navigated = _safe(main.response, None) or navigated
        result.redirects = redirects
        result.final_url = navigated.url
        result.status = navigated.status
        result.headers = _safe(navigated.all_headers, {})
        address = _safe(navigated.server_addr, None)
        result.server = {"ip": address["ipAddress"], "port": address["port"]} if address else None
        result.server_date = result.headers.get("date")
        received = self.responded_at.get(id(main))
        if result.server_date and received:
            try:
                server = email.utils.parsedate_to_datetime(result.server_date).timestamp()
                result.clock_skew_seconds = round(server - received, 1)
            except (TypeError, ValueError):
                pass
        result.user_agent = _safe(lambda: self.page.evaluate("navigator.userAgent"), None) \
            or _safe(main.all_headers, {}).get("user-agent")
        result.title = (_safe(self.page.title, "") or "").strip() or None
        result.requests = len(self.requests)

    def _documents(self, first) -> list:
        """The main frame's documents in the order loaded: the one the URL gave, then any the page went
        on to by itself; the last is what the officer sees."""
        main_frame = self.page.main_frame
        found = [first]
        for request in self.requests:
            if request is first or _is_redirect(request) or not _safe(request.is_navigation_request, False):
                continue
            if _safe(lambda: request.frame, None) == main_frame and _safe(request.response, None) is not None \
                    and self.requests.index(request) > self.requests.index(first):
                found.append(request)
        return found

    def _snapshot(self, folder: Path) -> None:
        """The officer's view: screenshot, PDF, DOM, visible text; each one's failure recorded, not fatal."""
        page, result, limits = self.page, self.result, self.limits
        until = time.monotonic() + limits.snapshot_timeout
        height = _safe(lambda: page.evaluate(
            "Math.max(document.documentElement.scrollHeight, document.body ? document.body.scrollHeight : 0)"), 0)
        clip_height = min(max(int(height or 0), limits.height), limits.max_screenshot_height)
        if int(height or 0) > limits.max_screenshot_height:
            result.scroll["screenshot_cut_at"] = limits.max_screenshot_height
        steps = {
            "screenshot.png": lambda p: page.screenshot(
                path=str(p), full_page=True, timeout=max(1.0, until - time.monotonic()) * 1000,
                clip={"x": 0, "y": 0, "width": limits.width, "height": clip_height}),
            "page.pdf": lambda p: page.pdf(path=str(p), print_background=True),
            "dom.html": lambda p: p.write_text(page.content(), encoding="utf-8"),
            "text.txt": lambda p: p.write_text(_visible_text(page), encoding="utf-8"),
        }
        for name, make in steps.items():
            path = folder / name
            if self.watchdog.fired or time.monotonic() > until:
                result.failed_outputs[name] = f"no time left within the {limits.snapshot_timeout:g} s for the snapshot"
                continue
            try:
                make(path)
                result.files[name] = path
            except Exception as exc:  # one output lost is recorded; the others are still made
                path.unlink(missing_ok=True)
                result.failed_outputs[name] = short(exc)

    def _certificates(self, folder: Path) -> None:
        """For https: the main document's chain from the browser (PEM in the folder, summary in `tls`)."""
        result = self.result
        if not (result.final_url or "").startswith("https:"):
            return
        parts = urlsplit(result.final_url)
        origin = f"{parts.scheme}://{parts.netloc}"
        try:
            result.certificates = [base64.b64decode(c) for c in
                                   self.cdp.send("Network.getCertificate", {"origin": origin}).get("tableNames", [])]
        except Exception:
            result.certificates = []
        details = self.main_security.get("details") or {}
        state = self.security.get("certificateSecurityState") or {}
        error = state.get("certificateNetworkError")
        result.tls = {"protocol": details.get("protocol"), "cipher": details.get("cipher"),
                      "trusted": self.main_security.get("state") == "secure" and not error,
                      "certificate_error": error, "certificates": [_describe(der) for der in result.certificates]}
        if result.certificates:
            from cryptography import x509
            from cryptography.hazmat.primitives.serialization import Encoding

            path = folder / "certificates.pem"
            path.write_bytes(b"".join(x509.load_der_x509_certificate(d).public_bytes(Encoding.PEM)
                                      for d in result.certificates))
            result.files["certificates.pem"] = path
        else:
            result.failed_outputs["certificates.pem"] = "the browser gave no certificate for " + origin

    def _hand_over(self) -> None:
        """Each request and its response to `record`, one body in memory at a time."""
        if self.watchdog.fired:
            return
        total = 0
        truncated = 0
        # A body is read through this session only where it cannot be another request's: the page asked for
        # its URL once and this session saw one answer (a frame of another site runs in a process of its
        # own, which this session does not see).
        asked, answered = Counter(r.url for r in self.requests), Counter(self.cdp_urls.values())
        self.sole = {url: rid for rid, url in self.cdp_urls.items() if asked[url] == answered[url] == 1}
        for request in self.requests:
            exchange = self._exchange(request)
            if exchange is None:
                continue
            room = max(self.limits.max_total_bytes - total, 0)
            if len(exchange.body) > room:  # what raced in after the cut stays within the page's allowance
                exchange.body, exchange.truncated = exchange.body[:room], exchange.truncated or "length"
            total += len(exchange.body)
            truncated += exchange.truncated is not None
            self.record(exchange)
        self.result.bytes_received = total
        self.result.truncated_responses = truncated

    def _exchange(self, request) -> Exchange | None:
        if not request.url.startswith(("http:", "https:")):
            return None  # data: and blob: URLs travel no network
        exchange = Exchange(url=request.url, method=request.method,
                            request_headers=_pairs(_safe(request.headers_array, [])),
                            request_body=_safe(request.post_data_buffer, None),
                            requested_at=self.requested_at.get(id(request), time.time()),
                            resource_type=request.resource_type)
        response = _safe(request.response, None)
        if response is None:
            exchange.error = (_safe(lambda: request.failure, None) or "no response")
            return exchange
        exchange.status, exchange.reason = response.status, response.status_text
        exchange.response_headers = _pairs(_safe(response.headers_array, []))
        address = _safe(response.server_addr, None)
        exchange.server = {"ip": address["ipAddress"], "port": address["port"]} if address else None
        if _is_redirect(request):
            exchange.redirect = True
            return exchange
        if request.url in self.partial:
            exchange.body, exchange.truncated = self.partial[request.url]
            return exchange
        try:
            body, exact = self._body(request, response)
        except Exception as exc:  # failed or cut before it finished: what arrived is not available
            exchange.truncated = self.cut or "unspecified"
            exchange.error = short(exc)
            return exchange
        if len(body) > self.limits.max_response_bytes:
            body, exchange.truncated = body[:self.limits.max_response_bytes], "length"
        elif exact and len(body) < (declared := _declared_length(request, exchange)):
            exchange.truncated = self.cut or "unspecified"
            exchange.error = f"the browser kept {len(body)} of the {declared} bytes its response declared"
        exchange.body = body
        return exchange

    def _body(self, request, response) -> tuple[bytes, bool]:
        """The body as Chromium kept it, read through ohrt's own session where the page asked for the URL
        once, and whether those are the bytes that came (not text Chromium decoded, here written as UTF-8).
        Playwright's `response.body()` asks the server again for a body of declared length that Chromium
        kept no copy of (an image it gave up on, say): a request the page never made, whose answer need
        not be what the page got, and which waits for ever on a server that stalls."""
        rid = self.sole.get(request.url)
        if rid is None:
            return response.body(), False
        got = self.cdp.send("Network.getResponseBody", {"requestId": rid})
        if got.get("base64Encoded"):
            return base64.b64decode(got["body"]), True
        return got["body"].encode("utf-8"), False


def _declared_length(request, exchange: Exchange) -> int:
    """The body length a response declared, where its bytes are the body's own (0 where unknown)."""
    headers = {name.lower(): value for name, value in exchange.response_headers}
    if (request.method != "GET" or exchange.status in (204, 304)
            or headers.get("content-encoding", "identity").strip().lower() != "identity"):
        return 0
    try:
        return max(int(headers.get("content-length", "0")), 0)
    except ValueError:
        return 0


def _visible_text(page) -> str:
    text = page.evaluate("document.body ? document.body.innerText : ''") or ""
    return text if text.endswith("\n") else text + "\n"


def _describe(der: bytes) -> dict:
    """Subject, issuer, validity and SHA-256 fingerprint of one certificate."""
    from cryptography import x509

    cert = x509.load_der_x509_certificate(der)
    return {"subject": cert.subject.rfc4514_string(), "issuer": cert.issuer.rfc4514_string(),
            "not_before": cert.not_valid_before_utc.isoformat(), "not_after": cert.not_valid_after_utc.isoformat(),
            "serial": format(cert.serial_number, "x"), "sha256": hashlib.sha256(der).hexdigest()}


def _is_redirect(request) -> bool:
    return _safe(lambda: request.redirected_to, None) is not None


def _hop(request) -> dict:
    response = _safe(request.response, None)
    headers = _safe(response.all_headers, {}) if response else {}
    return {"url": request.url, "status": response.status if response else None, "location": headers.get("location")}


def _pairs(headers) -> list[tuple[str, str]]:
    return [(h["name"], h["value"]) for h in headers or []]


def _safe(call, default):
    try:
        return call()
    except Exception:
        return default
