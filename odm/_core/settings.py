"""``OdmSettings``: how to connect to Elasticsearch, from arguments or the environment.

The one settings source of odm: ``odm.fastapi`` (its lifespan) and the ``odm`` command
read the same variables through it (``ODM_ES_URL``, ``ODM_ES_USERNAME``, ...). A frozen
dataclass rather than a pydantic-settings model: it needs nothing beyond the standard
library, and its ``repr`` is written by hand so that no password, API key or URL
credential is ever printed (in a log line, a traceback, a debugger); messages go
through :mod:`._core.redaction`.
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import SettingsError
from .redaction import redact as redact_text
from .redaction import redact_url

__all__ = ["ENVIRONMENT", "OdmSettings"]

#: The environment variables :meth:`OdmSettings.from_env` reads, by field.
ENVIRONMENT = {
    "url": "ODM_ES_URL",
    "username": "ODM_ES_USERNAME",
    "password": "ODM_ES_PASSWORD",
    "api_key": "ODM_ES_API_KEY",
    "ca_certs": "ODM_ES_CA_CERTS",
    "verify": "ODM_ES_VERIFY",
    "index_prefix": "ODM_INDEX_PREFIX",
    "timeout": "ODM_ES_TIMEOUT",
    "startup_timeout": "ODM_ES_STARTUP_TIMEOUT",
}

#: Variables odm no longer reads, and the one to set instead: refused, so a setting is never silently dropped.
RETIRED = {"ODM_ES_USER": "ODM_ES_USERNAME"}

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


@dataclass(frozen=True)
class OdmSettings:
    """Where Elasticsearch is and how to log in; read by :func:`odm.fastapi.odm_lifespan`.

    Example: ``OdmSettings.from_env()`` reads ``ODM_ES_URL``, ``ODM_ES_USERNAME``,
    ``ODM_ES_PASSWORD``, ``ODM_ES_API_KEY``, ``ODM_ES_CA_CERTS``, ``ODM_ES_VERIFY``,
    ``ODM_INDEX_PREFIX``, ``ODM_ES_TIMEOUT`` and ``ODM_ES_STARTUP_TIMEOUT``.

    Attributes:
        url: the node's URL (``https://es.internal:9200``); credentials in it work too.
        username, password: basic authentication (both or neither).
        api_key: an API key (the encoded form), instead of a password.
        ca_certs: a CA bundle to verify the node's certificate with.
        verify: verify the node's TLS certificate (``False`` only for local experiments).
        index_prefix: a prefix for index names, for :meth:`index_name`: one cluster can
            hold ``staging-posts`` and ``prod-posts``.
        timeout: seconds allowed for each request.
        startup_timeout: seconds the lifespan waits for the node to answer before failing.
    """

    url: str = "http://127.0.0.1:9200"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    api_key: str | None = field(default=None, repr=False)
    ca_certs: str | None = None
    verify: bool = True
    index_prefix: str = ""
    timeout: float = 30.0
    startup_timeout: float = 30.0

    def __post_init__(self) -> None:
        if not isinstance(self.url, str) or "://" not in self.url:
            raise SettingsError(f"url must be an http(s) URL with a scheme, not {redact_url(str(self.url))!r}")
        try:
            parts = urllib.parse.urlsplit(self.url)
            parts.port  # noqa: B018  (reading it checks it)
        except ValueError:
            raise SettingsError(f"url is not a valid URL (its host or port cannot be read): {redact_url(self.url)!r}") from None
        if parts.scheme not in ("http", "https"):
            raise SettingsError(f"url must use http or https, not {redact_url(self.url)!r}")
        if not parts.hostname:
            raise SettingsError(f"url names no host: {redact_url(self.url)!r}")
        if (self.username is None) != (self.password is None):
            raise SettingsError("username and password go together: give both or neither")
        if self.api_key is not None and self.password is not None:
            raise SettingsError("give a password or an API key, not both")
        for name in ("timeout", "startup_timeout"):
            value = getattr(self, name)
            if not value > 0:
                raise SettingsError(f"{name} must be a positive number of seconds, not {value!r}")

    def __repr__(self) -> str:
        secrets = [name for name in ("password", "api_key") if getattr(self, name) is not None]
        hidden = "".join(f", {name}='***'" for name in secrets)
        return (
            f"OdmSettings(url={redact_url(self.url)!r}, username={self.username!r}{hidden}, "
            f"ca_certs={self.ca_certs!r}, verify={self.verify!r}, index_prefix={self.index_prefix!r}, "
            f"timeout={self.timeout!r}, startup_timeout={self.startup_timeout!r})"
        )

    __str__ = __repr__

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> OdmSettings:
        """Settings from environment variables (``environ``, by default ``os.environ``).

        ``overrides`` win over the environment: ``OdmSettings.from_env(timeout=5)``.
        Unset and empty variables keep the defaults.

        Raises:
            SettingsError: a variable that cannot be read (``ODM_ES_TIMEOUT=soon``), a
                retired variable (``ODM_ES_USER``: set ``ODM_ES_USERNAME``), or settings
                that do not go together.
        """
        source = os.environ if environ is None else environ
        for retired, current in RETIRED.items():
            if source.get(retired) and not source.get(current):
                raise SettingsError(f"{retired} is not read: set {current} (the odm command and odm.fastapi read the same variables)")
        unknown = set(overrides) - set(ENVIRONMENT)
        if unknown:
            raise SettingsError(f"unknown setting(s) {sorted(unknown)}; known: {sorted(ENVIRONMENT)}")
        values: dict[str, Any] = {}
        for name, variable in ENVIRONMENT.items():
            raw = source.get(variable)
            if raw is None or raw == "":
                continue
            values[name] = _parse(name, variable, raw)
        values.update(overrides)
        return cls(**values)

    def index_name(self, name: str) -> str:
        """``name`` with the index prefix: use it in ``class Index: name = SETTINGS.index_name("posts")``."""
        return self.index_prefix + name

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for ``AsyncElasticsearch`` (and ``async_connections.create_connection``)."""
        options: dict[str, Any] = {"hosts": [self.url], "request_timeout": self.timeout}
        if self.username is not None and self.password is not None:
            options["basic_auth"] = (self.username, self.password)
        if self.api_key is not None:
            options["api_key"] = self.api_key
        if self.ca_certs is not None:
            options["ca_certs"] = self.ca_certs
        if not self.verify:
            options["verify_certs"] = False
        return options

    @property
    def display_url(self) -> str:
        """The URL with any password in it replaced by ``***``, for messages."""
        return redact_url(self.url)

    def redact(self, text: str) -> str:
        """``text`` (another library's error message, say) without these settings' password,
        API key or URL credentials."""
        in_url = urllib.parse.urlsplit(self.url).password
        unquoted = None if in_url is None else urllib.parse.unquote(in_url)
        return redact_text(text, [self.password, self.api_key, in_url, unquoted])


def _parse(name: str, variable: str, raw: str) -> Any:
    if name in ("timeout", "startup_timeout"):
        try:
            return float(raw)
        except ValueError:
            raise SettingsError(f"{variable}={raw!r} is not a number of seconds") from None
    if name == "verify":
        lowered = raw.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise SettingsError(f"{variable}={raw!r} is not a boolean (true/false, 1/0, yes/no, on/off)")
    return raw
