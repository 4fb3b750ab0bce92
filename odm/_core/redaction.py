"""Secrets kept out of text: the one place passwords, API keys and URL credentials are hidden.

Every message odm writes that may hold a connection setting goes through here: the
``odm`` command's ``error:`` lines, :class:`~odm.errors.SettingsError` and
:class:`~odm.errors.NodeUnavailableError`, ``OdmSettings``' ``repr``, and the log lines
of ``odm.fastapi``. Imports nothing, so ``errors`` can use it.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable

__all__ = ["MASK", "redact", "redact_url"]

MASK = "***"

# The user-info of any URL in a text: "scheme://user:password@" (or "scheme://token@").
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)(?P<userinfo>[^\s/@?#]*)@")
# Secrets shorter than this are not searched for in text: masking every "a" would hide the message.
_SHORTEST_SECRET = 4


def redact_url(url: str) -> str:
    """``url`` without its credentials: ``https://ops:***@es:9200``.

    The user name stays when a password follows it; a user-info without a password may
    be a token and is hidden whole (``https://***@es``). Text that does not parse as a
    URL with a user-info (``http//ops:pw@es``, a missing colon; ``http://ops:pw@es:port``)
    but holds an ``@`` loses everything between its scheme and its last ``@``.

    Example: ``redact_url("http://ops:hunter2@es:9200") == "http://ops:***@es:9200"``
    """
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018  (reading it checks it: "es:port" raises ValueError)
    except ValueError:
        parts = None
    if parts is not None and "@" in parts.netloc:
        userinfo, _, host = parts.netloc.rpartition("@")
        user, has_password, _ = userinfo.partition(":")
        netloc = f"{user}:{MASK}@{host}" if has_password else f"{MASK}@{host}"
        return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    if "@" not in url:
        return url
    scheme, separator, rest = url.partition("://")
    if not separator:
        return f"{MASK}@{url.rpartition('@')[2]}"
    return f"{scheme}://{MASK}@{rest.rpartition('@')[2]}"


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` with the credentials of every URL in it and each of ``secrets`` replaced by ``***``.

    For messages built from other code's text (an exception of the client, a traceback
    line): ``secrets`` are the values known to be secret (a password, an API key), also
    found percent-encoded.

    Example: ``redact("at http://u:pw@es failed, key k3y-v4lue", ["k3y-v4lue"])
    == "at http://***@es failed, key ***"``
    """
    for secret in secrets:
        if secret is None or len(secret) < _SHORTEST_SECRET:
            continue
        for form in {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret)}:
            text = text.replace(form, MASK)
    return _USERINFO.sub(lambda match: f"{match['scheme']}{MASK}@", text)
