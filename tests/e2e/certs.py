"""Test certificates made with the openssl command line: a CA, server and client certificates it signs.

Everything is made fresh in a directory the test owns (P-256 keys: fast). ``days=-1`` makes a certificate
that expired yesterday; a second ``CertificateAuthority`` is the "wrong CA" of the bad-input tests.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]


def _openssl(*args: str) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        message = "openssl is not on PATH (Debian: apt-get install openssl)"
        if os.environ.get("OTEL_LLM_COST_E2E_REQUIRED") == "1":
            pytest.fail(message)
        pytest.skip(message)
    subprocess.run([openssl, *args], check=True, capture_output=True, timeout=30)


@dataclass(frozen=True)
class KeyPair:
    cert: Path
    key: Path


class CertificateAuthority:
    """A self-signed CA in ``directory``/<name>.pem that issues server and client certificates."""

    def __init__(self, directory: Path, name: str = "ca") -> None:
        self.directory, self.name = directory, name
        self.cert, self.key = directory / f"{name}.pem", directory / f"{name}.key"
        _openssl("req", "-x509", *_KEY, "-keyout", str(self.key), "-out", str(self.cert), "-days", "2",
                 "-subj", f"/CN=otel-llm-cost test {name}")

    def issue(self, name: str, *, server: bool, days: int = 2) -> KeyPair:
        """A certificate for 127.0.0.1/localhost (server) or a client, valid ``days`` (negative: expired)."""
        cert, key = self.directory / f"{name}.pem", self.directory / f"{name}.key"
        csr, ext = self.directory / f"{name}.csr", self.directory / f"{name}.ext"
        usage = "serverAuth" if server else "clientAuth"
        ext.write_text(("subjectAltName=IP:127.0.0.1,DNS:localhost\n" if server else "")
                       + f"extendedKeyUsage={usage}\n")
        _openssl("req", *_KEY, "-keyout", str(key), "-out", str(csr), "-subj", f"/CN={name}")
        _openssl("x509", "-req", "-in", str(csr), "-CA", str(self.cert), "-CAkey", str(self.key),
                 "-CAcreateserial", "-out", str(cert), "-days", str(days), "-extfile", str(ext))
        return KeyPair(cert, key)
