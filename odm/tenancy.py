"""``TenantScope[D]``: every operation of a tenant-scoped document class, limited to one tenant.

``Ticket.for_tenant("acme")`` gives the scope of tenant ``acme``; ``Ticket.unscoped()``
the view across every tenant, asked for by name (docs/tenancy.md). The scope calls the
class's own operations, granting each its view (``_core.tenancy.admit``); the class
refuses them without one, so a forgotten scope fails closed.

Below ``odm.document``: it names ``AsyncDocument`` for type checkers only, and reaches the
class's operations through the class it is given. ``claim`` is the one check of a stored
id before a scoped write: whose document it is, and its concurrency tokens.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, overload

from elastic_transport import ApiResponseMeta, HttpHeaders
from elasticsearch import AsyncElasticsearch, NotFoundError
from typing_extensions import Unpack

from ._core.document_options import options_of
from ._core.names import check_index_name
from ._core.sentinel import NOT_GIVEN, NotGiven
from ._core.tenancy import TenantView, admit, check_values, owns, stamp, tenant_alias
from ._sending import send
from .bulk import BulkInput, BulkOptions, BulkResult, CreateAction, DeleteAction, IndexAction, UpdateAction
from .connections import UsingType, get_client
from .errors import DocumentNotFoundError, TenantError, not_found
from .search._faceted import AsyncFacetedSearch
from .search._search import AsyncSearch
from .update_by_query import AsyncUpdateByQuery

if TYPE_CHECKING:
    from .document import AsyncDocument, Refresh

__all__ = ["TenantScope"]  # claim, not_theirs: the document's, not public

D = TypeVar("D", bound="AsyncDocument")
F = TypeVar("F", bound=AsyncFacetedSearch[Any])


class TenantScope(Generic[D]):
    """The operations of ``document`` for one tenant (or, unscoped, for every tenant).

    Reads see that tenant's documents only: another tenant's document is answered
    exactly as a missing one. Writes stamp the tenant on documents that have none and
    refuse one that holds another. Example::

        acme = Ticket.for_tenant("acme")
        ticket = await acme.get("t1")                 # Ticket, or DocumentNotFoundError
        await acme.save(Ticket(title="Printer"))      # tenant="acme" stamped
        open_ = await acme.search().filter(Ticket.status == "open").count()

    Attributes:
        document: the class; ``tenant``: the tenant, ``None`` for the unscoped view.
    """

    __slots__ = ("document", "tenant", "_view")

    def __init__(self, document: type[D], tenant: str | None, *, unscoped: bool = False) -> None:
        """Use ``Ticket.for_tenant(tenant)`` or ``Ticket.unscoped()``.

        Raises:
            ArgumentError: the class declares no ``Index.tenant_field``.
            TenantError: an empty or malformed tenant; ``None`` without ``unscoped=True`` (a
                missing tenant never widens to every tenant).
        """
        if unscoped != (tenant is None):
            raise TenantError(
                f"a tenant is a non-empty string, not {tenant!r}" if not unscoped
                else "the unscoped view has no tenant", options_of(document).name, reason="tenant",
            )
        self._view = TenantView.of(document, tenant)
        self.document = document
        self.tenant = self._view.tenant

    def __repr__(self) -> str:
        who = "unscoped" if self.tenant is None else f"tenant={self.tenant!r}"
        return f"TenantScope({self.document.__name__}, {who})"

    # -- reads ------------------------------------------------------------------------------

    def search(self, using: UsingType | None = None, index: str | list[str] | None = None) -> AsyncSearch[D]:
        """A search of this tenant's documents (every request it sends carries the tenant's filter).

        With ``Index.tenant_aliases``, it goes through the tenant's filtered alias
        (:meth:`create_alias`) unless ``index`` is given.

        Raises:
            TenantError: (when sent) a suggester (or ``suggest_*`` parameter), retriever, global
                or unbounded significant terms aggregation, a terms aggregation with
                ``min_doc_count=0``, a query fetching a document by id: they read past the query.
        """
        if index is None and self.tenant is not None and options_of(self.document).tenant_aliases:
            index = self.alias_name()
        with admit(self.document, self._view):
            search = self.document.search(using=using, index=index)
        return search.params(routing=self._view.route) if self._view.route is not None else search

    async def count(self, using: UsingType | None = None) -> int:
        """The number of this tenant's documents."""
        return await self.search(using=using).count()

    def update_by_query(self, using: UsingType | None = None, index: str | list[str] | None = None) -> AsyncUpdateByQuery[D]:
        """An update by query over this tenant's documents (a script may still change the tenant field: odm does not read scripts)."""
        with admit(self.document, self._view):
            return self.document.update_by_query(using=using, index=index)

    def faceted(self, search: F) -> F:
        """``search`` (an :class:`~odm.AsyncFacetedSearch` of this class) limited to this tenant.

        Example: ``response = await acme.faceted(TicketSearch("printer")).execute()``
        """
        search._s = self._scoped(search._s)
        return search

    def _scoped(self, search: AsyncSearch[Any]) -> AsyncSearch[Any]:
        scoped = search._clone()
        scoped._odm_tenancy = self._view
        return scoped

    async def get(self, id: str | int, index: str | None = None, using: UsingType | None = None) -> D:
        """This tenant's document ``id``.

        Raises:
            DocumentNotFoundError: no such document, or another tenant's (the same error).
        """
        with admit(self.document, self._view):
            return await self.document.get(id, index=index, using=using)

    async def get_or_none(self, id: str | int, index: str | None = None, using: UsingType | None = None) -> D | None:
        """This tenant's document ``id``, or ``None`` (also for another tenant's)."""
        with admit(self.document, self._view):
            return await self.document.get_or_none(id, index=index, using=using)

    @overload
    async def mget(
        self, ids: Iterable[str | int], index: str | None = None, using: UsingType | None = None,
        missing: Literal["none"] = "none",
    ) -> list[D | None]: ...
    @overload
    async def mget(
        self, ids: Iterable[str | int], index: str | None = None, using: UsingType | None = None, *,
        missing: Literal["raise", "skip"],
    ) -> list[D]: ...
    async def mget(
        self, ids: Iterable[str | int], index: str | None = None, using: UsingType | None = None,
        missing: Literal["none", "raise", "skip"] = "none",
    ) -> list[D | None] | list[D]:
        """This tenant's documents of ``ids``, in order; another tenant's count as missing."""
        with admit(self.document, self._view):
            return await self.document.mget(ids, index=index, using=using, missing=missing)

    async def exists(self, id: str | int, index: str | None = None, using: UsingType | None = None) -> bool:
        """Whether this tenant has a document ``id`` (``False`` for another tenant's)."""
        with admit(self.document, self._view):
            return await self.document.exists(id, index=index, using=using)

    # -- writes ------------------------------------------------------------------------------

    async def save(self, document: D, **options: Any) -> str:
        """Save ``document`` for this tenant (its tenant stamped if it has none), as ``document.save()``.

        Raises:
            TenantError: the document holds another tenant, or its (client-chosen) id is
                taken by a document of another tenant; nothing was sent.
        """
        with admit(self.document, self._view):
            return await document.save(**options)

    async def update(self, document: D, values: Mapping[str, Any] | None = None, /, **options: Any) -> str:
        """``document.update(values, **options)`` in this scope (as ``update()`` takes them).

        Example: ``await acme.update(ticket, body.model_dump(exclude_unset=True), refresh=True)``

        Raises:
            TenantError: the values move it to another tenant; nothing was sent.
            DocumentNotFoundError: it is not (or no longer) this tenant's.
        """
        with admit(self.document, self._view):
            return await document.update(values, **options)

    async def delete(self, document: D, **options: Any) -> None:
        """``document.delete()`` in this scope.

        Raises:
            DocumentNotFoundError: it is not (or no longer) this tenant's.
        """
        with admit(self.document, self._view):
            await document.delete(**options)

    async def update_by_id(self, id: str | int, values: Mapping[str, Any] | None = None, /, **options: Any) -> str:
        """``update_by_id(id, values, **options)`` of this tenant's document ``id`` (as the class's takes them).

        Raises:
            DocumentNotFoundError: no such document of this tenant (another tenant's included).
            TenantError: the values move it to another tenant.
        """
        with admit(self.document, self._view):
            return await self.document.update_by_id(id, values, **options)

    async def delete_by_id(
        self, id: str | int, index: str | None = None, using: UsingType | None = None,
        refresh: Refresh | NotGiven = NOT_GIVEN,
    ) -> None:
        """Delete this tenant's document ``id``.

        Raises:
            DocumentNotFoundError: no such document of this tenant (another tenant's included).
        """
        with admit(self.document, self._view):
            await self.document.delete_by_id(id, index=index, using=using, refresh=refresh)

    async def bulk(
        self,
        documents: Iterable[BulkInput[D]] | AsyncIterable[BulkInput[D]],
        using: UsingType | None = None,
        **options: Unpack[BulkOptions],
    ) -> BulkResult[D]:
        """A bulk write of this tenant's documents; every action is checked before anything is sent.

        The input is read whole first. Documents are stamped (another tenant's is
        refused); updates and deletes by id are of this tenant's documents, read first
        (one mget) and then written with their concurrency tokens, so a write never
        reaches a document of another tenant.

        Raises:
            TenantError: a document holds another tenant, or a client-chosen id is taken by
                another tenant's document; nothing was sent.
            DocumentNotFoundError: an update or delete by id names no document of this
                tenant (missing or another tenant's: the same error, naming every such id).
        """
        actions = [item async for item in documents] if isinstance(documents, AsyncIterable) else list(documents)
        if self.tenant is not None:
            actions = await self._checked(actions, using, options.get("index"))
        with admit(self.document, self._view):
            return await self.document.bulk(actions, using=using, **options)

    async def _checked(self, actions: list[BulkInput[D]], using: UsingType | None, index: str | None) -> list[BulkInput[D]]:
        """Every action of a scoped bulk, checked and made safe before anything is sent.

        Documents are stamped; updates and deletes (by id or of a document) become updates and
        deletes of this tenant's loaded documents (sent with their tokens); an index action of a
        given id is sent as a create when the id is free, and refused when another tenant holds
        it. Each id is checked in the index its action writes to (``IndexAction(index=...)``,
        else ``bulk(index=...)``, else ``meta.index``, else ``Index.name``).
        """
        cls = self.document
        targets: dict[str, list[str]] = {}  # updates and deletes: index -> ids, loaded by mget
        given_ids: dict[str, list[str]] = {}  # index actions of a client-chosen id: index -> ids
        for action in actions:
            document = _subject(action)
            own_index = getattr(action, "index", None)
            if isinstance(document, cls):
                name = _target_index(cls, own_index, index, document.meta.index)
                stamp(document, self._view, name)
                document.meta.tenant = self.tenant
                if self._view.route is not None and document.meta.routing is None:
                    document.meta.routing = self._view.route
                if isinstance(action, UpdateAction):
                    check_values(self._view, action.fields, name, document.meta.id)
                if isinstance(action, (UpdateAction, DeleteAction)):
                    if document.meta.id is None:
                        raise TenantError(
                            f"a scoped bulk {type(action).__name__} needs the document's id (meta.id)", name,
                            field=self._view.field,
                        )
                    targets.setdefault(name, []).append(str(document.meta.id))
                elif not isinstance(action, CreateAction) and document.meta.id is not None:
                    given_ids.setdefault(name, []).append(str(document.meta.id))
            elif isinstance(document, (str, int)):
                name = _target_index(cls, own_index, index, None)
                targets.setdefault(name, []).append(str(document))
                if isinstance(action, UpdateAction):
                    check_values(self._view, action.fields, name, str(document))
        loaded: dict[tuple[str, str], Any] = {}
        for name, ids in targets.items():
            found = await self.mget(ids, index=name, using=using)
            absent = [doc_id for doc_id, doc in zip(ids, found) if doc is None]
            if absent:
                answer = ApiResponseMeta(404, "1.1", HttpHeaders(), 0.0, None)  # type: ignore[arg-type]
                entries = [{"_index": name, "_id": doc_id, "found": False} for doc_id in absent]
                raise DocumentNotFoundError(name, absent[0], answer, {"docs": entries}, ids=absent)
            loaded.update({(name, str(doc.meta.id)): doc for doc in found if doc is not None})
        free: set[tuple[str, str]] = set()
        client = get_client(using if using is not None else options_of(cls).using)
        stored, route = [self._view.stored], self._view.route
        for name, ids in given_ids.items():
            raw = await send(client, lambda quiet: quiet.mget(index=name, ids=ids, source_includes=stored, routing=route))
            for entry in raw.body["docs"]:
                if entry.get("found") is not True:
                    free.add((name, entry["_id"]))
                elif not owns(self._view, entry.get("_source")):
                    raise TenantError(
                        f"id {entry['_id']!r} is taken by a document this scope cannot see: choose another id, or "
                        "let Elasticsearch choose one", name, entry["_id"], self._view.field, reason="id_taken",
                    )
        return [_made_safe(cls, action, index, loaded, free) for action in actions]

    # -- filtered aliases --------------------------------------------------------------------

    def alias_name(self, index: str | None = None) -> str:
        """The name of this tenant's filtered alias: ``<Index.name>.tenant.<tenant>``.

        Raises:
            TenantError: the unscoped view has no alias, or the tenant has upper-case letters
                (alias names are lower case).
        """
        if self.tenant is None:
            raise TenantError("the unscoped view has no tenant alias", index)
        if self.tenant != self.tenant.lower():
            raise TenantError(f"tenant {self.tenant!r} cannot name an alias (alias names are lower case)", index)
        return check_index_name(tenant_alias(self.document.index_name(index), self.tenant))

    async def create_alias(self, index: str | None = None, using: UsingType | None = None) -> str:
        """Create (or update) this tenant's filtered alias of the class's index, and return its name.

        Elasticsearch applies the alias's filter to every search through it, the raw
        client's and other tools' too (not to a get by id, which odm checks itself); with
        ``Index.tenant_routing`` the alias also routes by tenant.
        """
        view = self._view
        alias = self.alias_name(index)
        body: dict[str, Any] = {"filter": {"term": {view.stored: view.tenant}}}
        if view.route is not None:
            body["routing"] = view.route
        client = get_client(using if using is not None else options_of(self.document).using)
        target = self.document.index_name(index)
        await client.indices.put_alias(index=target, name=alias, **body)
        return alias


def _subject(action: Any) -> Any:
    """The document (or id) a bulk input acts on."""
    if isinstance(action, (IndexAction, CreateAction)):
        return action.document
    if isinstance(action, (UpdateAction, DeleteAction)):
        return action.target
    return action


def _target_index(cls: Any, own: str | None, bulk: str | None, stored: str | None) -> str:
    """The index a bulk action writes to, as ``bulk()`` picks it: the action's, the bulk's, ``meta.index``, ``Index.name``."""
    given = own if own is not None else bulk if bulk is not None else stored
    return str(cls.index_name(given))


def _made_safe(
    cls: Any, action: Any, index: str | None, loaded: Mapping[tuple[str, str], Any], free: set[tuple[str, str]]
) -> Any:
    """An update or delete as one of the loaded document (sent with its tokens); an index of a
    free id as a create (so it cannot replace a document written meanwhile)."""
    document = _subject(action)
    if isinstance(action, (UpdateAction, DeleteAction)):
        pinned: dict[str, Any] = {"if_unchanged": NOT_GIVEN} if action.if_unchanged is False else {}
        if isinstance(action, UpdateAction):
            pinned["retry_on_conflict"] = None  # the tokens replace retries
        if isinstance(document, (str, int)):
            name = _target_index(cls, action.index, index, None)
            return dataclasses.replace(action, target=loaded[(name, str(document))], document_class=None, **pinned)
        if isinstance(document, cls):
            name = _target_index(cls, action.index, index, document.meta.index)
            stored = loaded[(name, str(document.meta.id))]
            meta = document.meta
            if meta.seq_no is None or meta.primary_term is None or meta.index != stored.meta.index:
                meta.seq_no, meta.primary_term, meta.index = stored.meta.seq_no, stored.meta.primary_term, stored.meta.index
            return dataclasses.replace(action, **pinned) if pinned else action
        return action
    if isinstance(action, CreateAction) or not isinstance(document, cls) or document.meta.id is None:
        return action
    name = _target_index(cls, action.index if isinstance(action, IndexAction) else None, index, document.meta.index)
    if (name, str(document.meta.id)) not in free:
        return action
    if isinstance(action, IndexAction):
        return CreateAction(action.document, index=action.index, routing=action.routing, pipeline=action.pipeline)
    return CreateAction(action)


# -- the check of a stored id before a scoped write ---------------------------------------------


@dataclasses.dataclass(frozen=True)
class Claim:
    """What a scoped write found at its id: ``absent``, ``foreign`` (another tenant's) or its own tokens."""

    absent: bool
    foreign: bool
    tokens: dict[str, int]
    meta: ApiResponseMeta
    body: Any


async def claim(client: AsyncElasticsearch, view: TenantView, index: str, doc_id: str, routing: str | None) -> Claim:
    """Read the tenant of the stored document ``doc_id`` (its tenant field only) and its tokens.

    Raises:
        IndexNotFoundError: the index does not exist.
    """
    try:
        raw = await send(
            client, lambda quiet: quiet.get(index=index, id=doc_id, routing=routing, source_includes=[view.stored])
        )
    except NotFoundError as error:
        failure = not_found(index, doc_id, error.meta, error.body)
        if isinstance(failure, DocumentNotFoundError):
            return Claim(True, False, {}, error.meta, error.body)
        raise failure from error
    body = raw.body
    if not owns(view, body.get("_source")):
        return Claim(False, True, {}, raw.meta, body)
    return Claim(False, False, {"if_seq_no": body["_seq_no"], "if_primary_term": body["_primary_term"]}, raw.meta, body)


def not_theirs(found: Claim, index: str, doc_id: str) -> DocumentNotFoundError:
    """The error of a scoped write to an id that is not its tenant's: a missing document's, word for word."""
    if found.absent:
        error = not_found(index, doc_id, found.meta, found.body)
    else:
        missing = {"_index": index, "_id": doc_id, "found": False}  # what a missing id's 404 body says
        error = not_found(index, doc_id, dataclasses.replace(found.meta, status=404), missing)
    assert isinstance(error, DocumentNotFoundError)
    return error


def routed(view: TenantView | None, routing: str | NotGiven) -> str | NotGiven:
    """The routing of a tenant's document (``Index.tenant_routing``), else ``routing``.

    Raises:
        TenantError: ``routing`` names another shard routing than the tenant's.
    """
    if view is None or view.route is None:
        return routing
    if routing is not NOT_GIVEN and routing is not None and routing != view.route:
        raise TenantError(f"{view.field} routes by tenant: routing={routing!r} is not tenant {view.route!r}'s")
    return view.route


async def claim_for(
    view: TenantView, client: AsyncElasticsearch, request: dict[str, Any], index: str, doc_id: str,
    routing: str | None, absent_ok: bool = False,
) -> None:
    """Check that a scoped write by id reaches its tenant's document, and pin it with its tokens.

    Another tenant's document is answered as a missing one. Without tokens of its own,
    the write carries those read here (instead of ``retry_on_conflict``), so it fails
    with a conflict rather than land on a document that changed hands since.

    Raises:
        DocumentNotFoundError: no document of this tenant with that id.
    """
    found = await claim(client, view, index, doc_id, routing)
    if found.absent and absent_ok:
        return
    if found.absent or found.foreign:
        raise not_theirs(found, index, doc_id)
    if "if_seq_no" not in request:
        request.pop("retry_on_conflict", None)
        request.update(found.tokens)


async def claim_to_save(
    view: TenantView, client: AsyncElasticsearch, params: dict[str, Any], index: str, doc_id: str, routing: str | None
) -> bool:
    """Check the id a scoped save writes to; whether it is now sent as a create.

    A free id is written as a create (it cannot replace a document written meanwhile); this
    tenant's document with the tokens read here, unless the save carries its own.

    Raises:
        TenantError: another tenant's document has the id (a client-chosen one).
    """
    found = await claim(client, view, index, doc_id, routing)
    if found.foreign:
        raise TenantError(
            f"id {doc_id!r} is taken by a document this scope cannot see: choose another id, or let "
            "Elasticsearch choose one", index, doc_id, view.field, reason="id_taken",
        )
    if "if_seq_no" in params:
        return False
    params.update({"op_type": "create"} if found.absent else found.tokens)
    return found.absent
