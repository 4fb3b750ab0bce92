"""What a secure test node needs: a throwaway CA, a certificate for HTTPS, and a file-realm superuser.

The CA and the node's certificate come from ``trustme`` (a dev dependency, imported
only when a secure node is asked for). The user goes into the node's ``config/users``
with a PBKDF2 hash in the format Elasticsearch's ``Hasher`` reads (``{PBKDF2}``,
HMAC-SHA512, 10,000 rounds, a 32-byte salt, a 32-byte key), computed with
``hashlib``: no JVM is started for ``bin/elasticsearch-users``, and the password is
never on a command line, in an environment variable, in a URL or in a log.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import ssl
from pathlib import Path
from typing import TYPE_CHECKING, Any

from odm.testing._errors import NodeError

if TYPE_CHECKING:
    import trustme

__all__ = ["DEFAULT_USERNAME", "SecureSetup", "pbkdf2_hash"]

DEFAULT_USERNAME = "odm-admin"
_ROUNDS = 10_000


def pbkdf2_hash(password: str, *, salt: bytes | None = None, rounds: int = _ROUNDS) -> str:
    """``password`` hashed as Elasticsearch's file realm reads a ``{PBKDF2}`` entry."""
    salt = secrets.token_bytes(32) if salt is None else salt
    key = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, rounds, dklen=32)
    return f"{{PBKDF2}}{rounds}${base64.b64encode(salt).decode()}${base64.b64encode(key).decode()}"


class SecureSetup:
    """The CA, the node certificate and the superuser of one secure node (kept across restarts)."""

    def __init__(self, username: str, password: str | None) -> None:
        try:
            import trustme
        except ImportError as exc:  # pragma: no cover - trustme is a dev dependency
            raise NodeError("a secure node needs the trustme package: pip install trustme") from exc
        if not username or any(c in username for c in ":\n"):
            raise ValueError(f"invalid file-realm username {username!r}")
        self.username = username
        self._password = secrets.token_urlsafe(18) if password is None else password
        if len(self._password) < 6 or "\n" in self._password:
            raise ValueError("the password must have at least 6 characters and no newline")
        self._ca: trustme.CA = trustme.CA(organization_name="odm test CA")
        self._cert = self._ca.issue_cert("127.0.0.1", "localhost")

    @property
    def basic_auth(self) -> tuple[str, str]:
        """``(username, password)`` of the superuser."""
        return self.username, self._password

    def settings(self) -> dict[str, Any]:
        """``elasticsearch.yml`` settings: security on, TLS on HTTP, the file realm first."""
        return {
            "xpack.security.enabled": True,
            "xpack.security.http.ssl.enabled": True,
            "xpack.security.http.ssl.key": "certs/http.key",
            "xpack.security.http.ssl.certificate": "certs/http.crt",
            "xpack.security.http.ssl.certificate_authorities": ["certs/ca.crt"],
            "xpack.security.authc.realms.file.file1.order": 0,
            "xpack.security.authc.realms.native.native1.order": 1,
            # The token service (bearer tokens) is not in the basic license.
            "xpack.license.self_generated.type": "trial",
        }

    def write(self, config: Path) -> Path:
        """Write the certificates and the user into ``config``; return the CA's PEM for clients."""
        certs = config / "certs"
        certs.mkdir(exist_ok=True)
        self._cert.private_key_pem.write_to_path(str(certs / "http.key"))
        self._cert.cert_chain_pems[0].write_to_path(str(certs / "http.crt"))
        self._ca.cert_pem.write_to_path(str(certs / "ca.crt"))
        (config / "users").write_text(f"{self.username}:{pbkdf2_hash(self._password)}\n")
        (config / "users_roles").write_text(f"superuser:{self.username}\n")
        client_ca = config.parent / "ca.crt"
        self._ca.cert_pem.write_to_path(str(client_ca))
        return client_ca

    def ssl_context(self) -> ssl.SSLContext:
        """A client context trusting only this node's CA."""
        context = ssl.create_default_context()
        self._ca.configure_trust(context)
        return context

    def __repr__(self) -> str:
        return f"<SecureSetup user={self.username!r} password=***>"
