"""HTTP preconditions on top of odm's concurrency tokens: ``ETag`` out, ``If-Match`` in.

A document's ``seq_no`` and ``primary_term`` identify the version of it a client read,
within one index: a migration copies the document to a new index, where the numbers
start again. So the ETag names the concrete index too, hashed short:
``"<seq_no>-<primary_term>-<index tag>"``. A client that sends it back in ``If-Match``
asks for its write to apply only to that version: :func:`apply_if_match` checks the
header against the document as just loaded (its index, and its tokens) and puts the
tokens on it, and the following ``save()``, ``update()`` or ``delete()`` sends them
(odm's default), so Elasticsearch refuses a write of a version changed since with 409,
which :func:`odm.fastapi.install_exception_handlers` answers as 412. An ETag from
before a migration names the old index: one 412, never a match by coincidence.
"""

from __future__ import annotations

import hashlib
import re

from ..document import AsyncDocument
from ..errors import DocumentStateError, InvalidETagError, PreconditionFailedError, PreconditionRequiredError

__all__ = ["apply_if_match", "etag"]

_OURS = re.compile(r'"(\d{1,19})-(\d{1,19})-([0-9a-f]{10})"')
# RFC 9110: If-Match = "*" / #entity-tag; entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE,
# etagc = %x21 / %x23-7E / obs-text; list members are separated by commas and optional whitespace.
_ENTITY_TAG = re.compile(r'\s*(W/)?("[\x21\x23-\x7e\x80-\xff]*")\s*')
_LONG_MAX = 2**63 - 1  # Elasticsearch's tokens are Java longs
_SHOWN = 60  # characters of a refused header quoted in the error


def index_tag(index: str) -> str:
    """The short hash of a concrete index name an ETag carries (the name is not shown to clients)."""
    return hashlib.sha256(index.encode()).hexdigest()[:10]


def etag(document: AsyncDocument) -> str:
    """The strong ETag of the version ``document`` was read or written at: ``"12-1-3f9a0c2b1d"``, quotes included.

    The sequence number, the primary term and a hash of the concrete index the document
    was read from or written to (``meta.index``, never an alias).

    Example: ``response.headers["ETag"] = etag(post)``, after a ``get()``, a search or a write.

    Raises:
        DocumentStateError: the document has no ``seq_no``/``primary_term`` or no index (built, never read or written).
    """
    meta = document.meta
    if meta.seq_no is None or meta.primary_term is None or meta.index is None:
        raise DocumentStateError(
            "etag() needs meta.seq_no, meta.primary_term and meta.index: read or write the document first",
            meta.index, meta.id,
        )
    return f'"{meta.seq_no}-{meta.primary_term}-{index_tag(meta.index)}"'


def _entity_tags(value: str) -> list[tuple[bool, str]]:
    """The members of an ``If-Match`` list: (weak, opaque tag with its quotes), in order.

    Raises:
        InvalidETagError: not a list of entity tags.
    """
    found: list[tuple[bool, str]] = []
    position = 0
    while True:
        member = _ENTITY_TAG.match(value, position)
        if member is None:
            break
        found.append((member.group(1) is not None, member.group(2)))
        position = member.end()
        if position == len(value):
            return found
        if value[position] != ",":
            break
        position += 1
        while position < len(value) and value[position] in " \t,":  # empty list elements are allowed
            position += 1
        if position == len(value):
            return found
    shown = value if len(value) <= _SHOWN else value[:_SHOWN] + "..."
    raise InvalidETagError(f'If-Match must be * or a list of ETags such as "12-1-3f9a0c2b1d" as this service sent them, not {shown!r}')


def apply_if_match(document: AsyncDocument, header: str | None, *, required: bool = False) -> bool:
    """Make the next write of ``document`` conditional on the version named by an ``If-Match`` header.

    Call it on the document as just loaded (``get()``): the header is compared with
    the index it is in now and its tokens. ``*`` ("any current version": it was loaded,
    so it exists) leaves the document as it is and returns ``False``, as no header does.
    A list of ETags (RFC 9110) matches if one of them is the document's current ETag, by
    strong comparison: that one's ``seq_no``/``primary_term`` are set on the document
    and ``True`` is returned; the write then carries them, so a change made between the
    load and the write still fails (``VersionConflictError``, a 412).

    Args:
        required: a missing header raises :class:`~odm.errors.PreconditionRequiredError`
            (428) instead of allowing the write; ``*`` is still accepted.

    Raises:
        PreconditionFailedError: no member matches (an older version, an ETag from another
            index, e.g. read before a migration, a weak ETag, a primary term of 0, one that is
            not odm's); nothing is written, a service answers 412.
        PreconditionRequiredError: ``required`` and no header (428).
        InvalidETagError: the header is not ``*`` nor a list of ETags (400).
        DocumentStateError: the document was not loaded (no ``meta.index``).
    """
    meta = document.meta
    if header is None:
        if required:
            raise PreconditionRequiredError(meta.index, meta.id)
        return False
    value = header.strip()
    if value == "*":
        return False
    members = _entity_tags(value)
    if meta.index is None:
        raise DocumentStateError(
            "apply_if_match() needs the document as loaded (get()): the ETag is checked against the index it is in",
            None, meta.id,
        )
    tag = index_tag(meta.index)
    candidates: list[tuple[int, int]] = []
    for weak, opaque in members:
        ours = _OURS.fullmatch(opaque)
        if weak or ours is None or ours.group(3) != tag:
            continue  # never equal by strong comparison to an ETag of this document in this index
        seq_no, term = int(ours.group(1)), int(ours.group(2))
        if term >= 1 and seq_no <= _LONG_MAX and term <= _LONG_MAX:  # a primary term is never 0
            candidates.append((seq_no, term))
    current = (meta.seq_no, meta.primary_term)
    if current[0] is not None and current[1] is not None:
        if current not in candidates:
            raise PreconditionFailedError(meta.index, meta.id, _why(members, candidates))
        chosen = current
    elif len(candidates) == 1:
        chosen = candidates[0]  # a document read without its tokens: Elasticsearch compares
    elif not candidates:
        raise PreconditionFailedError(meta.index, meta.id, _why(members, candidates))
    else:
        raise DocumentStateError(
            "apply_if_match() with several ETags needs the document loaded with its seq_no and primary_term",
            meta.index, meta.id,
        )
    meta.seq_no, meta.primary_term = chosen
    return True


def _why(members: list[tuple[bool, str]], candidates: list[tuple[int, int]]) -> str:
    if candidates:
        return "it changed since that version"
    if all(weak for weak, _ in members):
        return "a weak ETag never matches for a write (RFC 9110 compares strongly)"
    return "the ETag is not one of this document in its index (read before it was migrated, or not this service's)"
