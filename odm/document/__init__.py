"""``AsyncDocument``: a pydantic model bound to an index, with async CRUD and search.

The top floor of odm: it imports the index, search, bulk and update-by-query modules,
and none of them imports it (they ask ``_core.document_options`` about document classes).
Writes go through ``_writes`` (one encoder for save, update and bulk) and reads through
``_hits``; this module only decides which request to send and maps Elasticsearch's
answers to documents or to odm's errors.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal, overload

from elastic_transport import ApiResponseMeta
from elasticsearch import ApiError, AsyncElasticsearch, ConflictError, NotFoundError
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
from .._core.hits import reader_for
from .._core.id_field import take_id
from .._core.retry import Attempts, RetryPolicy
from .._core.names import check_id, check_index_name
from .._core.sentinel import NOT_GIVEN, NotGiven, given
from .._core.stored_values import as_stored
from .._core.timestamps import check_assignment
from .._core.tenancy import admit, admitted, check_values, hide_foreign, mark, owns, stamp, view_of_document
from .._core.vectors import is_whole_source, reads_vectors, source_param, with_vectors
from .._core.writes import (
    Script,
    apply_values,
    DeleteResult,
    concurrency_tokens,
    encode_source,
    encode_write,
    object_fields,
    record_delete,
    record_write,
    routing_of,
    same_source,
    stored_id,
    update_body,
    update_precondition,
    update_values,
    validate_fields,
    validate_update,
)
from ..bulk import BulkInput, BulkOptions, BulkResult
from ..bulk._run import DEFAULTS, BulkRun
from .._sending import delete_document, index_document, send, send_write
from ..connections import UsingType, get_client
from ..errors import (
    ArgumentError,
    DocumentNotFoundError,
    DocumentReadError,
    DocumentStateError,
    IndexNotFoundError,
    NoIndexError,
    OutcomeUnknownError,
    answered_about,
    blocked_about,
    conflict,
    error_type,
    not_found,
)
from ..expressions import install_field_expressions
from ..index import AsyncComposableIndexTemplate, AsyncIndex, template_for
from ..meta import Meta, blank_meta, from_elasticsearch, meta_from_code
from ..schema._versioned import init_document
from ..search._mget import send_mget
from ..search._search import AsyncSearch
from ..tenancy import TenantScope, claim_for, claim_to_save, routed
from ..update_by_query import AsyncUpdateByQuery

if TYPE_CHECKING:
    from ..meta import MetaField

__all__ = ["AsyncDocument"]

Refresh = bool | Literal["wait_for", "true", "false"]
_MISSING = ("none", "raise", "skip")

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
        view = admitted(cls, "get()")
        name, doc_id = cls.index_name(index), check_id(id)
        params = given(routing=routed(view, routing))
        if reads_vectors(cls):  # Elasticsearch 9 leaves them out of _source: saved back, they would be lost
            params["source_exclude_vectors"] = False
        source = None if _source is NOT_GIVEN else source_param(_source, "get")
        if source is not None:
            params["source"] = source
        try:
            raw = await send(cls._client(using), lambda client: client.get(index=name, id=doc_id, **params), retry)
        except NotFoundError as error:
            raise not_found(name, doc_id, error.meta, error.body) from error
        body = raw.body
        if not (isinstance(body, Mapping) and body.get("found") is True):  # an ignored 404 or error body
            raise not_found(name, doc_id, raw.meta, body)
        if view is not None and not owns(view, body.get("_source")):  # answered as a missing one
            raise not_found(name, doc_id, dataclasses.replace(raw.meta, status=404), hide_foreign(view, body))
        document = reader_for(cls).read(body, partial=not is_whole_source(source))
        mark(document, view)
        return document

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
        if missing not in _MISSING:
            raise ArgumentError(f"mget(missing=...) takes one of {', '.join(map(repr, _MISSING))}, not {missing!r}")
        view = admitted(cls, "mget()")
        name, doc_ids = cls.index_name(index), [check_id(i) for i in ids]
        source = None if _source is NOT_GIVEN else source_param(_source, "mget")
        if not doc_ids:
            return []
        try:
            vectors = reads_vectors(cls)
            route = view.route if view is not None else None
            raw = await send(
                cls._client(using),
                lambda client: send_mget(client, index=name, ids=doc_ids, vectors=vectors, source=source, routing=route),
                retry,
            )
        except NotFoundError as error:
            raise not_found(name, None, error.meta, error.body) from error
        if not isinstance(raw.body, Mapping) or "docs" not in raw.body:  # an ignored error status
            raise not_found(name, None, raw.meta, raw.body)
        reader = reader_for(cls)
        docs = [hide_foreign(view, doc) for doc in raw.body["docs"]]
        partial = not is_whole_source(source)
        found = [_found(reader, doc, name, raw.meta, partial) for doc in docs]  # raises a document's read error first
        for document in found:
            mark(document, view)
        if missing == "none":
            return found
        absent = [doc for doc, document in zip(docs, found) if document is None]
        if absent and missing == "raise":
            ids_missing = [str(doc.get("_id")) for doc in absent]
            answer = dataclasses.replace(raw.meta, status=404)
            raise DocumentNotFoundError(name, ids_missing[0], answer, {"docs": absent}, ids=ids_missing)
        return [document for document in found if document is not None]

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
        view = admitted(cls, "exists()")
        if view is not None and view.tenant is not None:  # whose document it is needs its source
            with admit(cls, view):
                return await cls.get_or_none(id, index=index, using=using, routing=routing) is not None
        name, doc_id = cls.index_name(index), check_id(id)
        client = cls._client(using)
        answer = await send(client, lambda quiet: quiet.exists(index=name, id=doc_id, **given(routing=routing)))
        if answer:
            return True
        if not await client.indices.exists(index=name):  # HEAD answers 404 for both; tell them apart
            raise IndexNotFoundError(name, doc_id, answer.meta, None)
        return False

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
        view = view_of_document(self, "save()")
        meta = self.meta
        if type(self).__odm__.data_stream and index is None:  # appended to the stream, never changed there
            if meta.index is not None or meta.seq_no is not None:
                raise _append_only(type(self), "save() of a stored document", meta.id)
            if op_type not in (NOT_GIVEN, "create"):
                raise ArgumentError(f"{type(self).__name__} is stored in a data stream, which takes op_type='create' only")
            op_type = "create"
        name = self._target(index)
        if view is not None:
            stamp(self, view, name)
        body, doc_id, new = encode_write(self, meta, name)
        route = routing_of(meta, routed(view, routing))
        creating = op_type == "create" or (new and op_type is NOT_GIVEN)  # nobody else holds an id odm just made
        params = given(refresh=refresh, op_type=op_type, pipeline=pipeline)
        if route is not None:
            params["routing"] = route
        if not creating:
            params.update(concurrency_tokens(meta, name, if_unchanged))
        params.update(_alias_only(type(self), name))
        client = type(self)._client(using)
        attempts = Attempts()
        if view is not None and view.tenant is not None and doc_id is not None and not creating:
            creating = await claim_to_save(view, client, params, name, doc_id, route)
        try:
            with blocked_about(name, doc_id):
                response = await send(
                    client, lambda quiet: index_document(quiet, name, doc_id, body, params, creating), retry, attempts
                )
        except NotFoundError as error:  # only with require_alias: the alias does not exist, nothing was created
            raise not_found(name, doc_id, error.meta, error.body) from error
        except ConflictError as error:
            if not attempts.resent_after_lost_answer:  # a first attempt's conflict is a conflict
                raise conflict(name, doc_id, error, creating) from error
            if not creating:  # guarded by seq_no: its own first attempt or another writer, no telling
                raise OutcomeUnknownError(name, doc_id, attempts.sent, attempts.lost, error) from error
            # odm's re-send of a create met a document: its own first attempt if the content is the
            # one sent. (Only a create can be confirmed by content: a write guarded by seq_no that
            # finds the same values may have lost a race: two increments from 5 both write 6.)
            stored = await _read_back(client, _conflict_index(error, name), doc_id, route, retry) if doc_id else None
            if stored is None or not same_source(body, stored.get("_source"), type(self)):
                raise conflict(name, doc_id, error, creating) from error
            record_write(meta, stored, name, route)  # this very call wrote it: its answer was lost
            mark(self, view)
            return "created"
        except ApiError as error:  # a 429 or 503 once the policy gave up: after a lost answer, maybe applied
            if attempts.resent_after_lost_answer:
                raise OutcomeUnknownError(name, doc_id, attempts.sent, attempts.lost, error) from error
            raise
        record_write(meta, response.body, name, route)
        mark(self, view)
        result = str(response["result"])
        # a document odm gave its id to is new: "updated" is its re-send meeting its own first attempt
        return "created" if new and result == "updated" and attempts.resent_after_lost_answer else result

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
        view = view_of_document(self, "update()")
        cls, meta = type(self), self.meta
        if cls.__odm__.data_stream and index is None:
            raise _append_only(cls, "update()", meta.id)
        name = self._target(index)
        take_id(self, meta, name)  # a class with an id field: its value
        doc_id = stored_id(meta, name, "update()")
        fields = update_values(values, fields, script is not None, name, doc_id)
        if view is not None:
            check_values(view, fields, name, doc_id)
            stamp(self, view, name)
        upserted = encode_source(self, meta, name) if upsert and script is not None else None
        scripted = update_body(fields, script, params, upserted, name, doc_id)
        if upsert and scripted is None:
            raise ArgumentError(f"upsert=True goes with script= (document {doc_id!r}, index {name!r}); save() writes a whole document")
        values, partial = validate_update(self, fields, name, doc_id) if scripted is None else ({}, {})
        request = given(refresh=refresh)
        route = routing_of(meta, routed(view, NOT_GIVEN))
        if route is not None:
            request["routing"] = route
        retries = None if retry_on_conflict is NOT_GIVEN else retry_on_conflict
        request.update(update_precondition(meta, name, if_unchanged, retries))
        request.update(_alias_only(cls, name))
        if view is not None and view.tenant is not None:
            await claim_for(view, cls._client(using), request, name, doc_id, route, absent_ok=upsert and script is not None)
        objects = object_fields(partial)
        if scripted is not None:
            request.update(scripted, source=with_vectors(True) if reads_vectors(cls) else True)
        else:
            request["doc"] = partial
            if objects:
                request["source"] = objects  # merged in the index: read back what it holds
        with answered_about(name, doc_id):
            response = await send_write(
                cls._client(using), lambda client: client.update(index=name, id=doc_id, **request), retry, name, doc_id,
                idempotent=scripted is None,
            )
        result = str(response["result"])
        stored = response.body.get("get", {}).get("_source")
        if scripted is not None and result == "deleted":
            record_delete(meta)
            return result
        if scripted is not None and stored is not None:
            fresh = reader_for(cls).read({"_index": response.body.get("_index", name), "_id": doc_id, "_source": stored})
            values = {key: value for key, value in fresh.__dict__.items() if key != "meta"}
            meta.unknown_fields = fresh.meta.unknown_fields
        elif objects:
            values.update(reader_for(cls).read_fields(stored or {}, name, doc_id))
        apply_values(self, values)
        record_write(meta, response.body, name)
        mark(self, view)
        return result

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
        view = view_of_document(self, "delete()")
        meta = self.meta
        if type(self).__odm__.data_stream and index is None:
            raise _append_only(type(self), "delete()", meta.id)
        name = self._target(index)
        take_id(self, meta, name)
        doc_id = stored_id(meta, name, "delete()")
        params = given(refresh=refresh)
        route = routing_of(meta, routed(view, NOT_GIVEN))
        if route is not None:
            params["routing"] = route
        params.update(concurrency_tokens(meta, name, if_unchanged))
        if view is not None and view.tenant is not None:
            await claim_for(view, type(self)._client(using), params, name, doc_id, route)
        deleted = await _delete(type(self)._client(using), name, doc_id, params, retry)
        record_delete(meta)
        return deleted

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
        view = admitted(cls, "update_by_id()")
        if cls.__odm__.data_stream and index is None:
            raise _append_only(cls, "update_by_id()", str(id))
        name, doc_id = cls._write_index(index), check_id(id)
        fields = update_values(values, fields, script is not None, name, doc_id)
        if view is not None:
            check_values(view, fields, name, doc_id)
            if upsert is not None:
                stamp(upsert, view, name)
        upserted = encode_source(upsert, upsert.meta, name) if upsert is not None else None
        scripted = update_body(fields, script, params, upserted, name, doc_id)
        retries = None if retry_on_conflict is NOT_GIVEN else retry_on_conflict
        request = given(refresh=refresh, routing=routed(view, routing))
        request.update(update_precondition(None, name, NOT_GIVEN, retries))
        request.update(_alias_only(cls, name))
        request.update(scripted if scripted is not None else {"doc": validate_fields(cls, fields, name, doc_id)})
        if view is not None and view.tenant is not None:
            route = request.get("routing")
            await claim_for(view, cls._client(using), request, name, doc_id, route, absent_ok=upsert is not None)
        with answered_about(name, doc_id):
            response = await send_write(
                cls._client(using), lambda client: client.update(index=name, id=doc_id, **request), retry, name, doc_id,
                idempotent=scripted is None,
            )
        return str(response["result"])

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
        view = admitted(cls, "delete_by_id()")
        if cls.__odm__.data_stream and index is None:
            raise _append_only(cls, "delete_by_id()", str(id))
        name, doc_id = cls._write_index(index), check_id(id)
        request = given(refresh=refresh, routing=routed(view, routing))
        if view is not None and view.tenant is not None:
            await claim_for(view, cls._client(using), request, name, doc_id, request.get("routing"))
        return await _delete(cls._client(using), name, doc_id, request, retry)

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


def _alias_only(cls: type[AsyncDocument], name: str) -> dict[str, bool]:
    """``require_alias`` for a write of a versioned class to its alias: when the alias does not exist
    (never ``init()``-ed, or deleted), Elasticsearch answers 404 instead of creating an index of
    that name, which would take the alias's name for good. Other names are sent as they are
    (Elasticsearch creates a missing concrete index on a write: ``docs/crud.md``)."""
    options = cls.__odm__
    return {"require_alias": True} if options.versioned and name == options.name else {}


def _append_only(cls: type[AsyncDocument], operation: str, doc_id: str | None) -> DocumentStateError:
    """The refusal of a write that would change a document stored in a data stream."""
    stream = cls.__odm__.name
    return DocumentStateError(
        f"{cls.__name__} is stored in the data stream {stream!r}, which is append-only: {operation} would change "
        f"a stored document. Name its backing index (index=doc.meta.index, a '.ds-{stream}-...' index) to write "
        "there, or use update_by_query()", stream, doc_id,
    )


async def _read_back(
    client: AsyncElasticsearch, index: str, doc_id: str, routing: str | None, retry: RetryPolicy | None
) -> Mapping[str, Any] | None:
    """The stored document after odm's re-send of a create was answered 409, or ``None`` if there is none.

    A create whose first attempt was applied (its answer lost) meets its own document: the
    same content means it succeeded. It asks for vectors, whatever the class declares: the
    stored document may be another program's, with a vector that must not go unseen.
    """
    try:
        answer = await send(
            client,
            lambda quiet: quiet.get(index=index, id=doc_id, routing=routing, source_exclude_vectors=False),
            retry,
        )
    except NotFoundError:
        return None
    body: Mapping[str, Any] = answer.body
    return body


def _conflict_index(error: ConflictError, index: str) -> str:
    """The concrete index a 409 names (a data stream's backing index), else ``index``."""
    found = error.body.get("error", {}).get("index") if isinstance(error.body, Mapping) else None
    return found if isinstance(found, str) and found else index


async def _delete(
    client: AsyncElasticsearch, index: str, doc_id: str, params: Mapping[str, Any], retry: RetryPolicy | None
) -> DeleteResult:
    """Send a delete under odm's retries; a 404 met by odm's re-send after a lost answer is a delete confirmed by absence."""
    attempts = Attempts()
    try:
        with answered_about(index, doc_id):
            response = await send_write(
                client, lambda quiet: delete_document(quiet, index, doc_id, params), retry, index, doc_id, attempts
            )
    except DocumentNotFoundError:
        if not attempts.resent_after_lost_answer:
            raise
        return DeleteResult(index, doc_id, None, confirmed=True)  # absent either way: its first attempt, or before
    return DeleteResult(response.body.get("_index", index), doc_id, response.body.get("_version"))


def _found(reader: Any, doc: Mapping[str, Any], index: str, meta: ApiResponseMeta, partial: bool) -> Any:
    """One ``docs`` entry of an mget answer: the document, ``None`` if not found, or its error raised."""
    if doc.get("found") is True:
        return reader.read(doc, partial=partial)
    if "error" in doc:
        body = {"error": doc["error"]}
        if error_type(body) == "index_not_found_exception":
            raise IndexNotFoundError(doc.get("_index", index), doc.get("_id"), meta, body)
        raise DocumentReadError(doc.get("_index", index), doc.get("_id"), meta, body)
    return None

