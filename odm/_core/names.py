"""Checks of document ids and index names, made before any request is sent.

The HTTP layer normalises dot segments: ``DELETE /posts/_doc/..`` reaches the
server as ``DELETE /posts/`` and deletes the index. So ids and names are checked here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..errors import InvalidIdError, InvalidIndexNameError

__all__ = ["check_alias_name", "check_id", "check_index_name", "check_index_pattern", "check_write_index"]

_MAX_ID_BYTES = 512
_MAX_INDEX_BYTES = 255
# Elasticsearch's rules (MetadataCreateIndexService.validateIndexOrAliasName): the same
# characters are refused in index and alias names; only index names must be lower case,
# judged as Java's toLowerCase(Locale.ROOT) judges it, which str.lower() matches.
_FORBIDDEN_NAME_CHARS = re.compile(r'[\\/*?"<>| ,#:]')
# Where several indices are meant, "*" and "," are the syntax, and ":" names a remote
# cluster (``other:posts``); a target may be an alias, so upper case is allowed.
_FORBIDDEN_PATTERN_CHARS = re.compile(r'[\\/?"<>| #]')


def check_id(id: object) -> str:
    """Return ``id`` as a string if it is safe to put in a request path.

    Raises:
        InvalidIdError: empty, ``.``/``..``, over 512 bytes, or not a str/int.
    """
    # Every write checks its id: the common case (a str of at most 128 characters, so at
    # most 512 bytes in UTF-8, not one of the three refused) is decided without encoding it.
    if type(id) is str and len(id) <= _MAX_ID_BYTES // 4 and id not in ("", ".", ".."):
        return id
    if isinstance(id, bool) or not isinstance(id, (str, int)):
        raise InvalidIdError(f"a document id must be a str or int, not {type(id).__name__}")
    text = str(id)
    if text in ("", ".", ".."):
        raise InvalidIdError(f"document id {text!r} is not allowed: it would change the request path")
    if len(text.encode()) > _MAX_ID_BYTES:
        raise InvalidIdError(f"document id is {len(text.encode())} bytes; Elasticsearch allows 512")
    return text


def check_index_name(name: str) -> str:
    """Return ``name`` if it names one concrete index by Elasticsearch's rules.

    Raises:
        InvalidIndexNameError: empty, ``.``/``..``, upper case, a wildcard, comma, or another
            forbidden character, a leading ``-``/``_``/``+``, or over 255 bytes.
    """
    return _check(name, _FORBIDDEN_NAME_CHARS, "an index name", lower_case=True)


def check_write_index(name: str, allow_dot_prefix: bool = False, data_stream: str | None = None) -> str:
    """Return ``name`` if odm may write to it or create it: :func:`check_index_name`, and no leading dot.

    Names that start with a dot are Elasticsearch's system and hidden indices
    (``.security``, ``.security-7``, ``.kibana``, ``.tasks``...): a class or a value that
    names one by mistake must not create it or write into it. Reads are not refused.

    Args:
        allow_dot_prefix: the caller asked for it by name (``class Index: allow_dot_prefix = True``).
        data_stream: the data stream the caller writes: its backing indices
            (``.ds-<data_stream>-...``, where its documents are stored) are allowed.

    Raises:
        InvalidIndexNameError: as :func:`check_index_name`, or a dot-prefixed name not allowed.
    """
    checked = check_index_name(name)
    backing = data_stream is not None and checked.startswith(f".ds-{data_stream}-")
    if checked.startswith(".") and not allow_dot_prefix and not backing:
        raise InvalidIndexNameError(
            f"index {checked!r} starts with '.', the names of system and hidden indices (.security, .kibana, ...): "
            f"odm does not create or write to one unless the class allows it (class Index: allow_dot_prefix = True)"
        )
    return checked


def check_alias_name(name: str) -> str:
    """Return ``name`` if it is a valid alias name: the index name rules, upper case allowed.

    Raises:
        InvalidIndexNameError: empty, ``.``/``..``, a wildcard, comma or another forbidden
            character, a leading ``-``/``_``/``+``, or over 255 bytes.
    """
    return _check(name, _FORBIDDEN_NAME_CHARS, "an alias name")


def check_index_pattern(names: str | Sequence[str], lower_case: bool = False) -> list[str]:
    """Check names where several indices are meant (search): wildcards and commas allowed.

    Args:
        lower_case: refuse upper case (template patterns, which match index names); a
            search target may be an alias, and aliases may be upper case.

    Raises:
        InvalidIndexNameError: no name at all (``[]``), or an empty part (``""``, ``","``,
            ``["a,"]``): sent as it is, that would select every index; or a forbidden
            character (``?``, ``"``, space, ...).
    """
    items = [names] if isinstance(names, str) else list(names)
    if not items:
        raise InvalidIndexNameError("no index given: an empty list would select every index")
    parts = [part for item in items for part in (item.split(",") if isinstance(item, str) else [item])]
    checked = []
    for part in parts:
        if not isinstance(part, str):
            raise InvalidIndexNameError(f"an index pattern must be a str, not {type(part).__name__}: {names!r}")
        if part == "_all":
            checked.append(part)
            continue
        bare = part[1:] if part.startswith("-") and len(parts) > 1 else part
        _check(bare, _FORBIDDEN_PATTERN_CHARS, "an index pattern", lower_case)
        checked.append(part)
    return checked


def _check(name: object, forbidden: re.Pattern[str], what: str, lower_case: bool = False) -> str:
    if not isinstance(name, str):
        raise InvalidIndexNameError(f"{what} must be a str, not {type(name).__name__}")
    if name in ("", ".", ".."):
        raise InvalidIndexNameError(f"{name!r} is not allowed as {what}")
    if name[0] in "-_+":
        raise InvalidIndexNameError(f"{what} must not start with '-', '_' or '+': {name!r}")
    bad = forbidden.search(name)
    if bad:
        raise InvalidIndexNameError(f"{what} must not contain {bad.group()!r}: {name!r}")
    if lower_case and name.lower() != name:
        raise InvalidIndexNameError(f"{what} must be lower case: {name!r}")
    if len(name.encode()) > _MAX_INDEX_BYTES:
        raise InvalidIndexNameError(f"{what} is over 255 bytes: {name[:40]!r}...")
    return name
