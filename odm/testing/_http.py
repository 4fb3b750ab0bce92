"""A minimal JSON-over-HTTP helper on urllib, so odm.testing needs no async client."""

from __future__ import annotations

import base64
import json
import ssl
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

__all__ = ["request_json"]


def request_json(
    method: str,
    url: str,
    body: Any = None,
    *,
    timeout: float = 30.0,
    context: ssl.SSLContext | None = None,
    basic_auth: tuple[str, str] | None = None,
) -> tuple[int, Any]:
    """Send ``body`` (JSON-encoded when not None) and return ``(status, decoded JSON)``.

    Error statuses are returned, not raised, so callers can tell 404 from success.
    Credentials in the URL (``http://user:pass@host:9200``) become Basic auth, as do
    ``basic_auth`` (which keeps them out of the URL, and so out of error messages).
    ``context`` verifies an ``https`` server (e.g. against a test CA).

    Raises:
        urllib.error.URLError: the server could not be reached (or its certificate was refused).
    """
    parts = urllib.parse.urlsplit(url)
    headers = {"Accept": "application/json"}
    if basic_auth is not None:
        userinfo = f"{basic_auth[0]}:{basic_auth[1]}"
        headers["Authorization"] = "Basic " + base64.b64encode(userinfo.encode()).decode()
    if parts.username is not None:
        userinfo = f"{urllib.parse.unquote(parts.username)}:{urllib.parse.unquote(parts.password or '')}"
        headers["Authorization"] = "Basic " + base64.b64encode(userinfo.encode()).decode()
        host = parts.hostname or ""
        netloc = f"[{host}]" if ":" in host else host
        if parts.port is not None:
            netloc += f":{parts.port}"
        url = urllib.parse.urlunsplit(parts._replace(netloc=netloc))
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=context) as resp:
            return resp.status, _decode(resp.read())
    except urllib.error.HTTPError as err:
        with err:
            return err.code, _decode(err.read())


def _decode(raw: bytes) -> Any:
    return json.loads(raw) if raw.strip() else None
