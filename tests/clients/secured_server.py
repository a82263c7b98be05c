"""Starting extra ``vivace server`` processes with their own ``etc/`` for the security tests.

The main suite runs against one unsecured server started by ``run.sh``; security tests need
servers with HTTPS and authenticators, so they start their own from ``VIVACE_BIN``.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Dict, List, Optional

import requests

from security_support import free_port


def vivace_bin() -> str:
    path = os.environ.get("VIVACE_BIN")
    if not path or not os.access(path, os.X_OK):
        raise AssertionError("VIVACE_BIN must name the vivace binary (run.sh sets it)")
    return path


class VivaceProcess:
    """A ``vivace server --etc DIR`` child process with HTTP and HTTPS ports on 127.0.0.1.

    ``config`` holds extra ``config.properties`` lines; ``files`` maps names inside ``etc/`` to
    their contents. The process log is kept in ``etc/../server.log``.
    """

    def __init__(self, directory: Path, config: Dict[str, str], files: Optional[Dict[str, str]] = None,
                 https: bool = True, http: bool = True):
        self.dir = Path(directory)
        self.etc = self.dir / "etc"
        (self.etc / "catalog").mkdir(parents=True, exist_ok=True)
        (self.etc / "catalog" / "tpch.properties").write_text("connector.name=tpch\n")
        (self.etc / "catalog" / "memory.properties").write_text("connector.name=memory\n")
        self.http_port = free_port()
        self.https_port = free_port()
        lines = {
            "coordinator": "true",
            "http-server.http.bind-address": "127.0.0.1",
            "http-server.http.port": str(self.http_port),
            "http-server.http.enabled": "true" if http else "false",
        }
        if https:
            lines["http-server.https.enabled"] = "true"
            lines["http-server.https.port"] = str(self.https_port)
        lines.update(config)
        (self.etc / "config.properties").write_text("".join(f"{k}={v}\n" for k, v in lines.items()))
        for name, text in (files or {}).items():
            path = self.etc / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        self.log_path = self.dir / "server.log"
        self.process: Optional[subprocess.Popen] = None

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def https_url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    def start(self, timeout: float = 30.0) -> "VivaceProcess":
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [vivace_bin(), "server", "--etc", str(self.etc)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"vivace exited with {self.process.returncode}:\n{self.log()}")
            try:
                info = requests.get(self.http_url + "/v1/info", timeout=2).json()
                if info.get("starting") is False:
                    return self
            except (requests.RequestException, ValueError):
                pass
            time.sleep(0.1)
        raise AssertionError(f"vivace did not become ready in {timeout}s:\n{self.log()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def __enter__(self) -> "VivaceProcess":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def run_vivace(*args: str, input_text: Optional[str] = None, timeout: float = 30) -> subprocess.CompletedProcess:
    """Runs ``vivace ARGS`` to completion, capturing output."""
    return subprocess.run([vivace_bin(), *args], input=input_text, capture_output=True, text=True,
                          timeout=timeout)


def failed_startup(directory: Path, config: Dict[str, str], files: Optional[Dict[str, str]] = None) -> str:
    """Starts a server expected to refuse its configuration; returns its stderr."""
    server = VivaceProcess(directory, config, files,
                           https="http-server.https.keystore.path" in config)
    result = subprocess.run([vivace_bin(), "server", "--etc", str(server.etc)], capture_output=True,
                            text=True, timeout=30)
    assert result.returncode != 0, f"server started with a bad configuration:\n{result.stderr}"
    return result.stderr


def hostnames() -> List[str]:
    return ["localhost", "127.0.0.1"]


def password_line(user: str, password: str) -> str:
    """A bcrypt password-file line from ``vivace hash-password``."""
    result = run_vivace("hash-password", "--user", user, "--cost", "8", input_text=password + "\n")
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def password_server(directory: Path, pki: Path, passwords: Dict[str, str], secret: str,
                    config: Optional[Dict[str, str]] = None,
                    files: Optional[Dict[str, str]] = None) -> VivaceProcess:
    """A server with HTTPS (the ``pki`` fixture's certificate), a shared secret, and PASSWORD
    authentication from a password file holding ``passwords``; ``config`` and ``files`` add to
    or override that. The process remembers the passwords for :func:`tenant_connection`."""
    base_files = {
        "password.db": "".join(password_line(u, p) + "\n" for u, p in passwords.items()),
        "password-authenticator.properties": (
            "password-authenticator.name=file\n"
            f"file.password-file={directory}/etc/password.db\n"
        ),
    }
    base_config = {
        "http-server.https.keystore.path": str(pki / "vivace.pem"),
        "http-server.authentication.type": "PASSWORD",
        "password-authenticator.config-files": f"{directory}/etc/password-authenticator.properties",
        "internal-communication.shared-secret": secret,
    }
    process = VivaceProcess(directory, {**base_config, **(config or {})}, {**base_files, **(files or {})})
    process.passwords = dict(passwords)
    return process


def tenant_connection(server: VivaceProcess, pki: Path, user: str, **kwargs):
    """A ``trino`` DBAPI connection over HTTPS as ``user`` of a :func:`password_server`."""
    import trino
    from trino.auth import BasicAuthentication

    return trino.dbapi.connect(
        host="127.0.0.1", port=server.https_port, http_scheme="https",
        auth=BasicAuthentication(user, server.passwords[user]), user=user,
        verify=str(pki / "ca.pem"), catalog="tpch", schema="tiny", **kwargs,
    )


def tenant_rows(server: VivaceProcess, pki: Path, sql: str, user: str, **kwargs) -> List[List[object]]:
    """Runs ``sql`` as ``user`` and returns its rows."""
    with tenant_connection(server, pki, user, **kwargs) as conn:
        cur = conn.cursor()
        cur.execute(sql)
        return cur.fetchall()
