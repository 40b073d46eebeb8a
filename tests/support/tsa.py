"""A real RFC 3161 time-stamp authority for the tests: a CA and a time-stamping certificate made here with
`openssl req`/`openssl x509` (extendedKeyUsage=critical,timeStamping), OpenSSL's own `openssl ts -reply`
answering, and the loopback server carrying its requests over HTTP.

    tsa = Authority.make(tmp_path / "tsa")
    reply = tsa.answer(request_bytes)              # what any authority would return, offline
    with Loopback(tmp_path / "site") as site:
        url = tsa.serve(site)                      # POST application/timestamp-query → the reply
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

EXTENSIONS = """[tsa_ext]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,nonRepudiation
extendedKeyUsage=critical,timeStamping
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
"""

CONFIG = """[tsa]
default_tsa = tsa1
[tsa1]
dir = {dir}
serial = {dir}/serial
crypto_device = builtin
signer_cert = {dir}/tsa.pem
certs = {dir}/ca.pem
signer_key = {dir}/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
other_policies = 1.2.3.4.2
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def _openssl(*args: str, cwd: Path) -> bytes:
    ran = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True)
    assert ran.returncode == 0, ran.stderr.decode()
    return ran.stdout


@dataclass
class Authority:
    folder: Path

    @property
    def ca(self) -> Path:
        """The root certificate a home configures as trusted (`[timestamp] ca_file`)."""
        return self.folder / "ca.pem"

    @classmethod
    def make(cls, folder: Path, name: str = "Test TSA") -> "Authority":
        folder.mkdir(parents=True, exist_ok=True)
        ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes")
        _openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "30", "-subj",
                 f"/CN={name} Root", "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
                 "keyUsage=critical,keyCertSign,cRLSign", cwd=folder)
        _openssl("req", "-new", *ec, "-keyout", "tsa.key", "-out", "tsa.csr", "-subj", f"/CN={name}", cwd=folder)
        (folder / "ext.cnf").write_text(EXTENSIONS)
        _openssl("x509", "-req", "-in", "tsa.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                 "-out", "tsa.pem", "-days", "30", "-extfile", "ext.cnf", "-extensions", "tsa_ext", cwd=folder)
        (folder / "ts.cnf").write_text(CONFIG.format(dir=folder))
        (folder / "serial").write_text("01\n")
        return cls(folder)

    def answer(self, tsq: bytes) -> bytes:
        """`openssl ts -reply`: the authority's signed reply to a request."""
        (self.folder / "query.tsq").write_bytes(tsq)
        _openssl("ts", "-reply", "-config", "ts.cnf", "-queryfile", "query.tsq", "-out", "reply.tsr", cwd=self.folder)
        return (self.folder / "reply.tsr").read_bytes()

    def serve(self, site, path: str = "/tsa") -> str:
        """Answer POSTs to `path` on the loopback server as an RFC 3161 authority; returns its URL."""
        def handler(request) -> None:
            length = int(request.headers.get("Content-Length") or 0)
            tsq = request.rfile.read(length)
            if request.headers.get("Content-Type") != "application/timestamp-query":
                request.send_error(415)
                return
            reply = self.answer(tsq)
            request.send_response(200)
            request.send_header("Content-Type", "application/timestamp-reply")
            request.send_header("Content-Length", str(len(reply)))
            request.end_headers()
            request.wfile.write(reply)

        return site.route(path, handler)
