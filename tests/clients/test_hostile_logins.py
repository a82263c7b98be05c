"""Hostile logins: the failure throttle slows password guessing without locking other users out.

Every request here comes from 127.0.0.1, as a whole office behind one NAT would. Each scenario
starts its own HTTPS ``vivace server`` (PASSWORD, and JWT for the spray), so the throttle's
state never carries over between tests. Bounded: at most a few dozen requests per test, each
with a timeout.
"""

from __future__ import annotations

import base64
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict, List

import pytest
import requests
import trino
from trino.auth import BasicAuthentication

from secured_server import VivaceProcess, password_line
from security_support import generate_hmac_secret, make_token

SHARED_SECRET = "shared-secret-for-hostile-logins-" + "x" * 16
PASSWORDS = {"alice": "alice-pw", "bob": "bob-pw", "carol": "carol-pw"}
TIMEOUT = 30


pytestmark = pytest.mark.usefixtures("trust_only_generated_ca")


@pytest.fixture(scope="module")
def password_db() -> str:
    return "".join(password_line(user, password) + "\n" for user, password in PASSWORDS.items())


def start_server(directory: Path, pki: Path, password_db: str, config: Dict[str, str],
                 jwt_secret: str = "") -> VivaceProcess:
    files = {
        "password.db": password_db,
        "password-authenticator.properties": (
            f"password-authenticator.name=file\nfile.password-file={directory}/etc/password.db\n"),
    }
    settings = {
        "http-server.https.keystore.path": str(pki / "vivace.pem"),
        "http-server.authentication.type": "PASSWORD",
        "internal-communication.shared-secret": SHARED_SECRET,
    }
    if jwt_secret:
        files["jwt.key"] = base64.b64encode(jwt_secret.encode()).decode()
        settings["http-server.authentication.type"] = "PASSWORD,JWT"
        settings["http-server.authentication.jwt.key-file"] = f"{directory}/etc/jwt.key"
    settings.update(config)
    return VivaceProcess(directory, settings, files).start()


def basic(user: str, password: str) -> dict:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def post(server: VivaceProcess, pki: Path, headers: dict) -> requests.Response:
    return requests.post(server.https_url + "/v1/statement", data="SELECT 1", headers=headers,
                         verify=str(pki / "ca.pem"), timeout=TIMEOUT)


def run_query(server: VivaceProcess, pki: Path, user: str) -> List[List[object]]:
    """Runs a query with the real client, which sends the password with every request."""
    with trino.dbapi.connect(host="127.0.0.1", port=server.https_port, http_scheme="https",
                             auth=BasicAuthentication(user, PASSWORDS[user]), user=user,
                             verify=str(pki / "ca.pem"), catalog="tpch", schema="tiny",
                             request_timeout=TIMEOUT, max_attempts=1) as conn:
        cursor = conn.cursor()
        cursor.execute("SELECT count(*) FROM nation")
        return cursor.fetchall()


def assert_throttled(response: requests.Response) -> None:
    assert response.status_code == 429, (response.status_code, response.text)
    assert "Too many failed authentication attempts" in response.text
    retry_after = int(response.headers["Retry-After"])
    assert 0 < retry_after <= 60, retry_after


def assert_no_secrets_logged(server: VivaceProcess, *secrets: str) -> None:
    log = server.log()
    for secret in (*secrets, SHARED_SECRET):
        assert secret not in log, f"{secret!r} is in the server log"


def test_wrong_passwords_for_one_user_do_not_lock_out_another(tmp_path, pki, password_db):
    server = start_server(tmp_path, pki, password_db, {})  # the defaults: 10 per user, 1m
    try:
        for attempt in range(10):
            response = post(server, pki, basic("alice", f"guess-{attempt}"))
            assert response.status_code == 401, (attempt, response.status_code, response.text)
        # alice is locked out from this address, even with her right password ...
        assert_throttled(post(server, pki, basic("alice", PASSWORDS["alice"])))
        # ... but bob, behind the same address, is not: neither a first request nor a whole
        # query whose every request carries the password.
        assert post(server, pki, basic("bob", PASSWORDS["bob"])).status_code == 200
        assert run_query(server, pki, "bob") == [[25]]
        assert "authentication failures for one user from this client reached the limit" in server.log()
        assert_no_secrets_logged(server, *PASSWORDS.values(), "guess-0")
    finally:
        server.stop()


def test_twenty_simultaneous_correct_logins_all_succeed(tmp_path, pki, password_db):
    server = start_server(tmp_path, pki, password_db, {})  # the defaults: 10 per user, 1m
    try:
        with ThreadPoolExecutor(max_workers=20) as pool:
            first = list(pool.map(lambda _: post(server, pki, basic("carol", PASSWORDS["carol"])),
                                  range(20)))
            assert [r.status_code for r in first] == [200] * 20, [r.text for r in first if r.status_code != 200]
            # Whole queries too: every page fetch of each is another authenticated request.
            results = list(pool.map(lambda _: run_query(server, pki, "carol"), range(20)))
        assert results == [[[25]]] * 20
    finally:
        server.stop()


def test_a_spray_across_user_names_is_braked_but_known_users_get_in(tmp_path, pki, password_db):
    secret = generate_hmac_secret(32)
    config = {
        "http-server.authentication.failure-limit": "3",
        "http-server.authentication.failure-limit-per-address": "15",
        "http-server.authentication.failure-window": "1m",
    }
    server = start_server(tmp_path, pki, password_db, config, jwt_secret=secret)
    try:
        # bob works from this address.
        assert run_query(server, pki, "bob") == [[25]]
        # A spray: one guess for each of many user names, all from the same address.
        statuses = []
        throttled = None
        for i in range(25):
            response = post(server, pki, basic(f"user{i:02d}", "Winter2024!"))
            statuses.append(response.status_code)
            if response.status_code == 429:
                throttled = throttled or response
        assert statuses == [401] * 15 + [429] * 10, statuses
        assert_throttled(throttled)
        # bob still gets in with his password ...
        assert post(server, pki, basic("bob", PASSWORDS["bob"])).status_code == 200
        assert run_query(server, pki, "bob") == [[25]]
        # ... and so does a valid bearer token: a signature cannot be guessed, so tokens are
        # always checked.
        token = make_token(secret, "HS256", sub="dave", exp=int(time.time()) + 300)
        assert post(server, pki, {"Authorization": f"Bearer {token}"}).status_code == 200
        # The price of the brake: a user who never logged in from this address waits for the
        # window to end, even with the right password.
        assert_throttled(post(server, pki, basic("carol", PASSWORDS["carol"])))
        # bob's own guesses are still limited per user.
        for _ in range(3):
            assert post(server, pki, basic("bob", "wrong")).status_code == 401
        assert_throttled(post(server, pki, basic("bob", PASSWORDS["bob"])))
        assert "reached the per-address limit" in server.log()
        assert_no_secrets_logged(server, *PASSWORDS.values(), "Winter2024!", secret, token)
    finally:
        server.stop()
