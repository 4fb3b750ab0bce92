"""``AsyncDocument``: a pydantic model bound to an index, with async CRUD and search."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from elasticsearch import AsyncElasticsearch, ConflictError, NotFoundError
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.json_schema import SkipJsonSchema
from typing_extensions import Self

from ._hits import reader_for
from ._names import check_id, check_index_name
from ._options import DocumentOptions, IncompleteDocument
from ._partial import apply_update, validate_update
from ._sentinel import NOT_GIVEN, NotGiven, given
from .connections import UsingType, get_client
from .errors import DocumentNotFoundError, DocumentValidationError, VersionConflictError
from .expressions import install_field_expressions
from .meta import Meta, blank_meta, record_write
from .search import AsyncSearch

if TYPE_CHECKING:
    from collections.abc import AsyncIterable

    from typing_extensions import Unpack

    from .bulk import BulkInput, BulkOptions, BulkResult
    from .index import AsyncIndex
    from .meta import MetaField
    from .templates import AsyncComposableIndexTemplate
    from .update_by_query import AsyncUpdateByQuery

__all__ = ["AsyncDocument"]

Refresh = bool | Literal["wait_for", "true", "false"]


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
    seq_no, ...); it is excluded from ``model_dump()`` and the JSON schema.
    """

    model_config = ConfigDict(populate_by_name=True, validate_assignment=True)

    if TYPE_CHECKING:
        # What pydantic does at run time, told to type checkers: the constructor (and
        # assignment) take a Meta or a mapping such as {"id": "p1"}; reading gives a Meta.
        meta: MetaField = MetaField()
    else:
        meta: SkipJsonSchema[Meta] = Field(default_factory=blank_meta, exclude=True, repr=False)

    __odm__: ClassVar[DocumentOptions]

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
            cls.__odm__ = DocumentOptions.for_class(cls)
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
            LookupError: neither is set.
        """
        name = index if index is not None else cls.__odm__.name
        if name is None:
            raise LookupError(f"{cls.__name__} has no Index.name; pass index=...")
        return check_index_name(name)

    @classmethod
    def _index(cls, index: str | None = None) -> AsyncIndex:
        from .index import AsyncIndex

        definition = AsyncIndex(cls.index_name(index), using=cls.__odm__.using)
        definition.document(cls)
        return definition

    @classmethod
    async def init(cls, index: str | None = None, using: UsingType | None = None) -> None:
        """Create the index with settings and mapping, or apply compatible mapping changes.

        Raises:
            MappingConflictError: a live field's type (or fixed parameter) differs from the
                model's; the error names each field and nothing is changed.
        """
        await cls._index(index).save(using=using)

    @classmethod
    def _client(cls, using: UsingType | None) -> AsyncElasticsearch:
        return get_client(using if using is not None else cls.__odm__.using)

    # -- reading --------------------------------------------------------------------

    @classmethod
    def search(cls, using: UsingType | None = None, index: str | list[str] | None = None) -> AsyncSearch[Self]:
        """A search over this class's index (or ``index``: aliases, patterns) yielding ``Self``."""
        target = index if index is not None else cls.__odm__.name
        return AsyncSearch(
            using=using if using is not None else cls.__odm__.using, index=target, doc_type=cls
        )

    @classmethod
    async def get(
        cls,
        id: str | int,
        index: str | None = None,
        using: UsingType | None = None,
        routing: str | NotGiven = NOT_GIVEN,
    ) -> Self:
        """Fetch and validate one document.

        Raises:
            DocumentNotFoundError: no such document (a subclass of the client's NotFoundError).
            HitValidationError: its ``_source`` does not validate.
        """
        name, doc_id = cls.index_name(index), check_id(id)
        try:
            raw = await cls._client(using).get(index=name, id=doc_id, **given(routing=routing))
        except NotFoundError as error:
            raise DocumentNotFoundError(name, doc_id, error.meta, error.body) from error
        return reader_for(cls).read(raw.body)

    @classmethod
    async def get_or_none(
        cls,
        id: str | int,
        index: str | None = None,
        using: UsingType | None = None,
        routing: str | NotGiven = NOT_GIVEN,
    ) -> Self | None:
        """Like :meth:`get`, but ``None`` when the document does not exist."""
        try:
            return await cls.get(id, index=index, using=using, routing=routing)
        except DocumentNotFoundError:
            return None

    @classmethod
    async def mget(
        cls, ids: Iterable[str | int], index: str | None = None, using: UsingType | None = None
    ) -> list[Self | None]:
        """Fetch many documents in one request: in the order asked, ``None`` where missing."""
        name, doc_ids = cls.index_name(index), [check_id(i) for i in ids]
        if not doc_ids:
            return []
        raw = await cls._client(using).mget(index=name, ids=doc_ids)
        reader = reader_for(cls)
        return [reader.read(doc) if doc.get("found") else None for doc in raw.body["docs"]]

    @classmethod
    async def exists(
        cls,
        id: str | int,
        index: str | None = None,
        using: UsingType | None = None,
        routing: str | NotGiven = NOT_GIVEN,
    ) -> bool:
        """Whether a document with this id exists."""
        name, doc_id = cls.index_name(index), check_id(id)
        return bool(await cls._client(using).exists(index=name, id=doc_id, **given(routing=routing)))

    # -- writing --------------------------------------------------------------------

    def _target(self, index: str | None) -> str:
        return type(self).index_name(index if index is not None else self.meta.index)

    def _concurrency(self, if_unchanged: bool) -> dict[str, int]:
        if not if_unchanged:
            return {}
        if self.meta.seq_no is None or self.meta.primary_term is None:
            raise ValueError(
                "if_unchanged=True needs meta.seq_no and meta.primary_term: "
                "load the document from the index (get, search) first"
            )
        return {"if_seq_no": self.meta.seq_no, "if_primary_term": self.meta.primary_term}

    def to_source(self, index: str | None = None) -> bytes:
        """Validate the document as it is now and return its ``_source`` as JSON bytes.

        Raises:
            DocumentValidationError: it does not validate (e.g. a list mutated in place).
        """
        cls = type(self)
        try:
            valid = cls.model_validate_json(self.__pydantic_serializer__.to_json(self, by_alias=True, warnings=False))
        except ValidationError as errors:
            raise DocumentValidationError(index, self.meta.id, errors) from errors
        return valid.__pydantic_serializer__.to_json(valid, by_alias=True)

    async def save(
        self,
        index: str | None = None,
        using: UsingType | None = None,
        refresh: Refresh | NotGiven = NOT_GIVEN,
        routing: str | NotGiven = NOT_GIVEN,
        op_type: Literal["index", "create"] | NotGiven = NOT_GIVEN,
        if_unchanged: bool = False,
        pipeline: str | NotGiven = NOT_GIVEN,
    ) -> str:
        """Validate, then index the document; ``meta`` gets id, index, version, seq_no.

        A document loaded from the index goes back to ``meta.index`` with ``meta.routing``.

        Args:
            op_type: ``"create"`` fails with a conflict if the id exists.
            if_unchanged: require the ``seq_no``/``primary_term`` the document was loaded with.

        Returns:
            ``"created"`` or ``"updated"``.

        Raises:
            DocumentValidationError: invalid; nothing was sent.
            VersionConflictError: ``if_unchanged`` or ``op_type="create"`` found a conflict.
        """
        name = self._target(index)
        body = self.to_source(name)
        doc_id = check_id(self.meta.id) if self.meta.id is not None else None
        route = routing if routing is not NOT_GIVEN else self.meta.routing or NOT_GIVEN
        params = given(refresh=refresh, routing=route, op_type=op_type, pipeline=pipeline)
        params.update(self._concurrency(if_unchanged))
        try:
            response = await type(self)._client(using).index(index=name, id=doc_id, document=body, **params)  # type: ignore[arg-type]
        except ConflictError as error:
            raise VersionConflictError(name, doc_id, error) from error
        record_write(self.meta, response.body, name, route if route is not NOT_GIVEN else None)
        return str(response["result"])

    async def update(
        self,
        index: str | None = None,
        using: UsingType | None = None,
        refresh: Refresh | NotGiven = NOT_GIVEN,
        if_unchanged: bool = False,
        retry_on_conflict: int | NotGiven = NOT_GIVEN,
        **fields: Any,
    ) -> str:
        """Partially update the stored document with ``fields``, validated first.

        The values are checked against the model (the whole document must still be
        valid); only those fields are sent, and this instance reflects them afterwards.

        Returns:
            ``"updated"`` or ``"noop"``.

        Raises:
            DocumentValidationError: an unknown field or an invalid value; nothing was sent.
            VersionConflictError: ``if_unchanged`` and the document changed meanwhile.
        """
        cls = type(self)
        name = self._target(index)
        if self.meta.id is None:
            raise ValueError("update() needs meta.id: save the document first")
        doc_id = check_id(self.meta.id)
        valid, partial = validate_update(self, fields, name, doc_id)
        params = given(refresh=refresh, retry_on_conflict=retry_on_conflict, routing=self.meta.routing or NOT_GIVEN)
        params.update(self._concurrency(if_unchanged))
        try:
            response = await cls._client(using).update(index=name, id=doc_id, doc=partial, **params)
        except ConflictError as error:
            raise VersionConflictError(name, doc_id, error) from error
        apply_update(self, {key: valid.__dict__[key] for key in fields})
        record_write(self.meta, response.body, name)
        return str(response["result"])

    async def delete(
        self,
        index: str | None = None,
        using: UsingType | None = None,
        refresh: Refresh | NotGiven = NOT_GIVEN,
        if_unchanged: bool = False,
    ) -> None:
        """Delete the stored document (by ``meta.id``, in ``meta.index`` with ``meta.routing``).

        Raises:
            DocumentNotFoundError: it no longer exists.
            VersionConflictError: ``if_unchanged`` and the document changed meanwhile.
        """
        name = self._target(index)
        if self.meta.id is None:
            raise ValueError("delete() needs meta.id")
        doc_id = check_id(self.meta.id)
        params = given(refresh=refresh, routing=self.meta.routing or NOT_GIVEN)
        params.update(self._concurrency(if_unchanged))
        try:
            await type(self)._client(using).delete(index=name, id=doc_id, **params)
        except ConflictError as error:
            raise VersionConflictError(name, doc_id, error) from error
        except NotFoundError as error:
            raise DocumentNotFoundError(name, doc_id, error.meta, error.body) from error

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
        from .bulk import bulk

        client = using if using is not None else cls.__odm__.using
        return await bulk(documents, using=client, document_class=cls, **options)

    @classmethod
    def update_by_query(
        cls, using: UsingType | None = None, index: str | list[str] | None = None
    ) -> AsyncUpdateByQuery[Self]:
        """An update by query over this class's index (or ``index``); needs the ``reindex`` module."""
        from .update_by_query import AsyncUpdateByQuery

        return AsyncUpdateByQuery(
            using=using if using is not None else cls.__odm__.using, index=index, doc_type=cls
        )

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
        from .templates import template_for

        return template_for(cls, name, pattern=pattern, priority=priority)
