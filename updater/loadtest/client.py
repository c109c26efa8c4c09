"""The HTTP side of the load demonstration: one keep-alive connection per simulated client, the
requests each mode sends, and the checks made before any load (server reachable, endpoint present,
credentials accepted). Standard library only: the clients measure the server, not a client library."""

from __future__ import annotations

import http.client
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

JOBS_PATH = "/api/v1/jobs/"
FEEDS_PATH = "/api/v1/updates/"
FEEDS_SYNC_PATH = "/api/v1/updates/sync/"
TOKEN_PATH = "/api/v1/auth/token/"
FEED_HEADER = "sku,name,price,currency,stock,active"


class LoadTestError(Exception):
    """The server cannot be used: unreachable, endpoint missing, credentials refused."""


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    location: str


class Api:
    """Where the server is and how to authenticate; `connect()` gives each client its own connection."""

    def __init__(self, base_url: str, *, token: str = "", timeout: float = 5.0):
        parts = urlsplit(base_url)
        self.base_url = base_url.rstrip("/")
        self.https = parts.scheme == "https"
        self.host, self.port = parts.hostname, parts.port
        self.prefix = parts.path.rstrip("/")
        self.token = token
        self.timeout = timeout

    def connect(self) -> http.client.HTTPConnection:
        cls = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
        return cls(self.host, self.port, timeout=self.timeout)

    def send(self, conn: http.client.HTTPConnection, method: str, path: str, body: bytes = b"",
             content_type: str = "") -> Response:
        """One request on `conn`, read to the end. Raises TimeoutError past the time-out, OSError or
        HTTPException when the connection fails (the caller closes it; the next request reconnects)."""
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Token {self.token}"
        if content_type:
            headers["Content-Type"] = content_type
        conn.request(method, self.prefix + path, body=body or None, headers=headers)
        answer = conn.getresponse()
        return Response(answer.status, answer.read(), answer.getheader("Location") or "")

    def once(self, method: str, path: str, body: bytes = b"", content_type: str = "") -> Response:
        """A single request outside the load, with the failure explained in one line."""
        conn = self.connect()
        try:
            return self.send(conn, method, path, body, content_type)
        except TimeoutError:
            raise LoadTestError(f"{self.base_url} did not answer {method} {path} within {self.timeout} s") from None
        except (OSError, http.client.HTTPException) as exc:
            raise LoadTestError(
                f"cannot reach {self.base_url} ({exc.__class__.__name__}: {exc}); is the server running (make run)?"
            ) from None
        finally:
            conn.close()

    def preflight(self, path: str) -> None:
        """OPTIONS changes nothing but goes through authentication and routing, so a wrong token or a
        missing endpoint stops the run before the load, with its reason."""
        answer = self.once("OPTIONS", path)
        if answer.status == 404:
            raise LoadTestError(f"{self.base_url}{path} answered 404: this server has no such endpoint")
        if answer.status in (401, 403):
            raise LoadTestError(
                f"{self.base_url}{path} refused the credentials (HTTP {answer.status}); "
                "pass --token, or --username and --password"
            )
        if answer.status >= 400:
            raise LoadTestError(f"OPTIONS {self.base_url}{path} answered HTTP {answer.status}")


def token_obtain(api: Api, *, username: str, password: str) -> str:
    """Log in through the API, as a client of the product would."""
    body = urlencode({"username": username, "password": password}).encode()
    answer = api.once("POST", TOKEN_PATH, body, "application/x-www-form-urlencoded")
    if answer.status == 400:
        raise LoadTestError(f"{api.base_url} refused the username and password")
    if answer.status != 200:
        raise LoadTestError(f"POST {api.base_url}{TOKEN_PATH} answered HTTP {answer.status}")
    return json.loads(answer.body)["token"]


def token_local(*, username: str | None = None) -> str:
    """The API token of `username` (default: the first active superuser) in this project's own
    database, made if missing: right when the server runs on this same database (make run)."""
    users = get_user_model().objects.filter(is_active=True)
    user = (
        users.filter(username=username).first() if username else users.filter(is_superuser=True).order_by("pk").first()
    )
    if user is None:
        who = f"no active user {username!r}" if username else "no active superuser"
        raise LoadTestError(f"{who} in the local database; pass --token, or --username and --password")
    return Token.objects.get_or_create(user=user)[0].key


@dataclass(frozen=True)
class Endpoint:
    """What one phase sends: `build(n)` gives the body and content type of request number n."""

    name: str
    path: str
    unit: str  # what `units_per_request` counts: "rows" or "jobs"
    units_per_request: int
    creates_jobs: bool
    build: Callable[[int], tuple[bytes, str]]


def jobs_endpoint(*, sleep: float) -> Endpoint:
    body = json.dumps({"handler": "jobs.sleep", "args": {"seconds": sleep, "steps": 1}}).encode()
    return Endpoint("queued", JOBS_PATH, "jobs", 1, True, lambda n: (body, "application/json"))


def feeds_endpoint(*, rows: int, sync: bool, run: str) -> Endpoint:
    """Feeds of `rows` new products each; the skus differ per run and phase, so both phases insert
    (neither updates the other's rows, nor waits on the other's locks)."""
    prefix = f"SIM{run}{'S' if sync else 'Q'}"

    def build(n: int) -> tuple[bytes, str]:
        lines = [FEED_HEADER]
        lines += [f"{prefix}-{n:06d}-{r:05d},Simulated product {r},{(r % 997) + 0.99},EUR,{r % 50},true"
                  for r in range(rows)]
        return multipart(field="file", filename=f"feed-{n}.csv", content="\n".join(lines) + "\n")

    if sync:
        return Endpoint("sync", FEEDS_SYNC_PATH, "rows", rows, False, build)
    return Endpoint("queued", FEEDS_PATH, "rows", rows, True, build)


def multipart(*, field: str, filename: str, content: str) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\n"
        f"Content-Type: text/csv\r\n\r\n{content}\r\n--{boundary}--\r\n"
    ).encode()
    return body, f"multipart/form-data; boundary={boundary}"


def job_id_of(answer: Response) -> int | None:
    """The job an accepted request made: the body's `id`, else the id in the Location header."""
    try:
        return int(json.loads(answer.body)["id"])
    except (ValueError, KeyError, TypeError):
        pass
    tail = answer.location.rstrip("/").rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else None
