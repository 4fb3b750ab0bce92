"""Tenancy's pure rules: which tenant an operation acts for, and what that adds to a request.

A class with ``Index.tenant_field`` is tenant-scoped (docs/tenancy.md). Its data operations
need a :class:`TenantView`: one tenant (``Ticket.for_tenant("acme")``) or, asked for by
name, every tenant (``Ticket.unscoped()``). The scope handle (``odm/tenancy.py``) grants
the view to the one class call it makes, through :func:`admit`; the call takes it with
:func:`admitted`, which refuses an operation that has none (:class:`UnscopedAccessError`):
a forgotten scope fails closed. A grant is taken once: code the call runs afterwards (an
async iterable given to a bulk) is not granted anything.

Searches carry their view (:func:`scoped_body` adds the tenant's filter to every request
body they send); documents read or written through a scope carry their tenant in
``meta.tenant``, so their own writes act in that scope.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from ..errors import ArgumentError, TenantError, UnscopedAccessError
from .document_options import DocumentOptions, options_of

__all__ = [
    "TenantView",
    "admit",
    "admitted",
    "check_values",
    "check_tenant",
    "hide_foreign",
    "mark",
    "owns",
    "refuse_unscoped",
    "scoped_body",
    "stamp",
    "tenant_alias",
    "view_of_document",
]

_MAX_TENANT_BYTES = 255
# Printable and without characters an index or alias name refuses, so that a tenant can name
# its filtered alias; anything else (a header value with a comma, a wildcard) is refused.
_TENANT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@+=~-]*")


@dataclass(frozen=True, slots=True)
class TenantView:
    """What a tenant-scoped operation acts for: ``tenant``, or every tenant when it is ``None``.

    Attributes:
        field: the tenant field (python name); ``stored``: its name in ``_source``.
    """

    field: str
    stored: str
    tenant: str | None
    routing: bool = False

    @classmethod
    def of(cls, document: type[BaseModel], tenant: str | None) -> TenantView:
        """The view of ``document`` for ``tenant`` (checked), or for every tenant.

        Raises:
            ArgumentError: ``document`` is not tenant-scoped.
            TenantError: an empty or malformed tenant.
        """
        options = options_of(document)
        if options.tenant_field is None or options.tenant_source_name is None:
            raise ArgumentError(
                f"{document.__name__} is not tenant-scoped: declare Index.tenant_field to use for_tenant()/unscoped()"
            )
        checked = None if tenant is None else check_tenant(tenant, options)
        return cls(options.tenant_field, options.tenant_source_name, checked, options.tenant_routing)

    @property
    def route(self) -> str | None:
        """The shard routing of this tenant's documents (``Index.tenant_routing``), else ``None``."""
        return self.tenant if self.routing else None


def check_tenant(tenant: object, options: DocumentOptions | None = None) -> str:
    """``tenant``, checked: a non-empty string of letters, digits and ``_.@+=~-``, 255 bytes at most.

    Raises:
        TenantError: anything else (``None``, ``""``, a comma or a wildcard, a control character).
    """
    field = options.tenant_field if options is not None else None
    if not isinstance(tenant, str) or not tenant:
        raise TenantError(
            f"a tenant is a non-empty string, not {tenant!r}", options.name if options else None, field=field, reason="tenant"
        )
    if len(tenant.encode()) > _MAX_TENANT_BYTES or not _TENANT.fullmatch(tenant):
        raise TenantError(
            f"tenant {tenant[:80]!r} is not usable: a tenant is 1 to {_MAX_TENANT_BYTES} bytes of letters, digits "
            "and _.@+=~- (starting with a letter or digit)", options.name if options else None, field=field,
            reason="tenant",
        )
    return tenant


def tenant_alias(index: str, tenant: str) -> str:
    """The name of ``tenant``'s filtered alias of ``index``: ``<index>.tenant.<tenant>``, lower-cased.

    Alias names are lower case; tenants differing only by case share an alias name, so
    :func:`check_tenant` is not enough: the scope refuses aliases for a tenant with capitals.
    """
    return f"{index}.tenant.{tenant}"


# -- the grant of one call ---------------------------------------------------------------------

_GRANT: ContextVar[tuple[type[Any], TenantView] | None] = ContextVar("odm_tenant_grant", default=None)


@contextlib.contextmanager
def admit(document: type[Any], view: TenantView | None) -> Iterator[None]:
    """Grant ``view`` to the next tenant-scoped operation of ``document`` (a scope's own call); nothing if ``None``."""
    if view is None:
        yield
        return
    token = _GRANT.set((document, view))
    try:
        yield
    finally:
        _GRANT.reset(token)


def admitted(document: type[Any], operation: str, meta_tenant: str | None = None) -> TenantView | None:
    """The view ``operation`` of ``document`` acts for; ``None`` if the class is not tenant-scoped.

    The grant of :func:`admit` is taken (once); else a document's own ``meta.tenant`` (an
    instance operation) is its view.

    Raises:
        UnscopedAccessError: the class is tenant-scoped and nothing names a tenant.
    """
    options = options_of(document)
    if options.tenant_field is None:
        return None
    grant = _GRANT.get()
    if grant is not None and issubclass(document, grant[0]):  # a scope of Ticket writes a SpecialTicket too
        _GRANT.set(None)
        return grant[1]
    if meta_tenant is not None:
        return TenantView.of(document, meta_tenant)
    raise refuse_unscoped(document, operation)


def refuse_unscoped(document: type[Any], operation: str) -> UnscopedAccessError:
    """The refusal of ``operation`` of a tenant-scoped class without a tenant."""
    return UnscopedAccessError(document.__name__, operation, options_of(document).tenant_field or "?")


# -- documents ------------------------------------------------------------------------------


def stamp(document: BaseModel, view: TenantView, index: str | None) -> None:
    """Give ``document`` its scope's tenant before a write, or refuse another tenant's document.

    The tenant field is set when it was not set (or is ``None``); a value that differs
    from the scope's is refused, never overwritten. Through the unscoped view, the
    document must name its tenant itself: one without would be seen by no scope.

    Raises:
        TenantError: the document holds another tenant, or (unscoped) none or a malformed one.
    """
    current = getattr(document, view.field, None)
    if view.tenant is None:
        if current is None or current == "":
            raise TenantError(
                f"a {type(document).__name__} written through the unscoped view must name its tenant in "
                f"{view.field!r}: without one no scope would ever see it", index,
                getattr(getattr(document, "meta", None), "id", None), view.field,
            )
        check_tenant(current, options_of(type(document)))
        return
    if current == view.tenant:
        return
    if current is None or view.field not in document.model_fields_set:
        setattr(document, view.field, view.tenant)
        return
    raise TenantError(
        f"this {type(document).__name__} holds tenant {current!r}, not the scope's {view.tenant!r}: a scope writes its "
        "own tenant's documents only", index, getattr(getattr(document, "meta", None), "id", None), view.field,
    )


def check_values(view: TenantView, values: Mapping[str, Any], index: str | None, doc_id: str | None) -> None:
    """Refuse update values that would move a document to another tenant.

    Raises:
        TenantError: ``values`` sets the tenant field (by its name or stored name) to another tenant.
    """
    if view.tenant is None:
        return
    for key in {view.field, view.stored}:
        if key in values and values[key] != view.tenant:
            raise TenantError(
                f"an update cannot move a document to tenant {values[key]!r} from the scope's {view.tenant!r}",
                index, doc_id, view.field,
            )


def mark(document: Any, view: TenantView | None) -> None:
    """Record on a document read or written through ``view`` the tenant it was for."""
    if document is not None and view is not None and view.tenant is not None:
        document.meta.tenant = view.tenant


def owns(view: TenantView, source: Any) -> bool:
    """Whether a stored ``_source`` is of ``view``'s tenant (always, for the unscoped view)."""
    if view.tenant is None:
        return True
    return isinstance(source, Mapping) and source.get(view.stored) == view.tenant


def hide_foreign(view: TenantView | None, found: Mapping[str, Any]) -> Mapping[str, Any]:
    """A get or mget entry as this view may see it: another tenant's document is not found.

    The entry is rewritten as Elasticsearch writes a missing document's (``found: false``,
    nothing more), so the answer to another tenant's id is the answer to a missing one.
    """
    if view is None or found.get("found") is not True or owns(view, found.get("_source")):
        return found
    return {"_index": found.get("_index"), "_id": found.get("_id"), "found": False}


def view_of_document(document: Any, operation: str) -> TenantView | None:
    """The view an instance operation acts for: the scope's grant, else the document's ``meta.tenant``."""
    return admitted(type(document), operation, document.meta.tenant)


# -- searches -------------------------------------------------------------------------------


def scoped_body(
    models: list[type[BaseModel]], view: TenantView | None, body: dict[str, Any], params: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """A search (or count, update/delete by query) body limited to ``view``'s tenant.

    The tenant's ``term`` filter wraps whatever query the body has, so no later
    ``query()`` or ``filter()`` call can widen it.

    Raises:
        UnscopedAccessError: a model is tenant-scoped and the search has no view.
        TenantError: a part of the body, or the ``q`` parameter (which replaces the
            body's query), would read past the tenant's filter.
    """
    scoped = [model for model in models if options_of(model).tenant_field is not None]
    if not scoped:
        return body
    if view is None:
        raise refuse_unscoped(scoped[0], "search()")
    if view.tenant is None:
        return body
    name = scoped[0].__name__
    if params and params.get("q") is not None:
        raise TenantError(f"a tenant scope's search of {name} cannot take params(q=...): it replaces the query")
    for key in params or ():
        if key.startswith("suggest") and params[key] is not None:  # type: ignore[index]
            raise TenantError(
                f"a tenant scope's search of {name} cannot take params({key}=...): URL suggesters read the whole "
                "index's terms"
            )
    term = {"term": {view.stored: view.tenant}}
    _refuse_unfiltered(body, name)
    _refuse_fetches(body, name)
    for key in ("aggs", "aggregations"):
        if isinstance(body.get(key), Mapping):
            body[key] = _scoped_aggs(body[key], term)
    query = body.get("query")
    body["query"] = {"bool": {"filter": [term], **({"must": [query]} if query else {})}}
    if "knn" in body:  # a top-level kNN search is not limited by the query: its own filter is
        searches = body["knn"] if isinstance(body["knn"], list) else [body["knn"]]
        body["knn"] = [_with_filter(search, term) for search in searches]
    return body


#: Parts of a body that Elasticsearch runs over the whole index, whatever the query says.
_UNFILTERED_SECTIONS = {"suggest": "suggesters read the whole index's terms", "retriever": "retrievers replace the query"}
_UNFILTERED_AGGS = {
    "global": "a global aggregation ignores the query",
    "significant_terms": "its background set is the whole index (give a background_filter)",
    "significant_text": "its background set is the whole index (give a background_filter)",
}


#: Aggregations whose ``min_doc_count: 0`` lists every term of the shard's field, whatever the query.
_ALL_TERMS_AGGS = ("terms", "significant_terms", "significant_text")


def _refuse_unfiltered(body: Mapping[str, Any], document: str) -> None:
    """Refuse what would read other tenants' data past the query's filter.

    Raises:
        TenantError: a ``suggest`` or ``retriever`` section, a ``global`` aggregation,
            significant terms/text without a ``background_filter``, or a terms or significant
            terms/text aggregation with ``min_doc_count: 0``.
    """
    for key, why in _UNFILTERED_SECTIONS.items():
        if key in body:
            raise TenantError(f"a tenant scope's search of {document} cannot have {key!r}: {why}")
    pending = [body.get("aggs"), body.get("aggregations")]
    while pending:
        aggs = pending.pop()
        if not isinstance(aggs, Mapping):
            continue
        for definition in aggs.values():
            if not isinstance(definition, Mapping):
                continue
            for kind, why in _UNFILTERED_AGGS.items():
                inner = definition.get(kind)
                if inner is not None and not (isinstance(inner, Mapping) and "background_filter" in inner):
                    raise TenantError(f"a tenant scope's search of {document} cannot have a {kind} aggregation: {why}")
            for kind in _ALL_TERMS_AGGS:
                inner = definition.get(kind)
                if isinstance(inner, Mapping) and inner.get("min_doc_count") in (0, "0"):
                    raise TenantError(
                        f"a tenant scope's search of {document} cannot have a {kind} aggregation with min_doc_count=0: "
                        "it lists the terms of every tenant's documents"
                    )
            pending += [definition.get("aggs"), definition.get("aggregations")]


def _with_filter(search: Any, term: dict[str, Any]) -> Any:
    if not isinstance(search, Mapping):
        return search
    existing = search.get("filter")
    filters = [] if existing is None else existing if isinstance(existing, list) else [existing]
    return {**search, "filter": [term, *filters]}


def _scoped_aggs(aggs: Mapping[str, Any], term: dict[str, Any]) -> dict[str, Any]:
    """``aggs`` (copied) with every significant terms/text ``background_filter`` limited to the tenant.

    A background filter is a query of its own, run past the search's: it gets the tenant's
    filter, so ``bg_count`` counts this tenant's documents only.
    """
    scoped: dict[str, Any] = {}
    for name, definition in aggs.items():
        if isinstance(definition, Mapping):
            definition = dict(definition)
            for kind in ("significant_terms", "significant_text"):
                inner = definition.get(kind)
                if isinstance(inner, Mapping) and "background_filter" in inner:
                    wrapped = {"bool": {"filter": [term, inner["background_filter"]]}}
                    definition[kind] = {**inner, "background_filter": wrapped}
            for key in ("aggs", "aggregations"):
                if isinstance(definition.get(key), Mapping):
                    definition[key] = _scoped_aggs(definition[key], term)
        scoped[name] = definition
    return scoped


def _refuse_fetches(body: Any, document: str) -> None:
    """Refuse query clauses that read a stored document by id, which no query filter limits.

    Raises:
        TenantError: a terms lookup, a ``more_like_this`` like/unlike of a stored document
            (``_id``), an ``indexed_shape`` (``geo_shape``, ``shape``) or a ``percolate`` of a
            stored document (``id``) anywhere in the body.
    """
    pending = [body]
    while pending:
        node = pending.pop()
        if isinstance(node, list):
            pending += node
            continue
        if not isinstance(node, Mapping):
            continue
        why = None
        terms = node.get("terms")
        if isinstance(terms, Mapping) and any(
            isinstance(value, Mapping) and "id" in value and ("index" in value or "path" in value) for value in terms.values()
        ):
            why = "a terms lookup (index/id) reads a stored document"
        for key in ("more_like_this", "mlt"):
            clause = node.get(key)
            if isinstance(clause, Mapping):
                for side in ("like", "unlike"):
                    items = clause.get(side)
                    items = items if isinstance(items, list) else [items]
                    if any(isinstance(item, Mapping) and "_id" in item for item in items):
                        why = f"more_like_this {side} of a stored document (_id) reads it"
        if "indexed_shape" in node:
            why = "an indexed_shape reads a stored document"
        percolate = node.get("percolate")
        if isinstance(percolate, Mapping) and "id" in percolate:
            why = "a percolate of a stored document (id) reads it"
        if why is not None:
            raise TenantError(f"a tenant scope's search of {document} cannot fetch a document by id: {why}, past the tenant's filter")
        pending += node.values()
