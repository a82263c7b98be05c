"""Support for the security tests: a throwaway OpenLDAP server, a scriptable HTTPS JSON server
and JWT helpers.

Self-contained: it needs only the standard library, ``cryptography`` and ``PyJWT`` (both in
requirements.txt) and, for LDAP, the Debian packages ``slapd`` and ``ldap-utils``, which
:func:`ensure_slapd_installed` installs on demand (root + apt). To install them ahead of a test
run (e.g. from a CI script)::

    python tests/clients/security_support.py install-slapd

Overview:

* LDAP: :class:`SlapdServer` runs ``slapd`` as a child process on free loopback ports with the
  directory described by the ``LDAP_*`` constants below (people alice/bob/carol, group analysts
  = alice + bob with the memberof overlay, a service account allowed to search). Optional TLS
  (ldaps:// and StartTLS) from PEM files, including a single combined cert+key PEM.
* HTTPS: :class:`HttpsJsonServer` serves canned JSON (e.g. a JWKS) and a POST hook (e.g. a
  password-check webhook) over TLS, and records every request.
* JWT: key pairs (:func:`generate_rsa_keypair`, :func:`generate_ec_keypair`,
  :func:`generate_hmac_secret`), :func:`make_token`, JWKS entries (:func:`jwk_from_public_pem`,
  :func:`jwks`) and malformed tokens (:func:`unsigned_token`, :func:`tamper_token`,
  :func:`alg_confusion_token`, :func:`raw_token`).
* TLS files: :func:`make_tls_files` writes a CA and a CA-signed server certificate laid out like
  ``vivace gen-cert`` output (``ca.pem`` + one combined chain-and-key PEM).
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import datetime
import fcntl
import hashlib
import hmac
import http.server
import ipaddress
import json
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

PathLike = Union[str, "os.PathLike[str]"]

# ---------------------------------------------------------------------------------------------
# Small shared helpers
# ---------------------------------------------------------------------------------------------


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free on ``host`` a moment ago (bind to port 0, then release it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


_PEM_BLOCK_RE = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----\r?\n.*?-----END \1-----\r?\n?", re.DOTALL)


def split_pem(text: str) -> Tuple[List[str], Optional[str]]:
    """Split PEM text into ``(certificate blocks, private key block or None)``.

    Accepts a certificate chain, a private key (PKCS#8 ``PRIVATE KEY``, ``RSA PRIVATE KEY`` or
    ``EC PRIVATE KEY``) or a combined file holding both, in any order. Other blocks are ignored.
    """
    certs: List[str] = []
    key: Optional[str] = None
    for match in _PEM_BLOCK_RE.finditer(text):
        block = match.group(0)
        if not block.endswith("\n"):
            block += "\n"
        label = match.group(1)
        if label == "CERTIFICATE":
            certs.append(block)
        elif label.endswith("PRIVATE KEY") and key is None:
            key = block
    return certs, key


def split_tls_files(
    cert_file: PathLike, key_file: Optional[PathLike], directory: PathLike
) -> Tuple[Path, Path]:
    """Write the certificate chain and the private key as two separate PEM files in ``directory``.

    ``cert_file`` may be a combined chain-and-key PEM (``key_file`` None), as written by
    ``vivace gen-cert``. Returns ``(cert_path, key_path)``; the key file is mode 0600.
    """
    certs, key = split_pem(Path(cert_file).read_text())
    if key_file is not None:
        _, key = split_pem(Path(key_file).read_text())
    if not certs:
        raise ValueError(f"no CERTIFICATE block in {cert_file}")
    if key is None:
        raise ValueError(f"no PRIVATE KEY block in {key_file if key_file is not None else cert_file}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    cert_path = directory / "cert.pem"
    key_path = directory / "key.pem"
    cert_path.write_text("".join(certs))
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key)
    return cert_path, key_path


def _tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


# Children that must not outlive the test process: killed at interpreter exit even if a test
# forgot to stop them. (A hard kill of the test process is covered by PR_SET_PDEATHSIG below.)
_LIVE_SERVERS: "weakref.WeakSet[Any]" = weakref.WeakSet()


@atexit.register
def _stop_live_servers() -> None:
    for server in list(_LIVE_SERVERS):
        with contextlib.suppress(Exception):
            server.stop()


def _parent_death_signal() -> Optional[Callable[[], None]]:
    """A ``preexec_fn`` making the child get SIGKILL when this thread dies (Linux), else None.

    Only used from the main thread: PR_SET_PDEATHSIG fires when the *thread* that forked the
    child exits, which for a helper thread would be far too early.
    """
    if not sys.platform.startswith("linux") or threading.current_thread() is not threading.main_thread():
        return None
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig = 1

    def preexec() -> None:
        prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0)

    return preexec


# ---------------------------------------------------------------------------------------------
# OpenLDAP
# ---------------------------------------------------------------------------------------------

SLAPD = "/usr/sbin/slapd"
LDAP_TOOLS = ("ldapwhoami", "ldapadd", "ldapmodify", "ldapsearch")
LDAP_SCHEMA_DIR = "/etc/ldap/schema"
LDAP_MODULE_DIR = "/usr/lib/ldap"

LDAP_BASE_DN = "dc=vivace,dc=test"
LDAP_ADMIN_DN = f"cn=admin,{LDAP_BASE_DN}"
LDAP_ADMIN_PASSWORD = "adminpw"
LDAP_SERVICE_DN = f"cn=service,{LDAP_BASE_DN}"
LDAP_SERVICE_PASSWORD = "servicepw"
LDAP_PEOPLE_DN = f"ou=people,{LDAP_BASE_DN}"
LDAP_GROUPS_DN = f"ou=groups,{LDAP_BASE_DN}"
# uid -> password (stored as {SSHA} hashes)
LDAP_USERS: Mapping[str, str] = {"alice": "alicepw", "bob": "bobpw", "carol": "carolpw"}
# group cn -> member uids (groupOfNames under ou=groups)
LDAP_GROUPS: Mapping[str, Sequence[str]] = {"analysts": ("alice", "bob")}


def ldap_user_dn(uid: str) -> str:
    """``uid=<uid>,ou=people,dc=vivace,dc=test``."""
    return f"uid={uid},{LDAP_PEOPLE_DN}"


def ldap_group_dn(cn: str) -> str:
    """``cn=<cn>,ou=groups,dc=vivace,dc=test``."""
    return f"cn={cn},{LDAP_GROUPS_DN}"


def ssha(password: str) -> str:
    """An OpenLDAP ``{SSHA}`` userPassword value (salted SHA-1), as ``slappasswd -h {SSHA}`` makes."""
    salt = secrets.token_bytes(8)
    digest = hashlib.sha1(password.encode("utf-8") + salt).digest()
    return "{SSHA}" + base64.b64encode(digest + salt).decode("ascii")


def _ldap_tools_present() -> bool:
    return os.access(SLAPD, os.X_OK) and all(shutil.which(tool) for tool in LDAP_TOOLS)


def ensure_slapd_installed() -> None:
    """Install Debian's ``slapd`` and ``ldap-utils`` unless already present (needs root + apt).

    Runs ``apt-get install -y --no-install-recommends`` non-interactively, and ``apt-get update``
    followed by a second try only if the first fails. The package's own slapd service is then
    stopped: tests run their own slapd (:class:`SlapdServer`). Concurrent callers are serialized
    with a lock file. Raises RuntimeError (with apt's output) if the install fails.
    """
    if _ldap_tools_present():
        return
    lock_path = Path(tempfile.gettempdir()) / "vivace-install-slapd.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _ldap_tools_present():
            return
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", "slapd", "ldap-utils"]
        first = subprocess.run(install, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
        if first.returncode != 0:
            update = subprocess.run(
                ["apt-get", "update", "-q"], env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True
            )
            second = subprocess.run(install, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
            if second.returncode != 0:
                raise RuntimeError(
                    "could not install slapd and ldap-utils (root and a reachable Debian mirror are needed).\n"
                    f"first install: exit {first.returncode}\n{_tail(first.stdout + first.stderr)}\n"
                    f"apt-get update: exit {update.returncode}\n{_tail(update.stdout + update.stderr)}\n"
                    f"second install: exit {second.returncode}\n{_tail(second.stdout + second.stderr)}"
                )
        _stop_packaged_slapd()
    if not _ldap_tools_present():
        raise RuntimeError(f"apt-get reported success but {SLAPD} or {', '.join(LDAP_TOOLS)} is missing")


def _stop_packaged_slapd() -> None:
    """Stop the slapd service that the Debian package may have started (it is not ours to keep)."""
    if shutil.which("service"):
        subprocess.run(
            ["service", "slapd", "stop"], stdin=subprocess.DEVNULL, capture_output=True, timeout=60, check=False
        )
    # Where `service` is missing or did nothing, stop exactly the process in the package's pid file.
    for pid_file in ("/run/slapd/slapd.pid", "/var/run/slapd/slapd.pid"):
        with contextlib.suppress(OSError, ValueError):
            pid = int(Path(pid_file).read_text().split()[0])
            if Path(f"/proc/{pid}/exe").resolve().name == "slapd":
                os.kill(pid, signal.SIGTERM)


class LdapError(AssertionError):
    """An ldap-utils command run by :class:`SlapdServer` failed."""


class SlapdServer:
    """A private OpenLDAP server (Debian 12's slapd 2.5) for one test or one test module.

    Usage::

        with SlapdServer() as ldap:                      # plain ldap:// only
            ldap.ldap_url                                # ldap://127.0.0.1:PORT
        with SlapdServer(cert_file=pem, ca_file=ca) as ldap:   # combined cert+key PEM
            ldap.ldaps_url                               # ldaps://127.0.0.1:TLSPORT (+ StartTLS on ldap_url)

    The directory (suffix ``dc=vivace,dc=test``, mdb in a temp dir) holds ``ou=people`` with one
    inetOrgPerson per entry of ``users`` (default :data:`LDAP_USERS`; ``uid``, ``cn``, ``sn``,
    ``mail``, ``{SSHA}`` userPassword), ``ou=groups`` with one groupOfNames per entry of
    ``groups`` (default :data:`LDAP_GROUPS`), and the service account :data:`LDAP_SERVICE_DN`
    (simpleSecurityObject + organizationalRole). With ``memberof=True`` the memberof overlay
    maintains ``memberOf`` on the users (returned only when asked for by name).

    Access: anyone may bind (simple bind, also over plain ldap://); bound users (the service
    account, people) may read everything except userPassword; anonymous users see only the
    root DSE and the schema. The rootdn :data:`LDAP_ADMIN_DN` bypasses all ACLs.

    slapd runs in the foreground (``-d none``: errors and start/stop lines only, see
    :meth:`log_text`) as a child of this process on free ports, and is
    stopped by :meth:`stop` / leaving the ``with`` block, at interpreter exit, and (Linux, when
    started from the main thread) by the kernel if this process dies. ``start()`` returns once
    ``ldapwhoami`` as alice (the first user) succeeds.

    ``cert_file``/``key_file``/``ca_file`` are PEM paths; ``cert_file`` may hold the chain and the
    key together (``key_file`` None); they are copied into the temp dir as separate files (key mode
    0600), which is what slapd's GnuTLS wants. ``ca_file`` becomes TLSCACertificateFile; ldaps
    works without it (client certificates are not requested), but it is also the default CA that
    :meth:`whoami` / :meth:`client_env` give the ldap-utils (``LDAPTLS_CACERT``).
    """

    def __init__(
        self,
        cert_file: Optional[PathLike] = None,
        key_file: Optional[PathLike] = None,
        ca_file: Optional[PathLike] = None,
        *,
        users: Optional[Mapping[str, str]] = None,
        groups: Optional[Mapping[str, Sequence[str]]] = None,
        memberof: bool = True,
        start_timeout: float = 15.0,
        keep_dir: bool = False,
    ):
        if key_file is not None and cert_file is None:
            raise ValueError("key_file given without cert_file")
        self.cert_file = cert_file
        self.key_file = key_file
        self.ca_file = ca_file
        self.users: Dict[str, str] = dict(LDAP_USERS if users is None else users)
        self.groups: Dict[str, List[str]] = {
            cn: list(members) for cn, members in (LDAP_GROUPS if groups is None else groups).items()
        }
        for cn, members in self.groups.items():
            if not members:
                raise ValueError(f"group {cn!r}: groupOfNames needs at least one member")
        self.memberof = memberof
        self.start_timeout = start_timeout
        self.keep_dir = keep_dir
        self.tls = cert_file is not None
        self.dir: Optional[Path] = None
        self.port: Optional[int] = None
        self.tls_port: Optional[int] = None
        self.startup_seconds: Optional[float] = None
        self._proc: Optional[subprocess.Popen] = None
        self._log_file = None

    # -- lifecycle ------------------------------------------------------------------------------

    @property
    def ldap_url(self) -> str:
        assert self.port is not None, "SlapdServer is not started"
        return f"ldap://127.0.0.1:{self.port}"

    @property
    def ldaps_url(self) -> Optional[str]:
        """``ldaps://127.0.0.1:TLSPORT``, or None without TLS."""
        return f"ldaps://127.0.0.1:{self.tls_port}" if self.tls_port is not None else None

    @property
    def pid(self) -> Optional[int]:
        return self._proc.pid if self._proc is not None else None

    def __enter__(self) -> "SlapdServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def start(self) -> "SlapdServer":
        """Write the config, start slapd, load the entries; returns self once alice can bind."""
        if self._proc is not None:
            raise RuntimeError("SlapdServer already started")
        ensure_slapd_installed()
        started = time.monotonic()
        self.dir = Path(tempfile.mkdtemp(prefix="vivace-slapd-"))
        try:
            (self.dir / "db").mkdir()
            tls_paths = None
            if self.tls:
                assert self.cert_file is not None
                cert_path, key_path = split_tls_files(self.cert_file, self.key_file, self.dir / "tls")
                ca_path = None
                if self.ca_file is not None:
                    ca_path = self.dir / "tls" / "ca.pem"
                    shutil.copyfile(self.ca_file, ca_path)
                tls_paths = (cert_path, key_path, ca_path)
            conf = self.dir / "slapd.conf"
            conf.write_text(self._config(tls_paths))
            # Ports are picked free, but another process may grab one before slapd binds it:
            # retry with fresh ports when slapd fails with "Address already in use".
            attempts = 3
            for attempt in range(1, attempts + 1):
                self.port = free_port()
                self.tls_port = free_port() if self.tls else None
                if self._launch(conf, retry_port_clash=attempt < attempts):
                    break
            self._load_entries()
            first_uid = next(iter(self.users), None)
            if first_uid is not None:
                deadline = time.monotonic() + self.start_timeout
                while not self.can_bind(ldap_user_dn(first_uid), self.users[first_uid]):
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"slapd: {first_uid} cannot bind after loading\n{self.log_text()}")
                    time.sleep(0.02)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started
        return self

    def _launch(self, conf: Path, retry_port_clash: bool) -> bool:
        """Start slapd and wait until it serves. False if it lost a port race (and may retry)."""
        assert self.dir is not None
        urls = self.ldap_url + "/"
        if self.ldaps_url:
            urls += " " + self.ldaps_url + "/"
        if self._log_file is not None:
            self._log_file.close()
        with contextlib.suppress(FileNotFoundError):
            (self.dir / "slapd.pid").unlink()
        self._log_file = open(self.dir / "slapd.log", "wb")
        self._proc = subprocess.Popen(
            # "-d none" keeps slapd in the foreground and prints only errors and start/stop lines.
            [SLAPD, "-f", str(conf), "-h", urls, "-d", "none"],
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            preexec_fn=_parent_death_signal(),
        )
        _LIVE_SERVERS.add(self)
        deadline = time.monotonic() + self.start_timeout
        while True:
            code = self._proc.poll()
            if code is not None:
                self._proc = None
                if retry_port_clash and "Address already in use" in self.log_text():
                    return False
                raise RuntimeError(f"slapd exited with status {code} during startup\n{self.log_text()}")
            # slapd writes its pid file only after binding every listener and starting the
            # database; the connect check then confirms the listeners are ours and serving.
            if (self.dir / "slapd.pid").exists() and self._accepts(self.port) and (
                self.tls_port is None or self._accepts(self.tls_port)
            ):
                return True
            if time.monotonic() > deadline:
                raise RuntimeError(f"slapd did not listen within {self.start_timeout}s\n{self.log_text()}")
            time.sleep(0.01)

    @staticmethod
    def _accepts(port: Optional[int]) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        """Stop slapd (SIGTERM, then SIGKILL after 5 s) and remove the temp dir. Idempotent."""
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=5)
        _LIVE_SERVERS.discard(self)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        if self.dir is not None and not self.keep_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def log_text(self) -> str:
        """What slapd printed (errors such as a TLS key mismatch, and start/stop lines)."""
        if self.dir is None:
            return ""
        try:
            text = (self.dir / "slapd.log").read_text(errors="replace")
        except OSError:
            return ""
        return "---- slapd output ----\n" + _tail(text, 200) if text.strip() else "(slapd printed nothing)"

    # -- configuration ----------------------------------------------------------------------------

    def _config(self, tls_paths: Optional[Tuple[Path, Path, Optional[Path]]]) -> str:
        assert self.dir is not None
        schemas = "".join(
            f"include {LDAP_SCHEMA_DIR}/{name}.schema\n" for name in ("core", "cosine", "inetorgperson", "nis")
        )
        modules = "moduleload back_mdb\n" + ("moduleload memberof\n" if self.memberof else "")
        tls = ""
        if tls_paths is not None:
            cert_path, key_path, ca_path = tls_paths
            tls = f'TLSCertificateFile "{cert_path}"\nTLSCertificateKeyFile "{key_path}"\n'
            if ca_path is not None:
                tls += f'TLSCACertificateFile "{ca_path}"\n'
            tls += "TLSVerifyClient never\n"
        overlay = ""
        if self.memberof:
            overlay = (
                "overlay memberof\n"
                "memberof-group-oc groupOfNames\n"
                "memberof-member-ad member\n"
                "memberof-memberof-ad memberOf\n"
                "memberof-refint TRUE\n"
            )
        return f"""# Generated by tests/clients/security_support.py
{schemas}
pidfile "{self.dir}/slapd.pid"
argsfile "{self.dir}/slapd.args"
modulepath {LDAP_MODULE_DIR}
{modules}
{tls}
# Anonymous clients may read the root DSE and the schema, nothing else.
access to dn.base="" by * read
access to dn.base="cn=Subschema" by * read

database mdb
suffix "{LDAP_BASE_DN}"
rootdn "{LDAP_ADMIN_DN}"
rootpw "{LDAP_ADMIN_PASSWORD}"
directory "{self.dir}/db"
maxsize 67108864
index objectClass eq
index uid,cn,member eq

# Binding needs the password (anonymous "auth"); a user may change their own.
# Bound users - the service account and people - may read everything else.
access to attrs=userPassword
    by self write
    by anonymous auth
    by * none
access to *
    by dn.exact="{LDAP_SERVICE_DN}" read
    by users read
    by * none
{overlay}"""

    def _base_ldif(self) -> str:
        parts = [
            f"dn: {LDAP_BASE_DN}\nobjectClass: dcObject\nobjectClass: organization\ndc: vivace\no: Vivace test\n",
            f"dn: {LDAP_PEOPLE_DN}\nobjectClass: organizationalUnit\nou: people\n",
            f"dn: {LDAP_GROUPS_DN}\nobjectClass: organizationalUnit\nou: groups\n",
            f"dn: {LDAP_SERVICE_DN}\nobjectClass: simpleSecurityObject\nobjectClass: organizationalRole\n"
            f"cn: service\ndescription: service account for searches\nuserPassword: {ssha(LDAP_SERVICE_PASSWORD)}\n",
        ]
        parts += [self.user_ldif(uid, password) for uid, password in self.users.items()]
        parts += [self.group_ldif(cn, members) for cn, members in self.groups.items()]
        return "\n".join(parts)

    @staticmethod
    def user_ldif(uid: str, password: str) -> str:
        """LDIF adding inetOrgPerson ``uid=<uid>,ou=people,...`` with an {SSHA} password."""
        return (
            f"dn: {ldap_user_dn(uid)}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {uid.capitalize()}\n"
            f"sn: {uid.capitalize()}\nmail: {uid}@vivace.test\nuserPassword: {ssha(password)}\n"
        )

    @staticmethod
    def group_ldif(cn: str, member_uids: Iterable[str]) -> str:
        """LDIF adding groupOfNames ``cn=<cn>,ou=groups,...`` with the given people as members."""
        members = "".join(f"member: {ldap_user_dn(uid)}\n" for uid in member_uids)
        return f"dn: {ldap_group_dn(cn)}\nobjectClass: groupOfNames\ncn: {cn}\n{members}"

    def _load_entries(self) -> None:
        # Added over LDAP (not slapadd) so that the memberof overlay sees the group adds.
        self.ldapadd(self._base_ldif())

    # -- client helpers (ldap-utils) ------------------------------------------------------------

    def client_env(self, ca_file: Optional[PathLike] = None) -> Dict[str, str]:
        """Environment for ldap-utils: trusts ``ca_file`` (default: the server's ``ca_file``)."""
        env = dict(os.environ)
        ca = ca_file if ca_file is not None else self.ca_file
        if ca is not None:
            env["LDAPTLS_CACERT"] = str(ca)
        return env

    def run_tool(
        self,
        tool: str,
        *args: str,
        url: Optional[str] = None,
        bind_dn: Optional[str] = LDAP_ADMIN_DN,
        password: Optional[str] = LDAP_ADMIN_PASSWORD,
        input: Optional[str] = None,
        ca_file: Optional[PathLike] = None,
        starttls: bool = False,
    ) -> subprocess.CompletedProcess:
        """Run an ldap-utils tool (simple bind) against this server; never raises on failure."""
        cmd = [tool, "-x", "-H", url or self.ldap_url, "-o", "nettimeout=5"]
        if starttls:
            cmd.append("-ZZ")
        if bind_dn is not None:
            cmd += ["-D", bind_dn, "-w", password or ""]
        cmd += list(args)
        return subprocess.run(
            cmd, input=input, capture_output=True, text=True, timeout=30, env=self.client_env(ca_file)
        )

    def _checked(self, result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
        if result.returncode != 0:
            raise LdapError(
                f"{' '.join(result.args[:1])} failed with exit {result.returncode}: "
                f"{(result.stderr or result.stdout).strip()}\n{self.log_text()}"
            )
        return result

    def whoami(
        self,
        dn: str,
        password: str,
        url: Optional[str] = None,
        ca_file: Optional[PathLike] = None,
        starttls: bool = False,
    ) -> subprocess.CompletedProcess:
        """``ldapwhoami -x -D dn -w password`` (on ``url``, default ldap_url); check ``.returncode``."""
        return self.run_tool("ldapwhoami", url=url, bind_dn=dn, password=password, ca_file=ca_file, starttls=starttls)

    def can_bind(self, dn: str, password: str, url: Optional[str] = None, ca_file: Optional[PathLike] = None) -> bool:
        """True if a simple bind as ``dn`` with ``password`` succeeds."""
        return self.whoami(dn, password, url=url, ca_file=ca_file).returncode == 0

    def ldapadd(self, ldif: str) -> None:
        """Add entries from LDIF as the rootdn; raises LdapError on failure."""
        self._checked(self.run_tool("ldapadd", input=ldif))

    def ldapmodify(self, ldif: str) -> None:
        """Apply an LDIF change record (``changetype: ...``) as the rootdn; raises LdapError."""
        self._checked(self.run_tool("ldapmodify", input=ldif))

    def add_user(self, uid: str, password: str, groups: Iterable[str] = ()) -> str:
        """Add a person under ou=people and to existing ``groups``; returns the user's DN."""
        self.ldapadd(self.user_ldif(uid, password))
        for cn in groups:
            self.ldapmodify(f"dn: {ldap_group_dn(cn)}\nchangetype: modify\nadd: member\nmember: {ldap_user_dn(uid)}\n")
        self.users[uid] = password
        return ldap_user_dn(uid)

    def set_password(self, uid: str, password: str) -> None:
        """Replace a person's userPassword (as the rootdn)."""
        self.ldapmodify(
            f"dn: {ldap_user_dn(uid)}\nchangetype: modify\nreplace: userPassword\nuserPassword: {ssha(password)}\n"
        )
        self.users[uid] = password

    def search(
        self,
        base: str = LDAP_BASE_DN,
        filter: str = "(objectClass=*)",
        *attrs: str,
        scope: str = "sub",
        bind_dn: Optional[str] = LDAP_ADMIN_DN,
        password: Optional[str] = LDAP_ADMIN_PASSWORD,
    ) -> List[Tuple[str, Dict[str, List[str]]]]:
        """``ldapsearch`` -> ``[(dn, {attribute: [values]})]``; raises LdapError on failure.

        Operational attributes such as memberOf are returned only when named in ``attrs``.
        """
        result = self._checked(
            self.run_tool("ldapsearch", "-LLL", "-o", "ldif-wrap=no", "-s", scope, "-b", base, filter, *attrs,
                          bind_dn=bind_dn, password=password)
        )
        return _parse_ldif(result.stdout)


def _parse_ldif(text: str) -> List[Tuple[str, Dict[str, List[str]]]]:
    """Parse ldapsearch -LLL output (handles folded lines and base64 ``attr::`` values)."""
    entries: List[Tuple[str, Dict[str, List[str]]]] = []
    for record in re.split(r"\n\s*\n", text.replace("\n ", "")):
        dn: Optional[str] = None
        attrs: Dict[str, List[str]] = {}
        for line in record.splitlines():
            if not line or line.startswith("#") or ":" not in line:
                continue
            name, _, value = line.partition(":")
            if value.startswith(":"):
                value = base64.b64decode(value[1:].strip()).decode("utf-8", errors="replace")
            else:
                value = value.strip()
            if name.lower() == "dn":
                dn = value
            else:
                attrs.setdefault(name, []).append(value)
        if dn is not None:
            entries.append((dn, attrs))
    return entries


# ---------------------------------------------------------------------------------------------
# HTTPS JSON server
# ---------------------------------------------------------------------------------------------

# A response: (status, body) or (status, body, headers). A dict/list/number/bool body is sent as
# JSON; str as text/plain; bytes as application/octet-stream; None as an empty body.
Response = Union[Tuple[int, Any], Tuple[int, Any, Mapping[str, str]]]


@dataclass
class RecordedRequest:
    """One request received by :class:`HttpsJsonServer`."""

    method: str
    path: str  # without the query string
    query: str  # raw query string ("" if none)
    headers: Message  # case-insensitive: request.headers["authorization"]
    body: bytes
    time: float  # time.time() when the request was read
    client: Tuple[str, int] = ("", 0)

    @property
    def json(self) -> Any:
        """The body parsed as JSON, or None if empty or not JSON."""
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None


class _HttpsServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: Tuple[str, int], owner: "HttpsJsonServer", context: ssl.SSLContext):
        self.owner = owner
        self.ssl_context = context
        super().__init__(address, _HttpsHandler)

    def finish_request(self, request: socket.socket, client_address: Any) -> None:
        # The TLS handshake runs here, in the per-connection thread, so that a client that stalls
        # or rejects our certificate cannot block the accept loop.
        request.settimeout(10)
        try:
            tls = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            self.owner.tls_errors.append(f"{client_address}: {e}")
            return
        with self.owner._lock:
            self.owner._connections.add(tls)
        try:
            self.RequestHandlerClass(tls, client_address, self)
        except OSError:
            pass  # the client went away, or stop() closed a kept-alive connection
        finally:
            with self.owner._lock:
                self.owner._connections.discard(tls)
            with contextlib.suppress(OSError):
                tls.close()


class _HttpsHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "VivaceTestHttps/1"
    timeout = 30
    server: _HttpsServer

    def _handle(self) -> None:
        owner = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        path, _, query = self.path.partition("?")
        request = RecordedRequest(
            method=self.command, path=path, query=query, headers=self.headers, body=body, time=time.time(),
            client=self.client_address,
        )
        with owner._lock:
            owner.requests.append(request)
        try:
            response = owner._respond(request)
        except Exception as e:  # noqa: BLE001 - reported to the client and kept for the test
            owner.handler_errors.append(e)
            response = (500, {"error": f"{type(e).__name__}: {e}"})
        if owner.delay > 0:
            time.sleep(owner.delay)
        status, payload = response[0], response[1]
        extra_headers: Mapping[str, str] = response[2] if len(response) > 2 else {}  # type: ignore[misc]
        if payload is None:
            data, content_type = b"", None
        elif isinstance(payload, bytes):
            data, content_type = payload, "application/octet-stream"
        elif isinstance(payload, str):
            data, content_type = payload.encode("utf-8"), "text/plain; charset=utf-8"
        else:
            data, content_type = json.dumps(payload).encode("utf-8"), "application/json"
        self.send_response(status)
        if content_type and not any(k.lower() == "content-type" for k in extra_headers):
            self.send_header("Content-Type", content_type)
        for name, value in extra_headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _handle

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # requests are in owner.requests; keep pytest output clean


class HttpsJsonServer:
    """A scriptable HTTPS server on ``127.0.0.1:<free port>``, run in a background thread.

    Usage::

        with HttpsJsonServer(tls.combined_file) as web:          # or (cert_file, key_file)
            web.routes["/jwks.json"] = (200, jwks(jwk))            # GET (and any method without a hook)
            web.post_handler = lambda path, body: (200, {"ok": body["password"] == "secret"})
            requests.get(web.url("/jwks.json"), verify=tls.ca_file)
            web.requests[-1].headers["User-Agent"]

    Routing: a POST goes to ``post_handler(path, json_body)`` when set (``json_body`` is None if
    the body is not JSON); everything else, and POSTs without a hook, look up ``routes[path]``
    (path without the query string). A route value is a :data:`Response` tuple or a callable
    ``fn(RecordedRequest) -> Response``. Unknown paths answer 404. A handler exception answers
    500 and is appended to ``handler_errors``. ``delay`` (seconds) is slept before every
    response, to simulate a slow endpoint. Failed TLS handshakes (e.g. a client that does not
    trust the certificate) are appended to ``tls_errors``.
    """

    def __init__(self, cert_file: PathLike, key_file: Optional[PathLike] = None, *, host: str = "127.0.0.1"):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        with tempfile.TemporaryDirectory(prefix="vivace-https-") as tmp:
            cert_path, key_path = split_tls_files(cert_file, key_file, tmp)
            context.load_cert_chain(cert_path, key_path)
        self.host = host
        self.routes: Dict[str, Union[Response, Callable[[RecordedRequest], Response]]] = {}
        self.post_handler: Optional[Callable[[str, Any], Response]] = None
        self.delay: float = 0.0
        self.requests: List[RecordedRequest] = []
        self.handler_errors: List[BaseException] = []
        self.tls_errors: List[str] = []
        self._lock = threading.Lock()
        self._connections: "set[ssl.SSLSocket]" = set()
        self._server = _HttpsServer((host, 0), self, context)
        self.port: int = self._server.server_address[1]
        self._thread: Optional[threading.Thread] = None

    def url(self, path: str = "/") -> str:
        """``https://127.0.0.1:PORT`` + ``path`` (a leading / is added if missing)."""
        return f"https://{self.host}:{self.port}/{path.lstrip('/')}"

    @property
    def base_url(self) -> str:
        return f"https://{self.host}:{self.port}"

    def requests_to(self, path: str, method: Optional[str] = None) -> List[RecordedRequest]:
        """The recorded requests for ``path`` (and ``method``, if given)."""
        with self._lock:
            return [r for r in self.requests if r.path == path and (method is None or r.method == method)]

    def clear(self) -> None:
        """Forget the recorded requests and errors (routes and hooks stay)."""
        with self._lock:
            self.requests.clear()
        self.handler_errors.clear()
        self.tls_errors.clear()

    def _respond(self, request: RecordedRequest) -> Response:
        if request.method == "POST" and self.post_handler is not None:
            return self.post_handler(request.path, request.json)
        route = self.routes.get(request.path)
        if route is None:
            return (404, {"error": f"no route for {request.method} {request.path}"})
        return route(request) if callable(route) else route

    def start(self) -> "HttpsJsonServer":
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"https-{self.port}",
                daemon=True,
            )
            self._thread.start()
            _LIVE_SERVERS.add(self)
        return self

    def stop(self) -> None:
        """Stop serving: close the listening socket and every open (kept-alive) connection.

        Afterwards clients see connection errors, as from a server that went down. Idempotent.
        """
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        _LIVE_SERVERS.discard(self)

    def __enter__(self) -> "HttpsJsonServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


# ---------------------------------------------------------------------------------------------
# TLS files (CA + server certificate)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TlsFiles:
    """Paths written by :func:`make_tls_files`."""

    ca_file: Path  # CA certificate (trust anchor for clients)
    cert_file: Path  # server certificate chain: server cert, then the CA cert
    key_file: Path  # server private key (PKCS#8, mode 0600)
    combined_file: Path  # chain + key in one file, like `vivace gen-cert`'s server PEM
    ca_key_file: Path  # CA private key (PKCS#8), to sign more certificates if needed


def make_tls_files(
    directory: PathLike,
    hosts: Sequence[str] = ("127.0.0.1", "localhost"),
    *,
    name: str = "server",
    days: int = 30,
) -> TlsFiles:
    """Write a fresh EC P-256 CA and a server certificate for ``hosts`` signed by it.

    Files: ``ca.pem``, ``ca-key.pem``, ``<name>-cert.pem`` (chain), ``<name>-key.pem`` and
    ``<name>.pem`` (chain + PKCS#8 key). IP-address hosts become IP SANs, others DNS SANs;
    the first host is the subject CN.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    not_before, not_after = now - datetime.timedelta(hours=1), now + datetime.timedelta(days=days)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"Vivace test CA {secrets.token_hex(4)}")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    key = ec.generate_private_key(ec.SECP256R1())
    sans: List[x509.GeneralName] = []
    for host in hosts:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            sans.append(x509.DNSName(host))
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0] if hosts else name)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    def pem_key(k: Any) -> str:
        return k.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode("ascii")

    ca_pem = ca_cert.public_bytes(serialization.Encoding.PEM).decode("ascii")
    chain_pem = cert.public_bytes(serialization.Encoding.PEM).decode("ascii") + ca_pem
    files = TlsFiles(
        ca_file=directory / "ca.pem",
        cert_file=directory / f"{name}-cert.pem",
        key_file=directory / f"{name}-key.pem",
        combined_file=directory / f"{name}.pem",
        ca_key_file=directory / "ca-key.pem",
    )
    files.ca_file.write_text(ca_pem)
    files.cert_file.write_text(chain_pem)
    for path, text in (
        (files.key_file, pem_key(key)),
        (files.combined_file, chain_pem + pem_key(key)),
        (files.ca_key_file, pem_key(ca_key)),
    ):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
    return files


# ---------------------------------------------------------------------------------------------
# JWT helpers (PyJWT + cryptography)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyPair:
    """A PEM key pair: PKCS#8 private key and SubjectPublicKeyInfo public key."""

    private_pem: str
    public_pem: str
    kind: str  # "RSA" or "EC"


def _key_pair(private_key: Any, kind: str) -> KeyPair:
    from cryptography.hazmat.primitives import serialization

    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")
    public_pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")
    return KeyPair(private_pem, public_pem, kind)


def generate_rsa_keypair(bits: int = 2048) -> KeyPair:
    """A fresh RSA key pair (for RS256/RS384/RS512/PS256...)."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    return _key_pair(rsa.generate_private_key(public_exponent=65537, key_size=bits), "RSA")


def generate_ec_keypair() -> KeyPair:
    """A fresh EC P-256 key pair (for ES256)."""
    from cryptography.hazmat.primitives.asymmetric import ec

    return _key_pair(ec.generate_private_key(ec.SECP256R1()), "EC")


def generate_hmac_secret(nbytes: int = 32) -> str:
    """A random printable HMAC secret (URL-safe base64 of ``nbytes`` random bytes).

    The key bytes are the UTF-8 of the string, so it can be written as-is to a key file and
    passed as-is to :func:`make_token` (HS256/HS384/HS512).
    """
    return secrets.token_urlsafe(nbytes)


def make_token(
    key: Union[str, bytes, KeyPair],
    alg: str,
    kid: Optional[str] = None,
    *,
    extra_headers: Optional[Mapping[str, Any]] = None,
    **claims: Any,
) -> str:
    """A signed compact JWT with exactly ``claims`` as payload (no claims are added).

    ``key`` is a PEM private key (or a :class:`KeyPair`) for RS*/PS*/ES*, or the secret for HS*.
    ``kid`` goes into the header, with ``extra_headers``. Datetime claim values (``exp``,
    ``iat``, ``nbf``) are converted to NumericDate by PyJWT; ints are used as they are.
    """
    import jwt

    if isinstance(key, KeyPair):
        key = key.private_pem
    headers: Dict[str, Any] = dict(extra_headers or {})
    if kid is not None:
        headers["kid"] = kid
    return jwt.encode(claims, key, algorithm=alg, headers=headers or None)


def jwk_from_public_pem(pem: Union[str, bytes, KeyPair], kid: str, alg: str) -> Dict[str, Any]:
    """A JWKS entry (dict) for a public key PEM (a private key PEM or KeyPair also works).

    RSA -> ``{"kty": "RSA", "n", "e", ...}``, EC -> ``{"kty": "EC", "crv", "x", "y", ...}``, with
    ``kid``, ``alg`` and ``use: "sig"`` added.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from jwt.algorithms import ECAlgorithm, RSAAlgorithm

    if isinstance(pem, KeyPair):
        pem = pem.public_pem
    data = pem.encode("ascii") if isinstance(pem, str) else pem
    if b"PRIVATE KEY" in data:
        public_key = serialization.load_pem_private_key(data, password=None).public_key()
    else:
        public_key = serialization.load_pem_public_key(data)
    if isinstance(public_key, rsa.RSAPublicKey):
        jwk = RSAAlgorithm.to_jwk(public_key, as_dict=True)
    elif isinstance(public_key, ec.EllipticCurvePublicKey):
        jwk = ECAlgorithm.to_jwk(public_key, as_dict=True)
    else:
        raise ValueError(f"unsupported key type {type(public_key).__name__}")
    jwk.update(kid=kid, alg=alg, use="sig")
    return jwk


def jwks(*keys: Mapping[str, Any]) -> Dict[str, Any]:
    """``{"keys": [...]}`` - a JWK Set document for :class:`HttpsJsonServer` routes."""
    return {"keys": [dict(k) for k in keys]}


def b64url(data: Union[bytes, str]) -> str:
    """Unpadded base64url, as used in JWT segments."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _json_segment(obj: Mapping[str, Any]) -> str:
    return b64url(json.dumps(obj, separators=(",", ":")).encode("utf-8"))


def raw_token(header: Mapping[str, Any], payload: Mapping[str, Any], signature: bytes = b"") -> str:
    """``b64url(header).b64url(payload).b64url(signature)`` with no validation or signing at all."""
    return f"{_json_segment(header)}.{_json_segment(payload)}.{b64url(signature)}"


def unsigned_token(kid: Optional[str] = None, **claims: Any) -> str:
    """An unsecured JWT: header ``{"alg": "none", "typ": "JWT"}`` and an empty signature."""
    header: Dict[str, Any] = {"alg": "none", "typ": "JWT"}
    if kid is not None:
        header["kid"] = kid
    return raw_token(header, claims)


def token_parts(token: str) -> Tuple[Dict[str, Any], Dict[str, Any], bytes]:
    """Decode a compact JWT without verifying it: ``(header, payload, signature bytes)``."""
    header, payload, signature = token.split(".")
    return json.loads(b64url_decode(header)), json.loads(b64url_decode(payload)), b64url_decode(signature)


def tamper_token(token: str, remove: Iterable[str] = (), **changes: Any) -> str:
    """``token`` with its payload claims changed (``changes``) / deleted (``remove``) after signing.

    The header and signature segments are kept byte for byte, so the signature no longer matches.
    """
    header_segment, payload_segment, signature_segment = token.split(".")
    payload = json.loads(b64url_decode(payload_segment))
    for name in remove:
        payload.pop(name, None)
    payload.update(changes)
    return f"{header_segment}.{_json_segment(payload)}.{signature_segment}"


def alg_confusion_token(public_pem: Union[str, KeyPair], kid: Optional[str] = None, **claims: Any) -> str:
    """An HS256 token whose HMAC key is the *public* RSA/EC key PEM (the classic alg-confusion attack).

    A verifier that lets the token's ``alg`` pick HMAC while it holds an asymmetric public key
    would accept it. PyJWT refuses to build such a token, so it is signed by hand.
    """
    if isinstance(public_pem, KeyPair):
        public_pem = public_pem.public_pem
    header: Dict[str, Any] = {"alg": "HS256", "typ": "JWT"}
    if kid is not None:
        header["kid"] = kid
    signing_input = f"{_json_segment(header)}.{_json_segment(claims)}"
    signature = hmac.new(public_pem.encode("ascii"), signing_input.encode("ascii"), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


# ---------------------------------------------------------------------------------------------
# Command line: `python security_support.py install-slapd`
# ---------------------------------------------------------------------------------------------

if __name__ == "__main__":
    if sys.argv[1:] == ["install-slapd"]:
        ensure_slapd_installed()
        print(f"slapd and ldap-utils are installed ({SLAPD})")
    else:
        print(f"usage: {sys.argv[0]} install-slapd", file=sys.stderr)
        sys.exit(2)
