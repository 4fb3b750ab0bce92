"""``AsyncDocument``: a pydantic model bound to an index, with async CRUD and search.

The top floor of odm: it imports the index, search, bulk and update-by-query modules,
and none of them imports it (they ask ``_core.document_options`` about document classes).
This module is the class: its pydantic machinery (``meta`` set by code and Elasticsearch
only, unknown attributes refused, the mapping made when the class is complete) and every
operation's signature and docstring, what users and mypy see. The bodies of the reads by
id are in ``_reading`` and those of the writes in ``_writing``: they decide which request
to send and map Elasticsearch's answers to documents or to odm's errors. Encoding is
``_core.writes``', decoding ``_core.hits``'.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal, overload

from elasticsearch import AsyncElasticsearch, NotFoundError
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    field_validator,
)
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import CoreSchema
from typing_extensions import Self, Unpack

from .._core.document_options import DocumentOptions, IncompleteDocument, option_names
from .._core.retry import RetryPolicy
from .._core.names import check_index_name
from .._core.sentinel import NOT_GIVEN, NotGiven
from .._core.stored_values import as_stored
from .._core.timestamps import check_assignment
from .._core.tenancy import admit, admitted
from .._core.writes import DeleteResult, Script, encode_source
from ..bulk import BulkInput, BulkOptions, BulkResult
from ..bulk._run import DEFAULTS, BulkRun
from ..connections import UsingType, get_client
from ..errors import IndexNotFoundError, NoIndexError
from ..expressions import install_field_expressions
from ..index import AsyncComposableIndexTemplate, AsyncIndex, template_for
from ..meta import Meta, blank_meta, from_elasticsearch, meta_from_code
from ..schema._versioned import init_document
from ..search._search import AsyncSearch
from ..tenancy import TenantScope
from ..update_by_query import AsyncUpdateByQuery
from . import _reading, _writing
from ._writing import Refresh as Refresh  # odm.tenancy names it in its signatures

if TYPE_CHECKING:
    from ..meta import MetaField

__all__ = ["AsyncDocument"]


def _closed_schema(schema: dict[str, Any]) -> None:
    # Documents keep unknown stored fields in meta, not as extra attributes: a client of a
    # FastAPI schema must not be told that any property is accepted.
    schema.pop("additionalProperties", None)


class AsyncDocument(BaseModel):
    """A pydantic model stored in Elasticsearch.

    The mapping is derived from the type hints at class definition; ``class Index``
    names the index and its settings, as in elasticsearch-dsl::

        class Post(AsyncDocument):
            title: Annotated[str, Text(fields={"raw": Keyword()})]
            views: int = 0

            class Index:
                name = "posts"
                settings = {"number_of_shards": 1}

    ``meta`` holds what Elasticsearch knows beyond ``_source`` (id, index, score,
    seq_no, ...); it is excluded from ``model_dump()`` and the JSON schema, and only code
    and Elasticsearch's answers set it, never validated outside data. A document read
    from the index keeps the stored fields its model does not declare
    (``meta.unknown_fields``) and its concurrency tokens, and writes both back.
    """

    model_config = ConfigDict(
        populate_by_name=True,
        validate_assignment=True,
        # Unknown keys are captured in pydantic-core: a hit's go to meta.unknown_fields (_hits),
        # outside data's are dropped when written (_writes), as extra="ignore" would.
        extra="allow",
        allow_inf_nan=False,  # JSON has no NaN: refused when built or assigned, and
        ser_json_inf_nan="strings",  # one put in place is sent as "NaN", which a numeric field refuses (not null)
        json_schema_extra=_closed_schema,
    )

    if TYPE_CHECKING:
        # What pydantic does at run time, told to type checkers: the constructor (and
        # assignment) take a Meta or a mapping such as {"id": "p1"}; reading gives a Meta.
        meta: MetaField = MetaField()
        _index: ClassVar[AsyncIndex[Any]]
    else:
        meta: SkipJsonSchema[Meta] = Field(default_factory=blank_meta, exclude=True, repr=False)

    __odm__: ClassVar[DocumentOptions]

    if not TYPE_CHECKING:
        # Runs for the constructor only; marked as pydantic's own __init__, so validation
        # of hits does not go through it (pydantic would call a custom __init__ per hit).
        def __init__(self, /, **data: Any) -> None:
            if "meta" in data:  # code may set meta; the validator refuses it from outside data
                data["meta"] = meta_from_code(data["meta"])
            super().__init__(**data)

        __init__.__pydantic_base_init__ = True

        def __setattr__(self, name: str, value: Any) -> None:
            if name == "meta":
                value = meta_from_code(value)
            elif name not in type(self).__pydantic_fields__ and not name.startswith("_"):
                # extra="allow" would keep it, and save() would drop it: say so now, as pydantic does
                raise ValueError(f'"{type(self).__name__}" object has no field "{name}"')
            else:
                check_assignment(self, self.__dict__.get("meta"), name)  # a stored document's created_at
            super().__setattr__(name, value)

    @classmethod
    def __get_pydantic_core_schema__(cls, source: type[BaseModel], handler: GetCoreSchemaHandler) -> CoreSchema:
        schema: CoreSchema = as_stored(handler(source))  # bytes as Elasticsearch's binary holds them
        return schema

    @field_validator("meta", mode="wrap")  # wrap, not plain: the field keeps Meta's own serializer
    @classmethod
    def _meta_from_code_only(cls, value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Meta:
        if isinstance(value, Meta):  # built by code: the constructor, an assignment
            return value
        if from_elasticsearch(info.context):  # hits give meta after validation: this is _source
            raise ValueError("a stored _source field named 'meta' cannot be read: meta is odm's (rename it)")
        return blank_meta()  # outside data (a request body) never chooses id, index or routing

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if not cls.__pydantic_complete__:  # forward references: mapped once they resolve
            cls.__odm__ = IncompleteDocument(cls)  # type: ignore[assignment]

    @classmethod
    def __pydantic_on_complete__(cls) -> None:
        # Runs when every annotation is resolved: at class creation, or at model_rebuild().
        super().__pydantic_on_complete__()
        if cls.__bases__ != (BaseModel,):  # AsyncDocument itself maps nothing
            cls.__odm__ = options = DocumentOptions.for_class(cls, _WRITE_OPTIONS)
            # elasticsearch.dsl reads doc_type._index (resolve_field), as users write Post._index.refresh()
            index: AsyncIndex[Any] = AsyncIndex(options.name or "*", using=options.using)
            index.document(cls)
            index.data_stream(options.data_stream)  # init() saves a data stream's template and creates it
            cls._index = index
            install_field_expressions(cls)  # Post.views is a FieldExpr at class level

    # -- index and mapping ----------------------------------------------------------

    @classmethod
    def mapping_dict(cls) -> dict[str, Any]:
        """The exact ``mappings`` body sent to Elasticsearch for this class."""
        return cls.__odm__.mapping.to_dict()

    @classmethod
    def index_name(cls, index: str | None = None) -> str:
        """The concrete index to write to: ``index`` if given, else ``Index.name``.

        Raises:
            InvalidIndexNameError: the name is not a valid concrete index name.
            NoIndexError: neither is set.
        """
        name = index if index is not None else cls.__odm__.name
        if name is None:
            raise NoIndexError(f"{cls.__name__} has no Index.name; pass index=...")
        return check_index_name(name)

    @classmethod
    async def init(
        cls, index: str | None = None, using: UsingType | None = None, retry: RetryPolicy | None = None
    ) -> None:
        """Create the index with settings and mapping, or apply compatible mapping changes.

        The mapping's ``_meta`` records the hash of the class's index definition
        (``_meta.odm``). With ``Index.versioned = True``, the index is ``<name>-v1`` behind
        the alias ``<name>`` (docs/schema-drift.md).

        Every request is re-sent under ``retry`` (else the connection's policy; the client's
        own retries are off): reads, the create (one that meets an existing index, maybe its
        own lost first attempt, goes on to bring that index up to date) and the idempotent
        ``put_settings``/``put_mapping`` (docs/reliability.md).

        Raises:
            MappingConflictError: a live field's type (or fixed parameter) differs from the
                model's; the error names each field and nothing is changed.
            VersionedIndexError: a versioned class found a concrete index named like its alias
                (``odm.adopt`` moves it behind the alias).
        """
        await init_document(cls, index, using, retry)

    @classmethod
    def _client(cls, using: UsingType | None) -> AsyncElasticsearch:
        return get_client(using if using is not None else cls.__odm__.using)

    # -- reading --------------------------------------------------------------------

    @classmethod
    def search(cls, using: UsingType | None = None, index: str | list[str] | None = None) -> AsyncSearch[Self]:
        """A search over this class's index (or ``index``: aliases, patterns) yielding ``Self``."""
        view = admitted(cls, "search()")
        target = index if index is not None else cls.__odm__.name
        search = AsyncSearch(using=using if using is not None else cls.__odm__.using, index=target, doc_type=cls)
        search._odm_tenancy = view
        return search

    # -- tenants (docs/tenancy.md) ----------------------------------------------------

    @classmethod
    def for_tenant(cls, tenant: str) -> TenantScope[Self]:
        """The operations of this tenant-scoped class for ``tenant`` only.

        Example: ``ticket = await Ticket.for_tenant("acme").get("t1")``

        Raises:
            ArgumentError: the class declares no ``Index.tenant_field``.
            TenantError: an empty or malformed tenant.
        """
        return TenantScope(cls, tenant)

    @classmethod
    def unscoped(cls) -> TenantScope[Self]:
        """The operations of this tenant-scoped class across every tenant, asked for by name."""
        return TenantScope(cls, None, unscoped=True)

    @classmethod
    async def get(
        cls,
        id: str | int,
        index: str | None = None,
        using: UsingType | None = None,
        routing: str | NotGiven = NOT_GIVEN,
        _source: bool | str | Sequence[str] | NotGiven = NOT_GIVEN,
        retry: RetryPolicy | None = None,
    ) -> Self:
        """Fetch and validate one document (re-sent under ``retry``, else the connection's policy).

        Args:
            _source: field names to fetch (as elasticsearch-dsl passes it on), or ``False``:
                the document is then partial (``meta.partial_source``), as a hit of
                ``search().source([...])`` is, and ``save()`` refuses it; ``update()`` works.

        Raises:
            ArgumentError: ``_source`` is not a bool or field names; nothing is sent.
            DocumentNotFoundError: no such document (a subclass of the client's NotFoundError).
            IndexNotFoundError: no such index: a missing index is never read as a missing document.
            HitValidationError: its ``_source`` does not validate.
        """
        return await _reading.get(cls, id, index, using, routing, _source, retry)

    @classmethod
    async def get_or_none(
        cls,
        id: str | int,
        index: str | None = None,
        using: UsingType | None = None,
        routing: str | NotGiven = NOT_GIVEN,
        _source: bool | str | Sequence[str] | NotGiven = NOT_GIVEN,
    ) -> Self | None:
        """Like :meth:`get`, but ``None`` when the document does not exist (the index must)."""
        view = admitted(cls, "get_or_none()")
        try:
            with admit(cls, view):
                return await cls.get(id, index=index, using=using, routing=routing, _source=_source)
        except IndexNotFoundError:
            raise
        except NotFoundError:
            return None

    @overload
    @classmethod
    async def mget(
        cls,
        ids: Iterable[str | int],
        index: str | None = None,
        using: UsingType | None = None,
        missing: Literal["none"] = "none",
        _source: bool | str | Sequence[str] | NotGiven = NOT_GIVEN,
        retry: RetryPolicy | None = None,
    ) -> list[Self | None]: ...
    @overload
    @classmethod
    async def mget(
        cls,
        ids: Iterable[str | int],
        index: str | None = None,
        using: UsingType | None = None,
        *,
        missing: Literal["raise", "skip"],
        _source: bool | str | Sequence[str] | NotGiven = NOT_GIVEN,
        retry: RetryPolicy | None = None,
    ) -> list[Self]: ...
    @classmethod
    async def mget(
        cls,
        ids: Iterable[str | int],
        index: str | None = None,
        using: UsingType | None = None,
        missing: Literal["none", "raise", "skip"] = "none",
        _source: bool | str | Sequence[str] | NotGiven = NOT_GIVEN,
        retry: RetryPolicy | None = None,
    ) -> list[Self | None] | list[Self]:
        """Fetch many documents in one request, in the order asked.

        Args:
            missing: what a missing document gives, as in elasticsearch-dsl: ``"none"`` a
                ``None`` in its place, ``"raise"`` a ``DocumentNotFoundError`` naming every
                missing id, ``"skip"`` nothing (the list is shorter).
            _source: field names to fetch, or ``False``: partial documents, as for :meth:`get`.

        Raises:
            ArgumentError: ``missing`` is none of those, or ``_source`` is not a bool or
                field names; nothing is sent.
            DocumentNotFoundError: ``missing="raise"`` and some are missing.
            IndexNotFoundError: the index does not exist.
            DocumentReadError: Elasticsearch could not read one of them (never taken for missing,
                whatever ``missing`` says).
        """
        return await _reading.mget(cls, ids, index, using, missing, _source, retry)

    @classmethod
    async def exists(
        cls,
        id: str | int,
        index: str | None = None,
        using: UsingType | None = None,
        routing: str | NotGiven = NOT_GIVEN,
    ) -> bool:
        """Whether a document with this id exists.

        Raises:
            IndexNotFoundError: the index itself does not exist.
        """
        return await _reading.exists(cls, id, index, using, routing)

    # -- writing --------------------------------------------------------------------

    def _target(self, index: str | None) -> str:
        return type(self)._write_index(index if index is not None else self.meta.index)

    @classmethod
    def _write_index(cls, index: str | None) -> str:
        """The index a write goes to: :meth:`index_name`, and no system index unless the class allows it."""
        return cls.__odm__.write_index(cls.index_name(index))

    def to_source(self, index: str | None = None) -> bytes:
        """The ``_source`` that :meth:`save` and bulk writes send, as JSON bytes.

        Raises:
            DocumentValidationError: a value changed in place is invalid; see ``docs/concurrency-and-kept-fields.md``.
        """
        return encode_source(self, self.meta, index or self.meta.index or type(self).__odm__.name, stamp=False)

    async def save(
        self,
        index: str | None = None,
        using: UsingType | None = None,
        refresh: Refresh | NotGiven = NOT_GIVEN,
        routing: str | NotGiven = NOT_GIVEN,
        op_type: Literal["index", "create"] | NotGiven = NOT_GIVEN,
        if_unchanged: bool | NotGiven = NOT_GIVEN,
        pipeline: str | NotGiven = NOT_GIVEN,
        retry: RetryPolicy | None = None,
    ) -> str:
        """Validate, then index the document; ``meta`` gets id, index, version, seq_no.

        A document without an id gets one from odm first (unless its class sets
        ``Index.client_ids = False``), and is then sent as a create: the id is new, so a
        re-send after a lost answer meets its own document and is confirmed, never stored
        twice. odm re-sends under ``retry`` (else the connection's policy; docs/reliability.md).

        A document loaded from the index goes back to ``meta.index`` with ``meta.routing``,
        its unknown stored fields, and its ``seq_no``/``primary_term``: if it changed in
        the index since, the write fails (as in elasticsearch-dsl).

        Args:
            op_type: ``"create"`` fails with :class:`~odm.DocumentExistsError` if the id exists
                (on a first attempt, whatever the stored content).
            if_unchanged: by default the tokens are sent when the document has them and goes
                back to the index it came from; ``False`` overwrites whatever is stored,
                ``True`` requires the tokens.

        Returns:
            ``"created"`` or ``"updated"``.

        Raises:
            DocumentValidationError: invalid; nothing was sent.
            VersionConflictError: the stored document changed since this one was loaded.
            DocumentExistsError: ``op_type="create"`` and the id exists.
            IndexBlockedError: the index is write-blocked (a migration or ``adopt()``); nothing was written.
            OutcomeUnknownError: a write guarded by ``seq_no`` lost its answer, and odm's re-send met a
                conflict: it may have been applied.
        """
        return await _writing.save(self, index, using, refresh, routing, op_type, if_unchanged, pipeline, retry)

    async def update(
        self,
        values: Mapping[str, Any] | None = None,
        /,
        *,
        index: str | None = None,
        using: UsingType | None = None,
        refresh: Refresh | NotGiven = NOT_GIVEN,
        if_unchanged: bool | NotGiven = NOT_GIVEN,
        retry_on_conflict: int | None | NotGiven = NOT_GIVEN,
        script: Script | None = None,
        params: Mapping[str, Any] | None = None,
        upsert: bool = False,
        retry: RetryPolicy | None = None,
        **fields: Any,
    ) -> str:
        """Partially update the stored document with ``values`` and ``fields``, validated first, or by a script.

        ``values`` is a mapping of field names to values, given positionally: the form
        for data from outside (a request body), which can then never be taken for an
        option. Example: ``await post.update(body.model_dump(exclude_unset=True), refresh=True)``

        The values are checked against the model (the whole document must still be
        valid); only those fields are sent, and afterwards this instance holds what the
        index holds. An object or ``dict`` value is merged into the stored one, as
        Elasticsearch does; the merged value is read back into the instance (assign and
        :meth:`save` to replace an object whole).

        With ``script`` (painless source, a script dict, ``{"id": ...}`` for a stored
        script, or an elasticsearch.dsl ``Script``) and its ``params``, Elasticsearch runs
        the script on the stored document; the instance then holds the whole stored
        ``_source``, read and validated as :meth:`get` reads it. ``upsert=True`` stores
        this document as it is if none is stored. Example:
        ``await post.update(script="ctx._source.views += params.n", params={"n": 1})``; as in
        elasticsearch-dsl, keyword arguments given with a script are its params too
        (``update(script="...", n=1)``), merged with ``params`` (a name given twice is refused).

        Concurrency follows elasticsearch-dsl's rule: ``retry_on_conflict`` given and above
        0 sends no precondition and retries Elasticsearch's conflicts that many times;
        ``None`` or ``0`` updates a loaded document only if unchanged since (its
        ``seq_no``). An update without that precondition (a new instance with ``meta.id``,
        or ``if_unchanged=False``) is retried ``UPDATE_RETRIES`` (10) times by default.

        Returns:
            ``"updated"`` or ``"noop"``; with a script also ``"created"`` (upsert) or
            ``"deleted"`` (the script set ``ctx.op = "delete"``: the tokens are forgotten).

        Raises:
            ArgumentError: a script param given twice, ``params``/``upsert`` without a
                script, a negative ``retry_on_conflict``, ``values`` not a mapping of
                names, ``values`` with a script, or a field both in ``values`` and by
                keyword; nothing was sent.
            DocumentStateError: ``if_unchanged=True`` with ``retry_on_conflict`` above 0.
            DocumentValidationError: an unknown field or an invalid value; nothing was sent.
            VersionConflictError: the document changed since it was loaded.
            OutcomeUnknownError: the answer was lost and odm's re-send met a conflict: it may
                have been applied.
            DocumentNotFoundError, IndexNotFoundError: nothing to update.
            HitValidationError: the script stored a document the model rejects (it is stored).
        """
        return await _writing.update(
            self, values, index, using, refresh, if_unchanged, retry_on_conflict, script, params, upsert, retry, fields
        )

    async def delete(
        self,
        index: str | None = None,
        using: UsingType | None = None,
        refresh: Refresh | NotGiven = NOT_GIVEN,
        if_unchanged: bool | NotGiven = NOT_GIVEN,
        retry: RetryPolicy | None = None,
    ) -> DeleteResult:
        """Delete the stored document (by ``meta.id``, in ``meta.index`` with ``meta.routing``).

        A loaded document is deleted only if unchanged since (``if_unchanged=False``: anyway).
        Sent as a one-item ``POST /_bulk`` (docs/reliability.md), re-sent under ``retry``.

        Returns:
            The :class:`~odm.DeleteResult`; ``confirmed=True`` when the answer was lost and
            odm's re-send found no document: deleted either way.

        Raises:
            DocumentNotFoundError: it no longer exists (on a first attempt).
            IndexNotFoundError: the index does not exist.
            VersionConflictError: the document changed since it was loaded.
            OutcomeUnknownError: a delete guarded by ``seq_no`` lost its answer and odm's re-send
                met a conflict: it may have been applied.
        """
        return await _writing.delete(self, index, using, refresh, if_unchanged, retry)

    @classmethod
    async def update_by_id(
        cls,
        id: str | int,
        values: Mapping[str, Any] | None = None,
        /,
        *,
        index: str | None = None,
        using: UsingType | None = None,
        refresh: Refresh | NotGiven = NOT_GIVEN,
        routing: str | NotGiven = NOT_GIVEN,
        retry_on_conflict: int | None | NotGiven = NOT_GIVEN,
        script: Script | None = None,
        params: Mapping[str, Any] | None = None,
        upsert: Self | None = None,
        retry: RetryPolicy | None = None,
        **fields: Any,
    ) -> str:
        """Partially update a stored document by id in one request, without loading it first.

        Each field is validated on its own against the model (the rest of the document is
        not known here); without a precondition, Elasticsearch's internal conflicts are
        retried, as for :meth:`update`. An object or ``dict`` value is merged into the
        stored one. Example: ``await Post.update_by_id("p1", views=10)``, or with the
        values of a request body as a mapping, never taken for options:
        ``await Post.update_by_id("p1", body.model_dump(exclude_unset=True))``

        Or by a script, as for :meth:`update`, with ``upsert`` a document of this class
        to store (validated and encoded as :meth:`save` does) if none is stored:
        ``await Post.update_by_id("p1", script="ctx._source.views += 1", upsert=Post(...))``

        Returns:
            ``"updated"`` or ``"noop"``; with a script also ``"created"`` or ``"deleted"``.

        Raises:
            ArgumentError: a script param given twice, ``params``/``upsert`` without a
                script, ``values`` not a mapping of names, ``values`` with a script, or a
                field both in ``values`` and by keyword; nothing was sent.
            DocumentValidationError: an unknown field or an invalid value; nothing was sent.
            DocumentNotFoundError, IndexNotFoundError: nothing to update.
        """
        return await _writing.update_by_id(
            cls, id, values, index, using, refresh, routing, retry_on_conflict, script, params, upsert, retry, fields
        )

    @classmethod
    async def delete_by_id(
        cls,
        id: str | int,
        index: str | None = None,
        using: UsingType | None = None,
        refresh: Refresh | NotGiven = NOT_GIVEN,
        routing: str | NotGiven = NOT_GIVEN,
        retry: RetryPolicy | None = None,
    ) -> DeleteResult:
        """Delete a stored document by id in one request, without loading it first.

        Example: ``await Post.delete_by_id("p1")``. Returns and re-sends as :meth:`delete`.

        Raises:
            DocumentNotFoundError: no such document (on a first attempt).
            IndexNotFoundError: no such index.
        """
        return await _writing.delete_by_id(cls, id, index, using, refresh, routing, retry)

    @classmethod
    async def bulk(
        cls,
        documents: Iterable[BulkInput[Self]] | AsyncIterable[BulkInput[Self]],
        using: UsingType | None = None,
        **options: Unpack[BulkOptions],
    ) -> BulkResult[Self]:
        """Write many documents (or bulk actions) in chunks; every one is accounted for.

        Example: ``result = await Post.bulk(posts, refresh=True)``, then ``result.failed``.
        Updates and deletes by id use this class. See :func:`odm.bulk` and ``docs/bulk.md``.
        """
        view = admitted(cls, "bulk()")  # a scope's bulk checked every action first (TenantScope.bulk)
        client = get_client(using if using is not None else cls.__odm__.using)
        run: BulkRun[Self] = BulkRun(client, {**DEFAULTS, **options}, cls, tenancy=view)
        return await run.run(documents)

    @classmethod
    def update_by_query(
        cls, using: UsingType | None = None, index: str | list[str] | None = None
    ) -> AsyncUpdateByQuery[Self]:
        """An update by query over this class's index (or ``index``); needs the ``reindex`` module."""
        view = admitted(cls, "update_by_query()")
        update = AsyncUpdateByQuery(using=using if using is not None else cls.__odm__.using, index=index, doc_type=cls)
        update._odm_tenancy = view
        return update

    @classmethod
    def as_template(
        cls, name: str, pattern: str | None = None, priority: int | None = None
    ) -> AsyncComposableIndexTemplate:
        """A composable index template giving new indices this class's mapping, settings and aliases.

        Example: ``await Post.as_template("posts").save()``, then
        ``await post.save(index="posts-2026-11")`` creates that index already mapped.

        Args:
            pattern: by default ``Index.name`` if it is a pattern, else ``<Index.name>-*``.
        """
        return template_for(cls, name, pattern=pattern, priority=priority)


#: The options of the writes that take a document's fields, read from their signatures: no field
#: may be named like one (DocumentOptions.for_class refuses it), or a value could become an option.
_WRITE_OPTIONS = option_names(AsyncDocument.save, AsyncDocument.update, AsyncDocument.update_by_id, AsyncDocument.delete)

