"""HTTPS, authentication (password file, webhook, LDAP, JWT) and their rejections, with the
real ``trino`` client. Each scenario starts its own ``vivace server`` with its own ``etc/``."""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import socket
import ssl
import subprocess
import time
from pathlib import Path
from typing import Optional

import pytest
import requests
import trino
from trino.auth import BasicAuthentication, JWTAuthentication

from secured_server import VivaceProcess, failed_startup, run_vivace, vivace_bin
from security_support import (
    HttpsJsonServer,
    LDAP_BASE_DN,
    LDAP_PEOPLE_DN,
    LDAP_SERVICE_DN,
    LDAP_SERVICE_PASSWORD,
    SlapdServer,
    alg_confusion_token,
    ensure_slapd_installed,
    generate_ec_keypair,
    generate_hmac_secret,
    generate_rsa_keypair,
    jwk_from_public_pem,
    jwks,
    make_token,
    tamper_token,
    unsigned_token,
)

SHARED_SECRET = "shared-secret-for-tests-" + "x" * 24
ISSUER = "https://issuer.vivace.test"
AUDIENCE = "vivace"
PASSWORDS = {"alice": "alice-file-pw", "frank": "frank-hashed-pw", "grace": "grace-pbkdf2-pw"}
WEBHOOK_USERS = {"dave": ("dave-webhook-pw", ["tenant-a", "analysts"])}


def now() -> int:
    return int(time.time())


def claims(sub: str = "jwtuser", **extra):
    base = {"sub": sub, "iss": ISSUER, "aud": AUDIENCE, "exp": now() + 300}
    base.update(extra)
    return base


pytestmark = pytest.mark.usefixtures("trust_only_generated_ca")


# ---------------------------------------------------------------------------------------------
# Shared material: certificates from `vivace gen-cert`, password lines from `hash-password`
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("pki")
    result = run_vivace("gen-cert", "--host", "localhost", "--host", "127.0.0.1", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert (out / "ca.pem").exists() and (out / "vivace.pem").exists()
    assert oct((out / "vivace.pem").stat().st_mode & 0o777) == "0o600"
    return out


def hash_line(user: str, password: str) -> str:
    result = run_vivace("hash-password", "--user", user, "--cost", "8", input_text=password + "\n")
    assert result.returncode == 0, result.stderr
    line = result.stdout.strip()
    assert line.startswith(f"{user}:$2y$08$"), line
    return line


def pbkdf2_line(user: str, password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha1", password.encode(), salt, 1000, 32)
    return f"{user}:1000:{salt.hex()}:{digest.hex()}"


@pytest.fixture(scope="module")
def jwt_keys(tmp_path_factory):
    """Keys for the ${KID} pattern: one RSA, one EC and one HMAC key file."""
    directory = tmp_path_factory.mktemp("jwt-keys")
    rsa, ec, hmac_secret = generate_rsa_keypair(), generate_ec_keypair(), generate_hmac_secret(32)
    (directory / "rsa-1.pem").write_text(rsa.public_pem)
    (directory / "ec-1.pem").write_text(ec.public_pem)
    (directory / "hmac-1.pem").write_text(base64.b64encode(hmac_secret.encode()).decode())
    return {"dir": directory, "rsa": rsa, "ec": ec, "hmac": hmac_secret}


@pytest.fixture(scope="module")
def webhook(pki):
    """The custom password checker: accepts the users in WEBHOOK_USERS."""
    with HttpsJsonServer(pki / "vivace.pem") as web:
        def check(path, body):
            user, password = (body or {}).get("user"), (body or {}).get("password")
            if user in WEBHOOK_USERS and WEBHOOK_USERS[user][0] == password:
                return 200, {"principal": user, "groups": WEBHOOK_USERS[user][1]}
            return 401, {"message": "webhook says no"}
        web.post_handler = check
        yield web


@pytest.fixture(scope="module")
def secured(tmp_path_factory, pki, jwt_keys, webhook):
    """HTTPS + HTTP, PASSWORD (file, then webhook) and JWT (${KID} key files)."""
    directory = tmp_path_factory.mktemp("secured")
    password_file = "\n".join([
        f"alice:{hash_line('alice', PASSWORDS['alice']).split(':', 1)[1]}",
        hash_line("frank", PASSWORDS["frank"]),
        pbkdf2_line("grace", PASSWORDS["grace"]),
    ]) + "\n"
    files = {
        "password.db": password_file,
        "file-authenticator.properties": (
            "password-authenticator.name=file\n"
            f"file.password-file={directory}/etc/password.db\n"
            "file.refresh-period=1s\n"
        ),
        "webhook-authenticator.properties": (
            "password-authenticator.name=http\n"
            f"http.url={webhook.url('/check')}\n"
            f"http.trust-store-path={pki}/ca.pem\n"
            "http.timeout=3s\n"
            "http.cache-ttl=0s\n"
        ),
    }
    config = {
        "http-server.https.keystore.path": str(pki / "vivace.pem"),
        "http-server.https.ssl-context.refresh-time": "1s",
        "http-server.process-forwarded": "true",
        "http-server.authentication.type": "PASSWORD,JWT",
        "password-authenticator.config-files": (
            f"{directory}/etc/file-authenticator.properties,{directory}/etc/webhook-authenticator.properties"
        ),
        "http-server.authentication.jwt.key-file": f"{jwt_keys['dir']}/${{KID}}.pem",
        "http-server.authentication.jwt.required-issuer": ISSUER,
        "http-server.authentication.jwt.required-audience": AUDIENCE,
        "http-server.authentication.jwt.groups-field": "groups",
        "http-server.authentication.jwt.user-mapping.pattern": r"(.*?)(@vivace\.test)?",
        "http-server.authentication.failure-limit": "0",
        "internal-communication.shared-secret": SHARED_SECRET,
    }
    with VivaceProcess(directory, config, files) as server:
        yield server


def connect(server: VivaceProcess, pki: Path, auth, user=None, **kwargs):
    return trino.dbapi.connect(
        host="127.0.0.1", port=server.https_port, http_scheme="https", auth=auth, user=user,
        verify=str(pki / "ca.pem"), catalog="tpch", schema="tiny", **kwargs,
    )


def whoami(connection):
    """The session user, groups and authentication method the server recorded for a query."""
    cursor = connection.cursor()
    cursor.execute(
        "SELECT \"user\", groups, authentication_method FROM system.runtime.queries "
        "WHERE query LIKE 'SELECT \"user\", groups%' ORDER BY created DESC LIMIT 1"
    )
    return cursor.fetchall()[0]


def post(server: VivaceProcess, pki: Path, headers=None, https=True, sql="SELECT 1"):
    url = (server.https_url if https else server.http_url) + "/v1/statement"
    return requests.post(url, data=sql, headers=headers or {}, verify=str(pki / "ca.pem"), timeout=30)


def basic(user: str, password: str) -> dict:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def assert_unauthorized(response: requests.Response, fragment: str) -> None:
    assert response.status_code == 401, (response.status_code, response.text)
    assert fragment in response.text, response.text
    challenges = response.headers.get("WWW-Authenticate", "")
    assert 'Basic realm="Trino"' in challenges and 'Bearer realm="Trino", token_type="JWT"' in challenges


# ---------------------------------------------------------------------------------------------
# HTTPS and PASSWORD
# ---------------------------------------------------------------------------------------------


def test_basic_auth_with_password_file_over_https(secured, pki):
    with connect(secured, pki, BasicAuthentication("alice", PASSWORDS["alice"]), user="alice") as conn:
        cursor = conn.cursor()
        cursor.execute("SELECT count(*) FROM nation")
        assert cursor.fetchall() == [[25]]
        assert whoami(conn) == ["alice", [], "PASSWORD"]


def test_hash_password_and_pbkdf2_lines_authenticate(secured, pki):
    for user in ("frank", "grace"):
        with connect(secured, pki, BasicAuthentication(user, PASSWORDS[user]), user=user) as conn:
            cursor = conn.cursor()
            cursor.execute("SELECT 1")
            assert cursor.fetchall() == [[1]]


def test_webhook_authenticator_supplies_principal_and_groups(secured, pki, webhook):
    password, groups = WEBHOOK_USERS["dave"]
    with connect(secured, pki, BasicAuthentication("dave", password), user="dave") as conn:
        assert whoami(conn) == ["dave", groups, "PASSWORD"]
    assert any(r.json == {"user": "dave", "password": password} for r in webhook.requests_to("/check"))


def test_wrong_password_and_unknown_user_are_refused(secured, pki):
    response = post(secured, pki, basic("alice", "wrong"))
    # Both chained password authenticators refused; their messages are joined.
    assert_unauthorized(response, "Access Denied: Invalid credentials | Access Denied: webhook says no")
    assert_unauthorized(post(secured, pki, basic("nobody", "whatever")), "Invalid credentials")
    assert_unauthorized(post(secured, pki, basic("alice", "")), "password is empty")
    assert_unauthorized(post(secured, pki), "Unauthorized")
    with pytest.raises(trino.exceptions.HttpError, match="401"):
        with connect(secured, pki, BasicAuthentication("alice", "wrong"), user="alice") as conn:
            conn.cursor().execute("SELECT 1")


def test_plain_http_with_credentials_is_refused(secured, pki):
    response = post(secured, pki, basic("alice", PASSWORDS["alice"]), https=False)
    assert response.status_code == 403, response.text
    assert "Authentication over HTTP is not enabled" in response.text
    assert "http-server.process-forwarded" in response.text


CLI_WHOAMI = (
    "SELECT \"user\", authentication_method FROM system.runtime.queries "
    "WHERE query LIKE 'SELECT \"user\", authentication_method%' ORDER BY created DESC LIMIT 1"
)


def vivace_cli(*args: str, password: Optional[str] = None) -> subprocess.CompletedProcess:
    """Runs ``vivace cli ARGS`` in batch mode, with ``password`` as TRINO_PASSWORD."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRINO_")}
    if password is not None:
        env["TRINO_PASSWORD"] = password
    return subprocess.run([vivace_bin(), "cli", *args], env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=60)


def test_cli_over_https_with_password_and_access_token(secured, pki, jwt_keys):
    trust = ["--server", secured.https_url, "--truststore-path", str(pki / "ca.pem")]
    result = vivace_cli(*trust, "--user", "alice", "--password", "-e", CLI_WHOAMI,
                        password=PASSWORDS["alice"])
    assert (result.returncode, result.stdout, result.stderr) == (0, '"alice","PASSWORD"\n', "")

    token = make_token(jwt_keys["rsa"], "RS256", kid="rsa-1", **claims("erin@vivace.test"))
    result = vivace_cli(*trust, "--access-token", token, "-e", CLI_WHOAMI)
    assert (result.returncode, result.stdout, result.stderr) == (0, '"erin","JWT"\n', "")

    # --insecure skips verification; without it, an unknown CA is refused.
    result = vivace_cli("--server", secured.https_url, "--insecure", "--user", "alice", "--password",
                        "-e", "SELECT 1", password=PASSWORDS["alice"])
    assert (result.returncode, result.stdout) == (0, '"1"\n'), result.stderr
    result = vivace_cli("--server", secured.https_url, "--user", "alice", "-e", "SELECT 1")
    assert result.returncode == 1 and len(result.stderr.splitlines()) == 1, result.stderr
    assert "certificate" in result.stderr.lower(), result.stderr

    result = vivace_cli(*trust, "--user", "alice", "--password", "-e", "SELECT 1", password="wrong")
    assert result.returncode == 1 and len(result.stderr.splitlines()) == 1, result.stderr
    assert "401" in result.stderr and "Invalid credentials" in result.stderr, result.stderr

    # Credentials never go over plain HTTP.
    result = vivace_cli("--server", secured.http_url, "--user", "alice", "--password", "-e", "SELECT 1",
                        password=PASSWORDS["alice"])
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1, result.stderr
    assert "https" in result.stderr, result.stderr


def test_forwarded_https_is_trusted_and_shapes_next_uri(secured, pki):
    headers = {**basic("alice", PASSWORDS["alice"]), "X-Forwarded-Proto": "https",
               "X-Forwarded-Host": "lb.example.com", "X-Forwarded-Port": "443"}
    response = post(secured, pki, headers, https=False)
    assert response.status_code == 200, response.text
    assert response.json()["nextUri"].startswith("https://lb.example.com:443/v1/statement/")


def test_next_uri_over_https_uses_https(secured, pki):
    response = post(secured, pki, basic("alice", PASSWORDS["alice"]))
    assert response.status_code == 200, response.text
    assert response.json()["nextUri"].startswith(f"https://127.0.0.1:{secured.https_port}/")


def test_impersonation_is_refused(secured, pki):
    headers = {**basic("alice", PASSWORDS["alice"]), "X-Trino-User": "bob"}
    response = post(secured, pki, headers)
    assert response.status_code == 403, response.text
    assert "cannot impersonate user bob" in response.text


def test_public_endpoints_stay_open_and_query_list_is_per_user(secured, pki):
    assert requests.get(secured.http_url + "/v1/info", timeout=10).status_code == 200
    assert requests.get(secured.https_url + "/v1/info", verify=str(pki / "ca.pem"), timeout=10).status_code == 200
    assert requests.get(secured.https_url + "/v1/query", verify=str(pki / "ca.pem"), timeout=10).status_code == 401
    with connect(secured, pki, BasicAuthentication("frank", PASSWORDS["frank"]), user="frank") as conn:
        conn.cursor().execute("SELECT 42").fetchall()
    listing = requests.get(secured.https_url + "/v1/query", headers=basic("frank", PASSWORDS["frank"]),
                           verify=str(pki / "ca.pem"), timeout=10).json()
    assert listing and {q["session"]["user"] for q in listing} == {"frank"}
    assert {q["session"]["authenticationMethod"] for q in listing} == {"PASSWORD"}


def test_tls_versions(secured):
    def handshake(minimum, maximum):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        context.minimum_version, context.maximum_version = minimum, maximum
        with socket.create_connection(("127.0.0.1", secured.https_port), timeout=10) as raw:
            with context.wrap_socket(raw) as tls:
                return tls.version()

    assert handshake(ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_2) == "TLSv1.2"
    assert handshake(ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_3) == "TLSv1.3"
    with pytest.raises(ssl.SSLError):
        handshake(ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1)


# ---------------------------------------------------------------------------------------------
# JWT with ${KID} key files
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind,alg", [("rsa", "RS256"), ("ec", "ES256"), ("hmac", "HS256")])
def test_jwt_algorithms(secured, pki, jwt_keys, kind, alg):
    token = make_token(jwt_keys[kind], alg, kid=f"{kind}-1", **claims("erin@vivace.test", groups=["g1", "g2"]))
    with connect(secured, pki, JWTAuthentication(token)) as conn:
        assert whoami(conn) == ["erin", ["g1", "g2"], "JWT"]


def test_jwt_kid_rotation_needs_no_restart(secured, pki, jwt_keys):
    rotated = generate_rsa_keypair()
    (jwt_keys["dir"] / "rsa-2.pem").write_text(rotated.public_pem)
    token = make_token(rotated, "RS256", kid="rsa-2", **claims())
    with connect(secured, pki, JWTAuthentication(token)) as conn:
        assert conn.cursor().execute("SELECT 7").fetchall() == [[7]]


def test_jwt_rejections(secured, pki, jwt_keys):
    rsa = jwt_keys["rsa"]
    good = make_token(rsa, "RS256", kid="rsa-1", **claims())
    assert post(secured, pki, bearer(good)).status_code == 200
    cases = {
        "JWT expired": make_token(rsa, "RS256", kid="rsa-1", **claims(exp=now() - 60)),
        "not valid yet": make_token(rsa, "RS256", kid="rsa-1", **claims(nbf=now() + 600)),
        "audience": make_token(rsa, "RS256", kid="rsa-1", **claims(aud="someone-else")),
        "issuer": make_token(rsa, "RS256", kid="rsa-1", **claims(iss="https://evil.test")),
        "signature does not match": tamper_token(good, sub="admin"),
        "alg none": unsigned_token(kid="rsa-1", **claims()),
        "signing key is an RSA key": alg_confusion_token(rsa, kid="rsa-1", **claims()),
        "Unknown signing key ID missing-key": make_token(rsa, "RS256", kid="missing-key", **claims()),
        "Unknown signing key ID ___escape": make_token(rsa, "RS256", kid="../escape", **claims()),
        "Malformed JWT": "not-a-jwt",
    }
    for fragment, token in cases.items():
        assert_unauthorized(post(secured, pki, bearer(token)), fragment)


# ---------------------------------------------------------------------------------------------
# Certificates: reload without restart, PKCS#12, throttling
# ---------------------------------------------------------------------------------------------


def served_certificate(port: int) -> bytes:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with context.wrap_socket(raw) as tls:
            return tls.getpeercert(binary_form=True)


def test_certificate_is_reloaded_when_the_keystore_changes(tmp_path, pki):
    keystore = tmp_path / "keystore.pem"
    shutil.copy(pki / "vivace.pem", keystore)
    config = {"http-server.https.keystore.path": str(keystore),
              "http-server.https.ssl-context.refresh-time": "200ms"}
    with VivaceProcess(tmp_path, config) as server:
        before = served_certificate(server.https_port)
        fresh = tmp_path / "fresh"
        assert run_vivace("gen-cert", "--out", str(fresh)).returncode == 0
        shutil.copy(fresh / "vivace.pem", keystore)
        deadline = time.monotonic() + 10
        while served_certificate(server.https_port) == before:
            assert time.monotonic() < deadline, "certificate not reloaded"
            time.sleep(0.2)
        response = requests.get(server.https_url + "/v1/info", verify=str(fresh / "ca.pem"), timeout=10)
        assert response.status_code == 200
        # A broken file is reported and the current certificate kept.
        keystore.write_text("garbage")
        time.sleep(1)
        assert requests.get(server.https_url + "/v1/info", verify=str(fresh / "ca.pem"), timeout=10).ok
        assert "keeping the current TLS certificate" in server.log()


def test_pkcs12_keystore_and_failure_throttling(tmp_path, pki):
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    pem = (pki / "vivace.pem").read_bytes()
    key = serialization.load_pem_private_key(pem, password=None)
    certs = x509.load_pem_x509_certificates(pem)
    p12 = pkcs12.serialize_key_and_certificates(
        b"vivace", key, certs[0], certs[1:], serialization.BestAvailableEncryption(b"store-pass"))
    (tmp_path / "keystore.p12").write_bytes(p12)
    files = {
        "password.db": hash_line("alice", "right-pw") + "\n",
        "password-authenticator.properties": (
            f"password-authenticator.name=file\nfile.password-file={tmp_path}/etc/password.db\n"),
    }
    config = {
        "http-server.https.keystore.path": str(tmp_path / "keystore.p12"),
        "http-server.https.keystore.key": "store-pass",
        "http-server.authentication.type": "PASSWORD",
        "http-server.authentication.failure-limit": "3",
        "http-server.authentication.failure-window": "1m",
        "internal-communication.shared-secret": SHARED_SECRET,
    }
    with VivaceProcess(tmp_path, config, files) as server:
        assert post(server, pki, basic("alice", "right-pw")).status_code == 200
        for _ in range(3):
            assert post(server, pki, basic("alice", "guess")).status_code == 401
        throttled = post(server, pki, basic("alice", "right-pw"))
        assert throttled.status_code == 429, throttled.text
        assert int(throttled.headers["Retry-After"]) > 0
        assert "Too many failed authentication attempts" in throttled.text
        # No secret reaches the log.
        log = server.log()
        assert "authentication failed" in log
        for secret in ("right-pw", "guess", "store-pass", SHARED_SECRET):
            assert secret not in log


def test_webhook_down_gives_a_clear_error(tmp_path, pki):
    with HttpsJsonServer(pki / "vivace.pem") as web:
        url = web.url("/check")
    # The server above is stopped: nothing listens at `url` any more.
    files = {"password-authenticator.properties": (
        f"password-authenticator.name=http\nhttp.url={url}\nhttp.trust-store-path={pki}/ca.pem\nhttp.timeout=2s\n")}
    config = {
        "http-server.https.keystore.path": str(pki / "vivace.pem"),
        "http-server.authentication.type": "PASSWORD",
        "internal-communication.shared-secret": SHARED_SECRET,
    }
    with VivaceProcess(tmp_path, config, files) as server:
        response = post(server, pki, basic("dave", "pw"))
        assert response.status_code == 401
        assert "Password authentication service is unavailable" in response.text
        assert requests.get(server.http_url + "/v1/info", timeout=10).ok


# ---------------------------------------------------------------------------------------------
# JWKS
# ---------------------------------------------------------------------------------------------


def test_jwks_rotation_is_seen_within_one_request(tmp_path, pki):
    first, second = generate_rsa_keypair(), generate_ec_keypair()
    with HttpsJsonServer(pki / "vivace.pem") as idp:
        idp.routes["/jwks.json"] = (200, jwks(jwk_from_public_pem(first, "k1", "RS256")))
        config = {
            "http-server.https.keystore.path": str(pki / "vivace.pem"),
            "http-server.authentication.type": "JWT",
            "http-server.authentication.jwt.key-file": idp.url("/jwks.json"),
            "http-server.authentication.jwt.http-client.trust-store-path": str(pki / "ca.pem"),
            "http-server.authentication.jwt.required-audience": AUDIENCE,
            "http-server.authentication.failure-limit": "0",
            "internal-communication.shared-secret": SHARED_SECRET,
        }
        with VivaceProcess(tmp_path, config) as server:
            token = make_token(first, "RS256", kid="k1", **claims("alice"))
            with connect(server, pki, JWTAuthentication(token)) as conn:
                assert conn.cursor().execute("SELECT 1").fetchall() == [[1]]
            # The IdP rotates to a new key; the first request signed with it is accepted.
            idp.routes["/jwks.json"] = (200, jwks(jwk_from_public_pem(second, "k2", "ES256")))
            rotated = make_token(second, "ES256", kid="k2", **claims("alice"))
            assert post(server, pki, bearer(rotated)).status_code == 200
            # Unknown key ids re-fetch at most once per interval.
            fetches = len(idp.requests_to("/jwks.json"))
            for _ in range(3):
                unknown = make_token(second, "ES256", kid="k3", **claims("alice"))
                response = post(server, pki, bearer(unknown))
                assert response.status_code == 401 and "Unknown signing key ID k3" in response.text
            assert len(idp.requests_to("/jwks.json")) - fetches <= 1


# ---------------------------------------------------------------------------------------------
# LDAP against a real slapd
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def slapd(pki):
    ensure_slapd_installed()
    with SlapdServer(cert_file=pki / "vivace.pem", ca_file=pki / "ca.pem") as server:
        yield server


@pytest.mark.parametrize("mode", ["bind-pattern", "service-account"])
def test_ldap_authentication(tmp_path, pki, slapd, mode):
    group_filter = (f"(&(objectClass=inetOrgPerson)(uid=${{USER}})"
                    f"(memberOf=cn=analysts,ou=groups,{LDAP_BASE_DN}))")
    ldap = [
        "password-authenticator.name=ldap",
        f"ldap.url={slapd.ldaps_url}",
        f"ldap.ssl.truststore.path={pki}/ca.pem",
        f"ldap.user-base-dn={LDAP_PEOPLE_DN}",
        f"ldap.group-auth-pattern={group_filter}",
        "ldap.cache-ttl=0s",
    ]
    if mode == "bind-pattern":
        ldap.append(f"ldap.user-bind-pattern=uid=${{USER}},ou=nowhere,{LDAP_BASE_DN}:uid=${{USER}},{LDAP_PEOPLE_DN}")
    else:
        ldap += [f"ldap.bind-dn={LDAP_SERVICE_DN}", f"ldap.bind-password={LDAP_SERVICE_PASSWORD}"]
    config = {
        "http-server.https.keystore.path": str(pki / "vivace.pem"),
        "http-server.authentication.type": "PASSWORD",
        "http-server.authentication.failure-limit": "0",
        "internal-communication.shared-secret": SHARED_SECRET,
    }
    files = {"password-authenticator.properties": "\n".join(ldap) + "\n"}
    with VivaceProcess(tmp_path, config, files) as server:
        with connect(server, pki, BasicAuthentication("alice", "alicepw"), user="alice") as conn:
            assert whoami(conn) == ["alice", [], "PASSWORD"]
        assert post(server, pki, basic("bob", "bobpw")).status_code == 200
        assert_password_refused(post(server, pki, basic("alice", "wrong")), "Invalid credentials")
        # Not in the authorized group: after a bind the reason is given; a service-account
        # search that finds nothing says no more than "Invalid credentials".
        reason = "not a member of an authorized group" if mode == "bind-pattern" else "Invalid credentials"
        assert_password_refused(post(server, pki, basic("carol", "carolpw")), reason)
        assert_password_refused(post(server, pki, basic("nobody", "x")), "")
        assert_password_refused(post(server, pki, basic("al*ice", "x")), "special LDAP character")
        assert "alicepw" not in server.log() and LDAP_SERVICE_PASSWORD not in server.log()


def assert_password_refused(response: requests.Response, fragment: str) -> None:
    assert response.status_code == 401, (response.status_code, response.text)
    assert fragment in response.text
    assert response.headers["WWW-Authenticate"] == 'Basic realm="Trino"'


def test_plain_ldap_url_needs_allow_insecure(tmp_path, slapd):
    files = {"password-authenticator.properties": (
        f"password-authenticator.name=ldap\nldap.url={slapd.ldap_url}\n"
        f"ldap.user-bind-pattern=uid=${{USER}},{LDAP_PEOPLE_DN}\n")}
    config = {"http-server.authentication.type": "PASSWORD",
              "http-server.authentication.allow-insecure-over-http": "true",
              "internal-communication.shared-secret": SHARED_SECRET}
    stderr = failed_startup(tmp_path, config, files)
    assert "ldap.allow-insecure=true" in stderr


# ---------------------------------------------------------------------------------------------
# Startup checks
# ---------------------------------------------------------------------------------------------


def test_configuration_errors_are_reported_at_startup(tmp_path, pki):
    stderr = failed_startup(tmp_path / "a", {"http-server.authentication.type": "PASSWORD"},
                            {"password-authenticator.properties": "password-authenticator.name=file\nfile.password-file=/nonexistent\n"})
    assert "Shared secret (internal-communication.shared-secret) is required" in stderr
    stderr = failed_startup(tmp_path / "b", {"http-server.authentication.type": "PASSWORD",
                                             "internal-communication.shared-secret": "s"})
    assert "password-authenticator.properties" in stderr
    stderr = failed_startup(tmp_path / "c", {"http-server.authentication.type": "KERBEROS",
                                             "internal-communication.shared-secret": "s"})
    assert "KERBEROS is not supported" in stderr
    stderr = failed_startup(tmp_path / "d", {"http-server.https.keystore.path": str(tmp_path / "missing.pem")})
    assert "missing.pem" in stderr
    (tmp_path / "weak.db").write_text("alice:$2y$04$abcdefghijklmnopqrstuu5Uhk8WkzVSPu3kcGBmGhN8RNK0x5f6m\n")
    stderr = failed_startup(tmp_path / "e", {"http-server.authentication.type": "PASSWORD",
                                             "internal-communication.shared-secret": "s"},
                            {"password-authenticator.properties": f"password-authenticator.name=file\nfile.password-file={tmp_path}/weak.db\n"})
    assert "Minimum cost of BCrypt password must be 8" in stderr


def test_no_secret_reaches_the_secured_servers_log(secured, pki, jwt_keys):
    # Runs after the other tests of the module have sent passwords and tokens to `secured`.
    token = make_token(jwt_keys["rsa"], "RS256", kid="rsa-1", **claims(exp=now() - 60))
    assert post(secured, pki, bearer(token)).status_code == 401
    log = secured.log()
    assert "authentication failed" in log
    secrets = [*PASSWORDS.values(), WEBHOOK_USERS["dave"][0], SHARED_SECRET, token, token.split(".")[2]]
    for secret in secrets:
        assert secret not in log, f"a secret appears in the server log: {secret[:6]}..."
