"""The run's side effects around the change: the maintenance commands (shell, in order,
stopping at the first that fails), polling the service's health URL, and the Slack
message. Each returns what happened, for the summary."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request

from ..connection import hide

__all__ = ["run_commands", "poll_health", "notify_slack"]


def run_commands(commands, *, timeout: int, secrets=(), out=None) -> tuple[bool, list[dict]]:
    """Run shell commands in order, stopping at the first that fails."""
    out = out or sys.stdout
    done = []
    for cmd in commands:
        t0 = time.monotonic()
        try:
            r = subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=timeout)
            rc, text = r.returncode, (r.stdout or "") + (r.stderr or "")
        except subprocess.TimeoutExpired as exc:
            rc, text = None, f"timed out after {timeout}s\n{exc.stdout or ''}"
        text = hide(text, secrets)
        tail = "\n".join(text.strip().splitlines()[-20:])
        rec = {"command": cmd, "exit_code": rc, "seconds": round(time.monotonic() - t0, 3), "output": tail}
        done.append(rec)
        print(f"  $ {cmd}  -> {'timed out' if rc is None else f'exit {rc}'} ({rec['seconds']:.1f}s)", file=out)
        if tail:
            print("    " + tail.replace("\n", "\n    "), file=out)
        if rc != 0:
            return False, done
    return True, done


def poll_health(url: str, timeout: float, interval: float = 1.0) -> dict:
    """GET ``url`` until it answers 2xx/3xx or ``timeout`` seconds pass."""
    t0 = time.monotonic()
    attempts, last = 0, ""
    while True:
        attempts += 1
        left = timeout - (time.monotonic() - t0)
        try:
            with urllib.request.urlopen(url, timeout=max(0.5, min(5.0, left))) as r:
                if 200 <= r.status < 400:
                    return {"url": url, "ok": True, "status": r.status, "attempts": attempts,
                            "seconds": round(time.monotonic() - t0, 3)}
                last = f"HTTP {r.status}"
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError) as exc:
            last = str(getattr(exc, "reason", exc))
        if time.monotonic() - t0 + interval > timeout:
            return {"url": url, "ok": False, "error": last, "attempts": attempts,
                    "seconds": round(time.monotonic() - t0, 3)}
        time.sleep(interval)


def notify_slack(webhook: str, text: str, timeout: float = 10.0) -> dict:
    """POST ``{"text": ...}`` to a Slack incoming webhook; never raises."""
    req = urllib.request.Request(webhook, data=json.dumps({"text": text}).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return {"sent": 200 <= r.status < 300, "status": r.status}
    except urllib.error.HTTPError as exc:
        return {"sent": False, "status": exc.code}
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return {"sent": False, "error": str(getattr(exc, "reason", exc)).replace(webhook, "***")}

