"""Connection abuse (issue 22): slowloris, idle plain and TLS sockets, slow and oversized
bodies, many idle sockets under a low ``ulimit -n``, the total and per-address connection caps,
and the single-node default mode of the internal endpoints.

Throughout, a legitimate client (the real ``trino`` client) keeps getting ``SELECT 1``
answered within a few seconds, and every refusal is an answer (503 with ``Retry-After``), not a
silent drop. Each scenario starts its own ``vivace server`` on 127.0.0.1 with small limits;
attackers connect from other loopback addresses (127.0.0.2, ...), which the server counts as
other hosts. Every loop is bounded in count and time.
"""

from __future__ import annotations

import contextlib
import hashlib
import resource
import socket
import ssl
import time
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Tuple

import jwt
import pytest
import requests
import trino
from trino.auth import BasicAuthentication

from secured_server import VivaceProcess, failed_startup, password_line
from support import HTTP_TIMEOUT

SHARED_SECRET = "hostile-connections-secret-" + "y" * 24
PASSWORD = "legit-user-password"
# A legitimate client's SELECT 1 must come back within this many seconds.
LEGIT_LATENCY = 5.0
# Loopback addresses other than 127.0.0.1 are other hosts to the server.
ATTACKER = "127.0.0.2"
LEGIT = "127.0.0.3"
THIS_HOST = "127.0.0.1"


pytestmark = pytest.mark.usefixtures("trust_only_generated_ca")


# ---------------------------------------------------------------------------------------------
# Clients: the legitimate one (trino), raw sockets for the attackers
# ---------------------------------------------------------------------------------------------


class SourceAddressAdapter(requests.adapters.HTTPAdapter):
    """Connects from a chosen local address."""

    def __init__(self, source: str):
        self._source = source
        super().__init__()

    def init_poolmanager(self, connections, maxsize, block=False, **kwargs):
        kwargs["source_address"] = (self._source, 0)
        super().init_poolmanager(connections, maxsize, block, **kwargs)


def session_from(source: str, verify=True) -> requests.Session:
    session = requests.Session()
    adapter = SourceAddressAdapter(source)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.verify = verify
    return session


def select_one(port: int, source: str = LEGIT, https_ca: Optional[Path] = None, user: str = "legit",
               password: Optional[str] = None) -> float:
    """``SELECT 1`` with the trino client from ``source``; fails unless answered within
    LEGIT_LATENCY seconds. Returns the time it took."""
    started = time.monotonic()
    session = session_from(source, verify=str(https_ca) if https_ca else True)
    try:
        connection = trino.dbapi.connect(
            host="127.0.0.1", port=port, user=user, http_scheme="https" if https_ca else "http",
            auth=BasicAuthentication(user, password) if password else None,
            http_session=session, request_timeout=LEGIT_LATENCY, max_attempts=1,
        )
        cursor = connection.cursor()
        cursor.execute("SELECT 1")
        assert cursor.fetchall() == [[1]]
    finally:
        session.close()
    elapsed = time.monotonic() - started
    assert elapsed < LEGIT_LATENCY, f"SELECT 1 took {elapsed:.1f}s"
    return elapsed


def eventually_select_one(port: int, source: str = LEGIT, within: float = 10.0, **kwargs) -> None:
    """``select_one`` once the server has noticed closed sockets (bounded by ``within``)."""
    deadline = time.monotonic() + within
    while True:
        try:
            select_one(port, source, **kwargs)
            return
        except Exception:  # retried until the deadline, then raised
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def connect_from(source: str, port: int, timeout: float = 5.0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", port))
    return sock


def tls_connect_from(source: str, port: int, ca: Path) -> ssl.SSLSocket:
    context = ssl.create_default_context(cafile=str(ca))
    context.set_alpn_protocols(["http/1.1"])
    return context.wrap_socket(connect_from(source, port), server_hostname="127.0.0.1")


class Watched:
    """A socket whose closing by the server is watched; data it receives is kept."""

    def __init__(self, sock: socket.socket):
        sock.setblocking(False)
        self.sock = sock
        self.data = b""
        self.closed_at: Optional[float] = None
        self.opened_at = time.monotonic()

    def poll(self) -> bool:
        """True once the server has closed the connection."""
        if self.closed_at is not None:
            return True
        while True:
            try:
                chunk = self.sock.recv(65536)
            except (BlockingIOError, ssl.SSLWantReadError):
                return False
            except (OSError, ssl.SSLError):
                chunk = b""
            if not chunk:
                self.closed_at = time.monotonic()
                return True
            self.data += chunk

    def send(self, data: bytes) -> None:
        try:
            self.sock.send(data)
        except (OSError, ssl.SSLError):
            self.poll()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


def wait_all_closed(watched: List[Watched], within: float, legit_port: Optional[int] = None,
                    tick: Optional[Callable[[], None]] = None) -> None:
    """Polls until the server closed every socket, running the legitimate client meanwhile."""
    deadline = time.monotonic() + within
    while not all(w.poll() for w in watched):
        assert time.monotonic() < deadline, \
            f"{sum(not w.poll() for w in watched)} of {len(watched)} connections still open after {within}s"
        if tick:
            tick()
        if legit_port is not None:
            select_one(legit_port)
        time.sleep(0.3)


def read_response(sock: socket.socket, timeout: float = 10.0) -> Tuple[int, Dict[str, str], bytes]:
    """One HTTP/1.1 response (with a Content-Length) from a raw socket."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before a response: {data!r}"
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return status, headers, body


def request(sock: socket.socket, method: str, path: str, body: bytes = b"",
            headers: Optional[Dict[str, str]] = None) -> Tuple[int, Dict[str, str], bytes]:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    return read_response(sock)


def request_from(source: str, port: int, method: str, path: str, body: bytes = b"",
                 headers: Optional[Dict[str, str]] = None) -> Tuple[int, Dict[str, str], bytes]:
    sock = connect_from(source, port)
    try:
        return request(sock, method, path, body, headers)
    finally:
        sock.close()


def assert_overloaded(response: Tuple[int, Dict[str, str], bytes], fragment: str) -> None:
    status, headers, body = response
    assert status == 503, response
    assert headers.get("retry-after") == "5", headers
    assert headers.get("connection", "").lower() == "close", headers
    assert fragment in body.decode(), body


def internal_token(node: str = "other-node") -> str:
    key = hashlib.sha256(SHARED_SECRET.encode()).digest()
    return jwt.encode({"sub": node, "exp": int(time.time()) + 300}, key, algorithm="HS256")


@contextlib.contextmanager
def holding(sockets: List[Watched]) -> Iterator[List[Watched]]:
    try:
        yield sockets
    finally:
        for w in sockets:
            w.close()


# ---------------------------------------------------------------------------------------------
# Timeouts: slowloris, idle plain and TLS connections, slow and oversized bodies
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def quick(tmp_path_factory, pki) -> Iterator[VivaceProcess]:
    """Short timeouts: 2 s idle, 2 s for the handshake and headers, 2 s for a body."""
    config = {
        "http-server.https.keystore.path": str(pki / "vivace.pem"),
        "http-server.net.max-idle-time": "2s",
        "http-server.header-read-timeout": "2s",
        "http-server.body-read-timeout": "2s",
        "http-server.max-request-body-size": "64kB",
    }
    with VivaceProcess(tmp_path_factory.mktemp("quick"), config) as server:
        yield server


@pytest.mark.timeout(60)
def test_slowloris_headers_are_cut_off(quick: VivaceProcess) -> None:
    trickling = [Watched(connect_from(ATTACKER, quick.http_port)) for _ in range(10)]
    with holding(trickling):
        for w in trickling:
            w.send(b"POST /v1/statement HTTP/1.1\r\nHost: x\r\nX-Trino-User: slow\r\n")
        counter = iter(range(1000))

        def trickle() -> None:
            for w in trickling:
                if w.closed_at is None:
                    w.send(f"X-Pad-{next(counter)}: y\r\n".encode())

        # Headers never finish: every connection is cut at the header timeout (2 s) or the
        # idle timer, while SELECT 1 keeps working.
        wait_all_closed(trickling, within=12, legit_port=quick.http_port, tick=trickle)
        assert max(w.closed_at - w.opened_at for w in trickling) < 10


@pytest.mark.timeout(60)
def test_idle_plain_and_tls_connections_are_closed(quick: VivaceProcess, pki: Path) -> None:
    silent = [Watched(connect_from(ATTACKER, quick.http_port)) for _ in range(5)]
    kept_alive = []
    for _ in range(5):
        sock = connect_from(ATTACKER, quick.http_port)
        status, headers, _ = request(sock, "GET", "/v1/info")
        assert status == 200 and headers.get("connection", "keep-alive") != "close"
        kept_alive.append(Watched(sock))
    tls_idle = [Watched(tls_connect_from(ATTACKER, quick.https_port, pki / "ca.pem")) for _ in range(5)]
    no_handshake = [Watched(connect_from(ATTACKER, quick.https_port)) for _ in range(3)]
    everything = silent + kept_alive + tls_idle + no_handshake
    with holding(everything):
        wait_all_closed(everything, within=12, legit_port=quick.http_port)
        assert all(not w.data for w in silent + tls_idle + no_handshake)


@pytest.mark.timeout(60)
def test_slow_and_oversized_bodies(quick: VivaceProcess) -> None:
    # A body trickled one byte at a time gets 408 once the body timeout (2 s) passes.
    slow = Watched(connect_from(ATTACKER, quick.http_port))
    with holding([slow]):
        slow.send(b"POST /v1/statement HTTP/1.1\r\nHost: x\r\nX-Trino-User: slow\r\nContent-Length: 100\r\n\r\nS")
        deadline = time.monotonic() + 10
        while not slow.poll():
            assert time.monotonic() < deadline, "slow body still being read"
            slow.send(b" ")
            time.sleep(0.25)
        assert slow.data.startswith(b"HTTP/1.1 408 "), slow.data
        assert b"http-server.body-read-timeout" in slow.data
    select_one(quick.http_port)

    # A declared length over http-server.max-request-body-size (64kB): 413 before any body.
    status, _, body = declared_too_large(quick.http_port)
    assert status == 413, body
    assert b"http-server.max-request-body-size" in body

    # The same without a declared length (chunked): 413 once 64kB have arrived.
    sock = connect_from(ATTACKER, quick.http_port)
    try:
        sock.sendall(b"POST /v1/statement HTTP/1.1\r\nHost: x\r\nX-Trino-User: big\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n")
        chunk = b"SELECT 1 " * 1000
        # The server stops reading past 64kB; what it leaves unread may reset the sending side.
        with contextlib.suppress(OSError):
            for _ in range(10):
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        status, _, body = read_response(sock)
        assert status == 413, body
    finally:
        sock.close()
    select_one(quick.http_port)


def declared_too_large(port: int) -> Tuple[int, Dict[str, str], bytes]:
    sock = connect_from(ATTACKER, port)
    try:
        sock.sendall(b"POST /v1/statement HTTP/1.1\r\nHost: x\r\nX-Trino-User: big\r\n"
                     b"Content-Length: 10000000\r\n\r\n")
        return read_response(sock)
    finally:
        sock.close()


# ---------------------------------------------------------------------------------------------
# Connection caps: per address, total, the reserve for this host, health and internal requests
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def capped(tmp_path_factory, pki) -> Iterator[VivaceProcess]:
    """40 connections (36 for ordinary clients), 10 per address; HTTPS and passwords."""
    directory = tmp_path_factory.mktemp("capped")
    files = {
        "password.db": password_line("legit", PASSWORD) + "\n",
        "password-authenticator.properties": (
            "password-authenticator.name=file\n"
            f"file.password-file={directory}/etc/password.db\n"
        ),
    }
    config = {
        "http-server.https.keystore.path": str(pki / "vivace.pem"),
        "http-server.authentication.type": "PASSWORD",
        "internal-communication.shared-secret": SHARED_SECRET,
        "http-server.max-connections": "40",
        "http-server.max-connections-per-address": "10",
        "http-server.net.max-idle-time": "30s",
        "http-server.header-read-timeout": "30s",
    }
    with VivaceProcess(directory, config, files) as server:
        yield server


@pytest.mark.timeout(90)
def test_connection_caps_answer_503_and_keep_headroom(capped: VivaceProcess, pki: Path) -> None:
    ca = pki / "ca.pem"

    def legit(source: str = LEGIT) -> None:
        select_one(capped.https_port, source, https_ca=ca, password=PASSWORD)

    legit()
    time.sleep(0.3)
    # One address holds at most 10 connections; the 11th is answered 503, others are served.
    one_address = [Watched(connect_from(ATTACKER, capped.http_port)) for _ in range(10)]
    with holding(one_address):
        assert_overloaded(request_from(ATTACKER, capped.http_port, "GET", "/v1/info"),
                          "max-connections-per-address")
        legit()
    eventually_select_one(capped.https_port, LEGIT, https_ca=ca, password=PASSWORD)
    time.sleep(0.5)  # the server notices the closed sockets

    # Ordinary clients fill the 36 ordinary places from several addresses.
    spread = [Watched(connect_from(f"127.0.0.{4 + i % 4}", capped.http_port)) for i in range(36)]
    with holding(spread):
        time.sleep(0.3)
        # Another client gets an answer, not silence: 503, Retry-After, Connection: close.
        assert_overloaded(
            request_from("127.0.0.9", capped.http_port, "POST", "/v1/statement", b"SELECT 1",
                         {"X-Trino-User": "late"}),
            "max-connections",
        )
        # The health endpoints and requests signed by another node are still served.
        assert request_from("127.0.0.9", capped.http_port, "GET", "/v1/info")[0] == 200
        status, headers, _ = request_from("127.0.0.9", capped.http_port, "GET", "/v1/status")
        assert status == 200 and headers.get("connection") == "close"
        signed = {"X-Trino-Internal-Bearer": internal_token(), "Content-Type": "application/json"}
        assert request_from("127.0.0.9", capped.http_port, "PUT", "/v1/info/state", b'"ACTIVE"',
                            signed)[0] == 200
        assert_overloaded(request_from("127.0.0.9", capped.http_port, "PUT", "/v1/info/state",
                                       b'"ACTIVE"', {"Content-Type": "application/json"}),
                          "max-connections")
        with session_from("127.0.0.9", verify=str(ca)) as tls:
            response = tls.get(capped.https_url + "/v1/info", timeout=HTTP_TIMEOUT)
            assert response.status_code == 200
        # This host keeps the whole reserve: its SELECT 1 runs.
        legit(THIS_HOST)

        # Idle sockets from elsewhere take at most half the reserve (2 places, for 3 s); past
        # that even a health check from elsewhere is answered 503, and this host still gets in.
        squatters = [Watched(connect_from("127.0.0.10", capped.http_port)) for _ in range(2)]
        with holding(squatters):
            time.sleep(0.2)
            assert_overloaded(request_from("127.0.0.11", capped.http_port, "GET", "/v1/info"),
                              "max-connections")
            legit(THIS_HOST)
    # Once the sockets are gone, ordinary clients are served again.
    eventually_select_one(capped.https_port, LEGIT, https_ca=ca, password=PASSWORD)
    assert "connection limits" in capped.log()


# ---------------------------------------------------------------------------------------------
# Many idle sockets against a low open-file limit
# ---------------------------------------------------------------------------------------------


@contextlib.contextmanager
def open_file_limit(soft: int) -> Iterator[None]:
    """Lowers this process's soft RLIMIT_NOFILE (inherited by servers started meanwhile)."""
    old_soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (old_soft, hard))


@pytest.mark.timeout(120)
def test_many_idle_sockets_under_a_low_open_file_limit(tmp_path: Path) -> None:
    server = VivaceProcess(tmp_path, {
        "http-server.net.max-idle-time": "60s",
        "http-server.header-read-timeout": "60s",
    }, https=False)
    with open_file_limit(256):
        server.start()
    try:
        # ulimit -n 256: 256 - 64 - 32 = 160 connections, 16 of them reserved.
        assert "max_connections=160" in server.log(), server.log()
        # One address opens 400 idle sockets: it gets 100, the rest are refused.
        flood = []
        with holding(flood):
            for _ in range(400):
                with contextlib.suppress(OSError):
                    flood.append(Watched(connect_from(ATTACKER, server.http_port)))
            time.sleep(1.5)
            select_one(server.http_port)
            still_open = sum(not w.poll() for w in flood)
            assert still_open <= 100, still_open
            answered = sum(w.data.startswith(b"HTTP/1.1 503 ") for w in flood)
            assert answered > 0, "refused connections were dropped without an answer"
        eventually_select_one(server.http_port)

        # Many addresses: 60 idle sockets from each of six fill every place they may take.
        flood = []
        with holding(flood):
            for i in range(360):
                with contextlib.suppress(OSError):
                    flood.append(Watched(connect_from(f"127.0.0.{20 + i % 6}", server.http_port)))
            time.sleep(1.5)
            assert sum(not w.poll() for w in flood) <= 160
            # A newcomer is answered 503 (not silence); this host is served.
            assert_overloaded(
                request_from("127.0.0.30", server.http_port, "POST", "/v1/statement", b"SELECT 1",
                             {"X-Trino-User": "late"}),
                "max-connections",
            )
            select_one(server.http_port, THIS_HOST)
            # Once the restricted squatters time out (3 s), health checks from elsewhere pass.
            deadline = time.monotonic() + 8
            while request_from("127.0.0.30", server.http_port, "GET", "/v1/info")[0] != 200:
                assert time.monotonic() < deadline, "health endpoint never answered"
                time.sleep(0.5)
            select_one(server.http_port, THIS_HOST)
        eventually_select_one(server.http_port)
        assert "Too many open files" not in server.log(), server.log()
        assert server.process.poll() is None
    finally:
        server.stop()


# ---------------------------------------------------------------------------------------------
# The safe default mode: without a shared secret, internal endpoints serve only this host
# ---------------------------------------------------------------------------------------------


@pytest.mark.timeout(60)
def test_without_a_secret_only_this_host_reaches_internal_endpoints(tmp_path: Path) -> None:
    with VivaceProcess(tmp_path / "open", {}, https=False) as server:
        assert "single-node mode" in server.log()
        elsewhere = session_from(ATTACKER)
        url = server.http_url
        response = elsewhere.put(url + "/v1/info/state", data='"SHUTTING_DOWN"', timeout=HTTP_TIMEOUT,
                                 headers={"Content-Type": "application/json"})
        assert response.status_code == 403, response.text
        assert "internal-communication.shared-secret" in response.text
        announcement = {"environment": "vivace", "location": "http://127.0.0.2:1/", "services": []}
        response = elsewhere.put(url + "/v1/announcement/rogue", json=announcement, timeout=HTTP_TIMEOUT)
        assert response.status_code == 403, response.text
        # A task call is refused the way gRPC callers read: status 7, PERMISSION_DENIED.
        response = elsewhere.post(url + "/worker.WorkerService/DoGet", data=b"", timeout=HTTP_TIMEOUT,
                                  headers={"Content-Type": "application/grpc"})
        assert response.headers.get("grpc-status") == "7", (response.status_code, response.headers)
        assert "internal-communication.shared-secret" in response.headers.get("grpc-message", "")
        assert elsewhere.get(url + "/v1/info/state", timeout=HTTP_TIMEOUT).json() == "ACTIVE"
        # This host may (a local administrator, the node itself).
        here = session_from(THIS_HOST)
        response = here.put(url + "/v1/info/state", data='"ACTIVE"', timeout=HTTP_TIMEOUT,
                            headers={"Content-Type": "application/json"})
        assert response.status_code == 200, response.text
        select_one(server.http_port)
    # Behind a trusted proxy every client looks local, so nobody may.
    with VivaceProcess(tmp_path / "proxied", {"http-server.process-forwarded": "true"}, https=False) as server:
        response = session_from(THIS_HOST).put(server.http_url + "/v1/info/state", data='"ACTIVE"',
                                               timeout=HTTP_TIMEOUT)
        assert response.status_code == 403, response.text


def test_a_worker_without_a_secret_does_not_start(tmp_path: Path) -> None:
    stderr = failed_startup(tmp_path, {"coordinator": "false", "discovery.uri": "http://127.0.0.1:9"})
    assert "internal-communication.shared-secret is required for a cluster" in stderr


# ---------------------------------------------------------------------------------------------
# Another user's query: neither its owner nor its existence is told
# ---------------------------------------------------------------------------------------------


def test_another_users_query_is_not_found(server_url: str) -> None:
    http = requests.Session()
    posted = http.post(server_url + "/v1/statement", data=b"SELECT 1", timeout=HTTP_TIMEOUT,
                       headers={"X-Trino-User": "owner-alice"}).json()
    query_id = posted["id"]
    for method in (http.get, http.delete):
        response = method(f"{server_url}/v1/query/{query_id}", headers={"X-Trino-User": "mallory"},
                          timeout=HTTP_TIMEOUT)
        assert response.status_code == 404, response.text
        assert "owner-alice" not in response.text
        unknown = method(f"{server_url}/v1/query/20200101_000000_00000_zzzzz",
                         headers={"X-Trino-User": "mallory"}, timeout=HTTP_TIMEOUT)
        assert (unknown.status_code, unknown.text) == (response.status_code, response.text)
    mine = http.get(f"{server_url}/v1/query/{query_id}", headers={"X-Trino-User": "owner-alice"},
                    timeout=HTTP_TIMEOUT)
    assert mine.status_code == 200 and mine.json()["queryId"] == query_id
