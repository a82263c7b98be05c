"""The secured compose cluster (deploy/compose/docker-compose.secure.yml): HTTPS with a
generated certificate, PASSWORD and JWT authentication from the host, an internal shared
secret that keeps a stranger out, and no client port on the workers.
"""

from __future__ import annotations

import os
import subprocess
import time
from typing import Iterator

import jwt
import pytest
import requests
import trino

from compose_support import COMPOSE_DIR, Client, Cluster, docker, free_port, wait_until

IMAGE = os.environ.get("VIVACE_IMAGE", "vivace:test")
PASSWORD = "compose-admin-secret"
SECRETS = COMPOSE_DIR / "secure" / "generated"


@pytest.fixture(scope="module", autouse=True)
def own_trust_store() -> Iterator[None]:
    """requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override a session's ``verify`` (how
    the trino client passes ``verify=``); these tests trust only the generated CA."""
    with pytest.MonkeyPatch.context() as patch:
        for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
            patch.delenv(name, raising=False)
        yield


@pytest.fixture(scope="module")
def cluster(request: pytest.FixtureRequest) -> Iterator[Cluster]:
    subprocess.run(
        ["bash", str(COMPOSE_DIR / "secure" / "setup.sh")], check=True, capture_output=True,
        env={**os.environ, "VIVACE_IMAGE": IMAGE, "VIVACE_ADMIN_PASSWORD": PASSWORD},
    )
    port = free_port()
    cluster = Cluster("docker-compose.secure.yml", "vivacesecure", port,
                      {"VIVACE_IMAGE": IMAGE, "VIVACE_HTTPS_PORT": str(port)})
    with cluster.running(request, workers=2):
        yield cluster


def basic(port: int, password: str = PASSWORD) -> Client:
    return Client(port, http_scheme="https", verify=str(SECRETS / "tls" / "ca.pem"),
                  user="admin", auth=trino.auth.BasicAuthentication("admin", password))


def token(subject: str, issuer: str = "vivace-compose") -> str:
    key = (SECRETS / "jwt" / "jwt-private.pem").read_text()
    now = int(time.time())
    return jwt.encode({"sub": subject, "iss": issuer, "iat": now, "exp": now + 300}, key, algorithm="RS256")


@pytest.fixture(scope="module")
def client(cluster: Cluster) -> Client:
    client = basic(cluster.port)
    client.wait_workers([cluster.hostname(c) for c in cluster.containers("worker")], timeout=90)
    return client


def test_https_with_password_and_jwt(cluster: Cluster, client: Client) -> None:
    assert client.query("SELECT count(*) FROM tpch.sf1.orders") == [[1500000]]
    with pytest.raises(trino.exceptions.HttpError, match="401"):
        basic(cluster.port, "wrong password").query("SELECT 1")

    ca = str(SECRETS / "tls" / "ca.pem")
    jwt_client = Client(cluster.port, http_scheme="https", verify=ca, user="admin",
                        auth=trino.auth.JWTAuthentication(token("admin")))
    assert jwt_client.query("SELECT count(*) FROM tpch.tiny.nation") == [[25]]
    forged = Client(cluster.port, http_scheme="https", verify=ca, user="admin",
                    auth=trino.auth.JWTAuthentication(token("admin", issuer="someone-else")))
    with pytest.raises(trino.exceptions.HttpError, match="401"):
        forged.query("SELECT 1")

    # The certificate is for localhost, and plain HTTP is not served on the client port.
    info = requests.get(f"https://localhost:{cluster.port}/v1/info", verify=ca, timeout=10)
    assert info.status_code == 200 and info.json()["coordinator"] is True
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"http://127.0.0.1:{cluster.port}/v1/info", timeout=10)


def test_wrong_shared_secret_cannot_join(cluster: Cluster, client: Client) -> None:
    stranger = cluster.compose("run", "-d", "--no-deps", "-e", "VIVACE_SHARED_SECRET=not-the-secret",
                               "worker").stdout.strip().splitlines()[-1]
    try:
        wait_until("the refused announcement in the stranger's log",
                   lambda: "401" in cluster.logs(stranger), timeout=60)
        assert "shared-secret" in cluster.logs(stranger)
        name = cluster.hostname(stranger)
        assert name not in [n["node_id"] for n in client.nodes()]
        assert client.query("SELECT count(*) FROM tpch.sf1.orders") == [[1500000]]
    finally:
        docker("rm", "-f", stranger, check=False)


def test_worker_client_port_is_not_reachable_from_the_host(cluster: Cluster, client: Client) -> None:
    for worker in cluster.containers("worker"):
        info = cluster.inspect(worker)
        published = [binding for binding in (info["NetworkSettings"]["Ports"] or {}).values() if binding]
        assert published == [], f"worker publishes {published}"
        assert list(info["NetworkSettings"]["Networks"]) == [cluster.network("cluster")]
        address = info["NetworkSettings"]["Networks"][cluster.network("cluster")]["IPAddress"]
        assert not answers_as_vivace(f"http://{address}:8080/v1/info"), f"the host reaches {worker} at {address}"
    # The coordinator, on the edge network too, is reached the same way, so the probe can tell.
    coordinator = cluster.inspect(cluster.containers("coordinator")[0])
    edge = coordinator["NetworkSettings"]["Networks"][cluster.network("edge")]["IPAddress"]
    assert answers_as_vivace(f"https://{edge}:8443/v1/info")
    # Only the coordinator's HTTPS port is published.
    ports = {port: binding for port, binding in coordinator["NetworkSettings"]["Ports"].items() if binding}
    assert list(ports) == ["8443/tcp"]


def answers_as_vivace(url: str) -> bool:
    """Whether a Vivace node answers ``url`` (a proxy or nothing at all does not count)."""
    try:
        response = requests.get(url, timeout=3, verify=False)
        return "nodeVersion" in response.json()
    except (requests.exceptions.RequestException, ValueError):
        return False
