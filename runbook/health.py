"""``testAIAssistantConnection`` (spec 2.4): is the AI Assistant healthy after the migration?

The service (port 4130, spec 5.1) must be restarted after the rename so that its Prisma
client reconnects; this polls its health URL until it answers HTTP 200 or the time is
up. It never raises for an unhealthy service: the answer is a frozen
:class:`HealthResult`, whose ``ok`` is the spec's boolean.
"""

from __future__ import annotations

import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from .errors import BadInput

#: Where the AI Assistant listens (spec 5.1: port 4130); ``AI_ASSISTANT_HEALTH_URL`` overrides.
DEFAULT_HEALTH_URL = os.environ.get("AI_ASSISTANT_HEALTH_URL", "http://127.0.0.1:4130/health")


@dataclass(frozen=True)
class HealthResult:
    ok: bool
    url: str  # without credentials
    status: int | None  # the last HTTP status, None when nothing answered
    attempts: int
    elapsed_s: float
    detail: str = ""  # the last error, or the start of the last body when not 200


def _safe(url: str) -> str:
    """The URL without user:password@ and without a query (tokens travel there)."""
    p = urlsplit(url)
    netloc = p.netloc.rsplit("@", 1)[-1]
    return urlunsplit(p._replace(netloc=netloc, query="***" if p.query else ""))


def test_ai_assistant_connection(url: str | None = None, timeout: float = 30.0, *, interval: float = 1.0,
                                 request_timeout: float = 5.0) -> HealthResult:
    """Poll ``url`` (GET) until it answers 200 or ``timeout`` seconds have passed.

    At least one attempt is made. Connection errors, timeouts and non-200 answers are
    retried every ``interval`` seconds. Bad input (not an http(s) URL, negative times)
    raises :class:`~runbook.errors.BadInput`.
    """
    url = url or DEFAULT_HEALTH_URL
    p = urlsplit(url)
    if p.scheme not in ("http", "https") or not p.netloc:
        raise BadInput(f"not an http(s) URL: {_safe(url)!r}")
    if timeout < 0 or interval <= 0 or request_timeout <= 0:
        raise BadInput("timeout must be >= 0, interval and request timeout > 0")
    start = time.monotonic()
    deadline = start + timeout
    attempts, status, detail = 0, None, ""
    while True:
        attempts += 1
        left = max(0.1, min(request_timeout, deadline - time.monotonic()))
        try:
            with urllib.request.urlopen(urllib.request.Request(url, method="GET"), timeout=left) as r:
                status = r.status
                body = r.read(200).decode("utf-8", "replace")
                if status == 200:
                    return HealthResult(True, _safe(url), status, attempts, time.monotonic() - start)
                detail = body.strip()
        except urllib.error.HTTPError as exc:
            status = exc.code
            try:
                detail = exc.read(200).decode("utf-8", "replace").strip()
            except Exception:  # noqa: BLE001 - the body is only a hint
                detail = exc.reason or ""
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            status = None
            reason = getattr(exc, "reason", exc)
            detail = str(reason)
        if time.monotonic() + interval > deadline:
            return HealthResult(False, _safe(url), status, attempts, time.monotonic() - start,
                                " ".join(detail.split())[:200])
        time.sleep(interval)
