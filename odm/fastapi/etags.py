"""HTTP preconditions on top of odm's concurrency tokens: ``ETag`` out, ``If-Match`` in.

A document's ``seq_no`` and ``primary_term`` identify the version of it a client read,
so the ETag is ``"<seq_no>-<primary_term>"``. A client that sends it back in
``If-Match`` asks for its write to apply only to that version; :func:`apply_if_match`
puts the tokens on the document, and the following ``save()``, ``update()`` or
``delete()`` sends them (odm's default), so Elasticsearch refuses a stale write with
409, which :func:`odm.fastapi.install_exception_handlers` answers as 412.
"""

from __future__ import annotations

import re

from ..document import AsyncDocument
from ..errors import DocumentStateError, InvalidETagError

__all__ = ["apply_if_match", "etag"]

_ETAG = re.compile(r'"(\d{1,19})-(\d{1,19})"')
_LONG_MAX = 2**63 - 1  # Elasticsearch's tokens are Java longs


def etag(document: AsyncDocument) -> str:
    """The strong ETag of the version ``document`` was read or written at: ``"12-1"``, quotes included.

    Example: ``response.headers["ETag"] = etag(post)``, after a ``get()``, a search or a write.

    Raises:
        DocumentStateError: the document has no ``seq_no``/``primary_term`` (built, never read or written).
    """
    meta = document.meta
    if meta.seq_no is None or meta.primary_term is None:
        raise DocumentStateError("etag() needs meta.seq_no and meta.primary_term: read or write the document first",
                                 meta.index, meta.id)
    return f'"{meta.seq_no}-{meta.primary_term}"'


def apply_if_match(document: AsyncDocument, header: str | None) -> bool:
    """Make the next write of ``document`` conditional on the version named by an ``If-Match`` header.

    ``None`` (no header) and ``*`` ("any current version": the document was loaded, so
    it exists) leave the document as it is and return ``False``. One ETag of the form
    :func:`etag` writes sets ``meta.seq_no`` and ``meta.primary_term`` and returns
    ``True``: a write of a version that changed since fails with ``VersionConflictError``.

    Raises:
        InvalidETagError: anything else (a weak ``W/"..."`` ETag, a list of several, a
            malformed value); an HTTP service answers it with 400.
    """
    if header is None:
        return False
    value = header.strip()
    if value == "*":
        return False
    found = _ETAG.fullmatch(value)
    if found is None or max(int(found.group(1)), int(found.group(2))) > _LONG_MAX:
        shown = value if len(value) <= 60 else value[:60] + "..."
        raise InvalidETagError(
            f"If-Match must be * or one ETag such as \"12-1\" as this service sent it, not {shown!r}"
        )
    document.meta.seq_no, document.meta.primary_term = int(found.group(1)), int(found.group(2))
    return True
