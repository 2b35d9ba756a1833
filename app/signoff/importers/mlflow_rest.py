"""A small HTTP client for an MLflow tracking server's REST API, as MLflow's own client configures it.

Authentication, TLS and retry settings come from the same environment variables MLflow reads
(``MLFLOW_TRACKING_TOKEN``, ``MLFLOW_TRACKING_USERNAME``/``PASSWORD``, ``MLFLOW_TRACKING_INSECURE_TLS``,
``MLFLOW_TRACKING_SERVER_CERT_PATH``, ...). Every failure becomes an ``ExternalServiceError`` that says
what went wrong and what to check; the ``mlflow`` package is not needed.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from signoff.domain.errors import Cancelled, ExternalServiceError, InputError, NotFoundError

RETRIED_STATUSES = (429, 500, 502, 503, 504)
DOWNLOAD_CHUNK_BYTES = 1 << 20
READ_CHUNK_BYTES = 64 * 1024
MAX_REDIRECTS = 5
# A hostile or broken server must not hold an import for ever nor fill the memory: an overall deadline,
# a cap on one JSON answer (a 400 MB description still fits and is cut at import), a cap on pages.
DEFAULT_DEADLINE_SECONDS = 1800.0
DEFAULT_MAX_RESPONSE_BYTES = 512 * 1024 * 1024
DEFAULT_MAX_PAGES = 10_000
MAX_JSON_DEPTH = 64

AUTH_HINT = (
    "set MLFLOW_TRACKING_TOKEN (bearer token) or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD "
    "(basic auth) to credentials the server accepts"
)
TLS_HINT = (
    "set MLFLOW_TRACKING_SERVER_CERT_PATH to the server's CA bundle, or MLFLOW_TRACKING_INSECURE_TLS=true "
    "to skip verification (not recommended)"
)


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class MlflowSettings:
    """How to talk to the server; ``from_env`` reads what MLflow's own client reads."""

    token: str | None = None
    username: str | None = None
    password: str | None = None
    verify: bool | str = True  # a path is a CA bundle
    client_cert: str | None = None
    timeout_seconds: float = 30.0
    max_retries: int = 5
    backoff_factor: float = 0.5
    deadline_seconds: float = DEFAULT_DEADLINE_SECONDS  # for the whole import, retries included
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    max_pages: int = DEFAULT_MAX_PAGES  # per listing

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> MlflowSettings:
        env = os.environ if env is None else env
        verify: bool | str = True
        if _flag(env.get("MLFLOW_TRACKING_INSECURE_TLS")):
            if env.get("MLFLOW_TRACKING_SERVER_CERT_PATH"):
                raise InputError(
                    "MLFLOW_TRACKING_INSECURE_TLS and MLFLOW_TRACKING_SERVER_CERT_PATH are both set; "
                    "set only one of them"
                )
            verify = False
        elif env.get("MLFLOW_TRACKING_SERVER_CERT_PATH"):
            verify = env["MLFLOW_TRACKING_SERVER_CERT_PATH"]

        def number(name: str, default: float) -> float:
            text = env.get(name)
            if text is None or text == "":
                return default
            try:
                return float(text)
            except ValueError:
                raise InputError(f"environment variable {name} must be a number, not {text!r}") from None

        return cls(
            token=env.get("MLFLOW_TRACKING_TOKEN") or None,
            username=env.get("MLFLOW_TRACKING_USERNAME") or None,
            password=env.get("MLFLOW_TRACKING_PASSWORD") or None,
            verify=verify,
            client_cert=env.get("MLFLOW_TRACKING_CLIENT_CERT_PATH") or None,
            timeout_seconds=number("MLFLOW_HTTP_REQUEST_TIMEOUT", 30.0),
            max_retries=int(number("MLFLOW_HTTP_REQUEST_MAX_RETRIES", 5)),
            backoff_factor=number("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", 0.5),
            deadline_seconds=number("SIGNOFF_MLFLOW_DEADLINE_SECONDS", DEFAULT_DEADLINE_SECONDS),
        )


def normalise_tracking_uri(tracking_uri: str) -> str:
    """``http(s)://host[:port][/prefix]`` without a trailing slash; anything else is an InputError."""
    parts = urlsplit(tracking_uri.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InputError(
            f"the tracking URI must be an http:// or https:// address of an MLflow tracking server, "
            f"not {tracking_uri!r} (file stores and databricks:// are not read)"
        )
    return tracking_uri.strip().rstrip("/")


class MlflowRestClient:
    """GET/POST JSON and streamed downloads with bounded retries; safe to share between threads.

    ``request_count`` counts logical requests (a retried request counts once), so callers can show
    that searches are batched.
    """

    def __init__(
        self,
        tracking_uri: str,
        settings: MlflowSettings | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> None:
        self.base_url = normalise_tracking_uri(tracking_uri)
        self.settings = settings or MlflowSettings.from_env()
        self.cancelled = cancelled or (lambda: False)
        self._deadline = time.monotonic() + self.settings.deadline_seconds
        self._local = threading.local()
        self._lock = threading.Lock()
        self._sessions: list[requests.Session] = []
        self.request_count = 0

    def close(self) -> None:
        with self._lock:
            for session in self._sessions:
                session.close()
            self._sessions.clear()

    def __enter__(self) -> MlflowRestClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            retry = Retry(
                total=self.settings.max_retries,
                connect=self.settings.max_retries,
                read=self.settings.max_retries,
                status=self.settings.max_retries,
                backoff_factor=self.settings.backoff_factor,
                status_forcelist=RETRIED_STATUSES,
                allowed_methods=None,  # every call here is a read, POST searches included
                raise_on_status=False,
                respect_retry_after_header=True,
            )
            adapter = HTTPAdapter(max_retries=retry, pool_connections=4, pool_maxsize=8)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            session.verify = self.settings.verify
            if self.settings.client_cert:
                session.cert = self.settings.client_cert
            if self.settings.token:
                session.headers["Authorization"] = f"Bearer {self.settings.token}"
            elif self.settings.username and self.settings.password is not None:
                # UTF-8 (RFC 7617), not requests' default Latin-1, so names like "zoë" survive.
                session.auth = (self.settings.username.encode(), self.settings.password.encode())
            session.headers["Accept"] = "application/json"
            session.headers["User-Agent"] = "signoff-registry-import"
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session

    def _count(self) -> None:
        with self._lock:
            self.request_count += 1

    def check_time(self, what: str) -> float:
        """The seconds left before the import's deadline; ``Cancelled`` or an error when none are."""
        if self.cancelled():
            raise Cancelled("the MLflow import was cancelled; nothing was stored")
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise ExternalServiceError(
                f"the MLflow server at {self.base_url} did not finish within the import's "
                f"{self.settings.deadline_seconds:g} s deadline (reading {what}); nothing was imported. "
                "Try again later or raise SIGNOFF_MLFLOW_DEADLINE_SECONDS"
            )
        return left

    def _send(self, method: str, path: str, what: str, **kwargs: Any) -> requests.Response:
        """One request, its body streamed; redirects are followed only within the tracking server."""
        url = f"{self.base_url}{path}"
        self._count()
        for _ in range(MAX_REDIRECTS + 1):
            response = self._send_once(method, url, what, **kwargs)
            if not response.is_redirect:
                return response
            target = urljoin(url, response.headers.get("Location", ""))
            response.close()
            if _origin(target) != _origin(self.base_url):
                raise ExternalServiceError(
                    f"the MLflow server at {self.base_url} redirected {what} to another server "
                    f"({_origin(target)}); refused, because the data would be recorded under the wrong "
                    "source. Use that server's address as the tracking URI if you trust it"
                )
            url = target
            kwargs.pop("params", None)  # the Location carries the query
        raise ExternalServiceError(f"the MLflow server at {self.base_url} redirected {what} in a loop")

    def _send_once(self, method: str, url: str, what: str, **kwargs: Any) -> requests.Response:
        timeout = min(self.settings.timeout_seconds, self.check_time(what))
        kwargs.setdefault("stream", True)
        try:
            return self._session().request(method, url, timeout=timeout, allow_redirects=False, **kwargs)
        except requests.exceptions.SSLError as error:
            raise ExternalServiceError(
                f"TLS verification failed for the MLflow server at {self.base_url} while reading {what}: "
                f"{_reason(error)}; {TLS_HINT}"
            ) from None
        except requests.exceptions.Timeout:
            raise ExternalServiceError(
                f"the MLflow server at {self.base_url} did not answer within "
                f"{self.settings.timeout_seconds:g} s while reading {what} (after "
                f"{self.settings.max_retries} retries); try again or raise MLFLOW_HTTP_REQUEST_TIMEOUT"
            ) from None
        except requests.exceptions.RetryError as error:
            raise ExternalServiceError(
                f"the MLflow server at {self.base_url} kept failing while reading {what} "
                f"(gave up after {self.settings.max_retries} retries): {_reason(error)}"
            ) from None
        except requests.exceptions.ConnectionError as error:
            raise ExternalServiceError(
                f"cannot reach the MLflow tracking server at {self.base_url} while reading {what} "
                f"(after {self.settings.max_retries} retries): {_reason(error)}. "
                "Check the URL and that the server is running."
            ) from None

    def _fail_on_status(self, response: requests.Response, what: str) -> None:
        if response.status_code < 400:
            return
        detail = _error_detail(response)
        if response.status_code in (401, 403):
            verdict = "refused the credentials" if response.status_code == 403 else "asked for credentials"
            raise ExternalServiceError(
                f"the MLflow server at {self.base_url} {verdict} (HTTP {response.status_code}) while "
                f"reading {what}: {AUTH_HINT}"
            )
        if _looks_like_html(response) or (response.status_code == 404 and not detail):
            raise ExternalServiceError(
                f"{self.base_url} does not look like an MLflow tracking server: it answered HTTP "
                f"{response.status_code} {_content_type(response) or 'without a content type'} to "
                f"{urlsplit(response.url).path}. Check the URL: it should be the server's root, "
                "e.g. http://host:5000, without /#/ or /api"
            )
        if response.status_code == 404 or detail.startswith("RESOURCE_DOES_NOT_EXIST"):
            raise NotFoundError(f"the MLflow server has no {what}: {detail}")
        retried = (
            f" after {self.settings.max_retries} retries" if response.status_code in RETRIED_STATUSES else ""
        )
        raise ExternalServiceError(
            f"the MLflow server at {self.base_url} failed with HTTP {response.status_code}{retried} while "
            f"reading {what}: {detail or response.reason}. Nothing was imported; try again later."
        )

    def _read_body(self, response: requests.Response, what: str) -> bytes:
        """The whole body within the size cap and the deadline (a trickling server cannot stall us)."""
        limit = self.settings.max_response_bytes
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            response.close()
            raise self._too_large(what, int(declared))
        parts: list[bytes] = []
        size = 0
        try:
            # read1 hands over what has arrived (a fixed-size read would wait for a trickle to fill it).
            while chunk := response.raw.read1(READ_CHUNK_BYTES, decode_content=True):
                size += len(chunk)
                if size > limit:
                    raise self._too_large(what, size)
                self.check_time(what)
                parts.append(chunk)
        except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError) as error:
            raise ExternalServiceError(
                f"the MLflow server at {self.base_url} broke off while sending {what}: {_reason(error)}"
            ) from None
        finally:
            response.close()
        body = b"".join(parts)
        response._content = body  # so the status and HTML checks below read what was read here
        return body

    def _too_large(self, what: str, size: int) -> ExternalServiceError:
        return ExternalServiceError(
            f"the MLflow server at {self.base_url} sent more than {self.settings.max_response_bytes} bytes "
            f"({size} so far) for {what}; refused, nothing was imported"
        )

    def _json(self, response: requests.Response, what: str) -> dict[str, Any]:
        raw = self._read_body(response, what)
        self._fail_on_status(response, what)
        if _looks_like_html(response):
            raise ExternalServiceError(
                f"{self.base_url} answered a web page instead of JSON to {urlsplit(response.url).path} "
                f"(reading {what}): this is not the REST API of an MLflow tracking server. Check the URL: "
                "it should be the server's root, e.g. http://host:5000"
            )
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):
            raise ExternalServiceError(
                f"the MLflow server at {self.base_url} answered malformed JSON while reading {what} "
                f"(HTTP {response.status_code}, starts with {raw[:60]!r})"
            ) from None
        if not isinstance(body, dict):
            raise ExternalServiceError(
                f"the MLflow server at {self.base_url} answered JSON that is not an object while reading {what}"
            )
        problem = _unfit_json(body)
        if problem is not None:
            raise ExternalServiceError(
                f"the MLflow server at {self.base_url} answered JSON that Signoff does not store while "
                f"reading {what}: {problem}; nothing was imported"
            )
        return body

    def get_json(self, path: str, what: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return self._json(self._send("GET", path, what, params=params), what)

    def post_json(self, path: str, what: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return self._json(self._send("POST", path, what, json=dict(body)), what)

    def download(
        self, path: str, what: str, params: Mapping[str, Any], destination: Path, max_bytes: int
    ) -> tuple[int, str] | None:
        """Stream to ``destination``; return (size, sha256), or ``None`` if it exceeded ``max_bytes``."""
        response = self._send("GET", path, what, params=params, stream=True)
        with response:
            self._fail_on_status(response, what)
            digest = hashlib.sha256()
            size = 0
            with open(destination, "wb") as out:
                for chunk in response.iter_content(DOWNLOAD_CHUNK_BYTES):
                    self.check_time(what)
                    size += len(chunk)
                    if size > max_bytes:
                        break
                    digest.update(chunk)
                    out.write(chunk)
            if size > max_bytes:
                destination.unlink(missing_ok=True)
                return None
        return size, digest.hexdigest()


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def _unfit_json(value: Any) -> str | None:
    """Why a parsed answer cannot be kept (NUL characters, nesting deeper than any MLflow answer)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return f"it is nested more than {MAX_JSON_DEPTH} levels deep"
        if isinstance(item, str):
            if "\x00" in item:
                return "a text contains a NUL character"
        elif isinstance(item, dict):
            for key, child in item.items():
                if "\x00" in key:
                    return "a key contains a NUL character"
                stack.append((child, depth + 1))
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return None


def _content_type(response: requests.Response) -> str:
    return response.headers.get("Content-Type", "").split(";")[0].strip().lower()


def _looks_like_html(response: requests.Response) -> bool:
    if _content_type(response) in ("text/html", "application/xhtml+xml"):
        return True
    # Only called on answers that are read whole (errors, JSON calls), so reading the body is cheap.
    return response.content[:200].lstrip().lower().startswith((b"<!doctype html", b"<html"))


def _error_detail(response: requests.Response) -> str:
    """MLflow's ``{"error_code": ..., "message": ...}`` as one line, or '' when the body is not that."""
    try:
        body = json.loads(response.content or b"")
    except ValueError:
        return ""
    if isinstance(body, dict) and ("error_code" in body or "message" in body):
        return f"{body.get('error_code', '')}: {body.get('message', '')}".strip(": ")
    return ""


def _reason(error: Exception) -> str:
    # requests wraps urllib3's MaxRetryError whose text repeats the whole URL; its reason is enough.
    inner = error.args[0] if error.args else error
    reason = getattr(inner, "reason", None)
    return str(reason or inner)
