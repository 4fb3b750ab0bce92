"""Deleting what a test created under its index prefix, over plain HTTP."""

from __future__ import annotations

import urllib.parse
from typing import Any

from odm.testing._errors import NodeError
from odm.testing._http import request_json

__all__ = ["delete_prefixed"]


def delete_prefixed(url: str, prefix: str) -> None:
    """Delete every data stream, index (hidden ones too), index template, component
    template and legacy template whose name starts with ``prefix``.

    Data streams go first: their templates cannot be deleted while they exist. A node
    without the data-streams module (odm's throwaway node) has no API for them.

    Names are listed first and deleted by name, so this also works on clusters where
    ``action.destructive_requires_name`` forbids wildcard deletes.

    Raises:
        ValueError: ``prefix`` is empty or holds a wildcard or comma.
        NodeError: a listing or a delete failed.
    """
    if not prefix or any(c in prefix for c in "*?,"):
        raise ValueError(f"refusing to delete by the prefix {prefix!r}")
    pattern = urllib.parse.quote(prefix + "*", safe="*")
    streams = _get(url, f"/_data_stream/{pattern}?expand_wildcards=all", absent=(400, 404))
    _delete(url, "/_data_stream", sorted(s["name"] for s in (streams or {}).get("data_streams", ())))
    indices = _get(url, f"/_cat/indices/{pattern}?h=index&format=json&expand_wildcards=all")
    _delete(url, "", sorted(row["index"] for row in indices or ()))
    templates = _get(url, f"/_index_template/{pattern}")
    _delete(url, "/_index_template", sorted(t["name"] for t in (templates or {}).get("index_templates", ())))
    components = _get(url, f"/_component_template/{pattern}")
    _delete(url, "/_component_template", sorted(c["name"] for c in (components or {}).get("component_templates", ())))
    _delete(url, "/_template", sorted(_get(url, f"/_template/{pattern}") or {}))


def _get(url: str, path: str, absent: tuple[int, ...] = (404,)) -> Any:
    status, body = request_json("GET", url + path)
    if status in absent:
        return None
    if status != 200:
        raise NodeError(f"GET {path} answered {status}: {body}")
    return body


def _delete(url: str, base: str, names: list[str]) -> None:
    if not names:
        return
    path = f"{base}/{urllib.parse.quote(','.join(names), safe=',')}"
    status, body = request_json("DELETE", url + path)
    if status not in (200, 404):
        raise NodeError(f"DELETE {path} answered {status}: {body}")
