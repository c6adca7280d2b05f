"""nginx running a shipped site file from deploy/nginx/ for a test or a bench: its ports,
certificate (self-signed, made here) and upstream servers swapped, nothing else."""

from __future__ import annotations

import datetime as dt
import http.client
import ipaddress
import os
import re
import shutil
import signal
import ssl
import subprocess
from pathlib import Path

from helpers import ROOT, free_port, wait_healthy

from recon.core.children import spawn_bound

CONF = ROOT / "deploy" / "nginx" / "recon.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def self_signed(dest: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "recon.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    crt, pem = dest / "cert.pem", dest / "key.pem"
    crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pem.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
    pem.chmod(0o600)
    return crt, pem


def site_conf(tmp: Path, https: int, http: int, upstream: int, crt: Path, key: Path,
              conf: Path = CONF, upstreams: dict[str, str] | None = None,
              shipped_timeouts: bool = False) -> str:
    """The shipped file (``conf``) with only ports, certificate paths and (unless
    ``shipped_timeouts``) the header timeout shortened for tests; ``upstreams`` swaps its
    ``server`` lines (default: the one of recon.conf)."""
    text = conf.read_text()
    swaps = {"listen 443 ssl;": f"listen 127.0.0.1:{https} ssl;",
             "listen 80;": f"listen 127.0.0.1:{http};",
             **(upstreams or {"server 127.0.0.1:8420;": f"server 127.0.0.1:{upstream};"}),
             "/etc/ssl/recon/fullchain.pem": str(crt), "/etc/ssl/recon/privkey.pem": str(key),
             **({} if shipped_timeouts else
                {"client_header_timeout 10s;": "client_header_timeout 3s;"})}
    for old, new in swaps.items():
        assert old in text, f"{old!r} is no longer in {CONF}"
        text = text.replace(old, new)
    return text


class Nginx:
    """nginx running ``conf`` (see :func:`site_conf`), logs in ``tmp``; ``request`` over TLS."""

    def __init__(self, tmp: Path, upstream: int, conf: Path = CONF,
                 upstreams: dict[str, str] | None = None, *, shipped_timeouts: bool = False,
                 worker_connections: int = 1024):
        tmp.mkdir(parents=True, exist_ok=True)
        self.https, self.http = free_port(), free_port()
        crt, key = self_signed(tmp)
        (tmp / "recon.conf").write_text(site_conf(tmp, self.https, self.http, upstream, crt,
                                                  key, conf, upstreams, shipped_timeouts))
        temp = "".join(f"{k}_temp_path {tmp}/{k};\n"
                       for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        (tmp / "nginx.conf").write_text(f"""
user root; daemon off; worker_processes 1; pid {tmp}/nginx.pid;
error_log {tmp}/error.log info;
events {{ worker_connections {worker_connections}; }}
http {{ access_log {tmp}/access.log; {temp} include {tmp}/recon.conf; }}
""")
        check = subprocess.run([NGINX, "-t", "-c", str(tmp / "nginx.conf"), "-p", str(tmp)],
                               capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
        self.proc = spawn_bound([NGINX, "-c", str(tmp / "nginx.conf"), "-p", str(tmp)],
                                 start_new_session=True)  # SIGTERM if pytest dies
        self.ctx = ssl.create_default_context(cafile=str(crt))
        wait_healthy(self.request, self.proc, 10, "nginx")

    def connect(self, source: str = "127.0.0.1",
                timeout: float = 10) -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection("127.0.0.1", self.https, timeout=timeout,
                                           context=self.ctx, source_address=(source, 0))

    def request(self, method, path, headers=None, body=None, source="127.0.0.1"):
        conn = self.connect(source)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, resp.read(), resp
        finally:
            conn.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGQUIT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


REPLICAS = ROOT / "deploy" / "nginx" / "recon-replicas.conf"


def replica_upstreams(ports: list[int], conf: Path = REPLICAS) -> dict[str, str]:
    """``upstreams`` for :class:`Nginx` running the replicas file: each of its ``server``
    lines pointed at one local port, its options (max_fails, fail_timeout) kept."""
    lines = re.findall(r"^\s*(server 10\.0\.0\.\d+:8420[^;]*;)", conf.read_text(), re.M)
    assert len(lines) == len(ports), f"{conf} has {len(lines)} server lines"
    return {line: re.sub(r"10\.0\.0\.\d+:8420", f"127.0.0.1:{port}", line)
            for line, port in zip(lines, ports, strict=True)}
