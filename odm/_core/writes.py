"""The one write path: a document's ``_source`` bytes, id, routing and concurrency tokens.

``save()``, ``update()`` and every bulk action encode through these functions, so the
same document stores the same bytes whichever way it is written. A bulk of a list goes
through the same steps for a group of documents at once (``encode_writes``: one
serializer call per class instead of one per document). Pure: nothing here does I/O.

How a document is checked before it is sent (``docs/concurrency-and-kept-fields.md``):
pydantic validated it when it was built and on each assignment, so what can have gone
wrong since is a value changed in place (``post.tags.append(3)``). The serializer runs
with ``warnings="error"`` and refuses a value of the wrong type; for a class whose
fields carry constraints, validators or literals, which the serializer does not check,
the bytes are validated again and the validated document is what is stored.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import PydanticSerializationError, SchemaSerializer, from_json, to_json

from ..errors import ArgumentError, DocumentStateError, DocumentValidationError, HitValidationError
from ..mapping import es_field_name
from ..meta import Meta
from .document_options import options_of
from .hits import reader_for
from .id_field import give_id, id_field_of, needs_id, take_id, without_id_change
from .names import check_id
from .retry import new_id
from .sentinel import NOT_GIVEN, NotGiven
from .stored_values import CONVERTS_INPUT_ONLY, TO_ELASTICSEARCH
from .timestamps import source_stamps, timestamps_of, update_stamps
from .vectors import same_json, stored_as_sent

__all__ = [
    "UPDATE_RETRIES",
    "DeleteResult",
    "Revalidate",
    "apply_values",
    "concurrency_tokens",
    "document_id",
    "encode_source",
    "encode_write",
    "encode_writes",
    "id_to_write",
    "record_delete",
    "record_write",
    "revalidates",
    "routing_of",
    "same_source",
    "stored_id",
    "object_fields",
    "Script",
    "update_body",
    "update_precondition",
    "update_values",
    "validate_fields",
    "validate_update",
]

#: ``"auto"``: validate again only classes with constraints, validators or literals.
Revalidate = bool | Literal["auto"]

# Core schema node types and keys that the serializer's type check does not cover.
_CHECKED_ONLY_BY_VALIDATION = frozenset(
    {"function-before", "function-after", "function-wrap", "function-plain", "literal", "custom-error",
     "model-fields-validator", "chain", "lax-or-strict", "json-or-python", "is-instance", "is-subclass",
     "callable", "url", "multi-host-url", "complex"}
)
_CONSTRAINTS = frozenset(
    {"gt", "ge", "lt", "le", "multiple_of", "min_length", "max_length", "pattern", "max_digits",
     "decimal_places", "strip_whitespace", "to_lower", "to_upper", "tz_constraint", "now_op", "version",
     "allow_inf_nan", "unique", "strict"}
)

@dataclass(frozen=True, slots=True)
class _WritePlan:
    """What encoding a class's documents needs, worked out once per class."""

    revalidates: bool  # validation catches what the serializer's type check misses
    exclude: set[str] | None  # {"meta"} for a class that redeclares meta as a plain field
    without_id: set[str] | None = None  # exclude, and the id field kept only as _id (docs/documents.md)
    id_field: bool = False  # Index.id_field: meta.id is taken from a field (take_id)
    stamps: bool = False  # Index.timestamps: every write sets them (source_stamps)


_PLAN = "__odm_write_plan__"  # the class attribute a class's plan is kept in (a subclass has its own)


def _plan(cls: type[BaseModel]) -> _WritePlan:
    """The class's write plan, worked out at its first write and kept on the class itself: read
    for every document written, and a class attribute is the cheapest lookup there is."""
    plan: _WritePlan | None = cls.__dict__.get(_PLAN)
    if plan is None:
        meta = cls.model_fields.get("meta")
        exclude = {"meta"} if meta is not None and not meta.exclude else None
        id_field = id_field_of(cls)
        plan = _WritePlan(
            revalidates=_needs_validation(cls.__pydantic_core_schema__),
            # A response model showing meta: meta is never part of _source all the same.
            exclude=exclude,
            without_id=(exclude or set()) | {id_field.name} if id_field is not None and not id_field.stored else None,
            id_field=id_field is not None,
            stamps=timestamps_of(cls) is not None,
        )
        type.__setattr__(cls, _PLAN, plan)
    return plan


def revalidates(cls: type[BaseModel]) -> bool:
    """Whether validation catches mistakes in ``cls`` that its serializer's type check misses."""
    return _plan(cls).revalidates


def _needs_validation(schema: Any, nan_as_null: bool = True) -> bool:
    """Whether validating ``schema`` again checks something its serializer does not.

    ``nan_as_null``: the floats here are serialized under a config whose
    ``ser_json_inf_nan`` is pydantic's default, ``"null"``: a NaN put in place would be
    stored as ``null`` (a document's own config writes ``"NaN"``, which Elasticsearch
    refuses; a nested plain model's does not), and only validation refuses that null.
    """
    if isinstance(schema, list):
        return any(_needs_validation(item, nan_as_null) for item in schema)
    if not isinstance(schema, dict):
        return False
    kind = schema.get("type")
    # odm's own converters (stored_values: vectors, base64 bytes, offsets with seconds) check
    # nothing the serializer would not: only what they wrap counts.
    own = (schema.get("metadata") or {}).get(CONVERTS_INPUT_ONLY)
    if kind in _CHECKED_ONLY_BY_VALIDATION and not own:
        return True
    config = schema.get("config")
    if isinstance(config, dict):  # a model's own config governs its fields' serializers (pydantic-core)
        nan_as_null = config.get("ser_json_inf_nan", "null") == "null"
    if kind == "float" and nan_as_null:
        return True
    if kind == "model":
        if schema.get("post_init") or schema.get("root_model") or schema.get("custom_init"):
            return True
    elif _CONSTRAINTS & schema.keys():
        return True
    for key, value in schema.items():
        if key in ("metadata", "serialization", "config"):
            continue
        if kind == "model-fields" and key == "fields":
            value = [field for name, field in value.items() if name != "meta"]  # odm's own, set by code
        if _needs_validation(value, nan_as_null):
            return True
    return False


@dataclass(frozen=True, slots=True)
class DeleteResult:
    """What :meth:`AsyncDocument.delete` (and ``delete_by_id``) did: the document is deleted.

    Attributes:
        index: the index it was deleted from.
        id: its id.
        version: the version the delete wrote, or ``None`` when confirmed by absence.
        confirmed: the answer to the delete was lost, odm sent it again, and the re-send
            found no document: it is absent either way (deleted by the first attempt, or
            before it). Elasticsearch's own answer otherwise (``False``).
    """

    index: str
    id: str
    version: int | None = None
    confirmed: bool = False
    result: Literal["deleted"] = "deleted"


def document_id(meta: Meta) -> str | None:
    """The id to write with: ``meta.id`` checked for use in a request path, or None for a new id."""
    return check_id(meta.id) if meta.id is not None else None


def id_to_write(document: BaseModel, meta: Meta) -> tuple[str | None, bool]:
    """The id to write ``document`` with, given to it now if it has none, and whether it is new.

    A document without an id gets one from odm (``new_id``) before its first send, set on
    ``meta.id`` at once: a request sent again (by odm, or by the caller after an error)
    meets its own document instead of storing a second copy. ``(None, False)`` for a
    class with ``Index.client_ids = False``: Elasticsearch makes the id.
    Call it once the document is encoded, so an invalid document gets no id.
    """
    if meta.id is not None:
        return check_id(meta.id), False
    if not options_of(type(document)).client_ids:
        return None, False
    meta.id = new_id()
    return meta.id, True


def encode_write(
    document: BaseModel, meta: Meta, index: str, revalidate: Revalidate = "auto", *, stamp: bool = True
) -> tuple[bytes, str | None, bool]:
    """What indexing ``document`` sends: its ``_source`` (:func:`encode_source`), its id, and whether the id is new.

    The id is given as :func:`id_to_write` gives it; for a class with an id field holding
    ``None``, odm's id goes into the field first (:func:`~.id_field.give_id`), so the
    ``_source`` (with ``Index.id_in_source``) and the document agree with the ``_id``. An
    invalid document gets no id: the field and ``meta.id`` are put back. ``stamp`` as
    for :func:`encode_source`.

    Raises:
        DocumentValidationError: a value is wrong; nothing may be sent.
        DocumentStateError: as :func:`encode_source`; or an id field holding ``None`` that
            cannot take odm's id.
    """
    plan = _plan(type(document))
    if not (plan.id_field and needs_id(document, meta)):
        source = _encoded(document, meta, index, revalidate, stamp, plan)
        doc_id, new = id_to_write(document, meta)
        return source, doc_id, new
    id_field = id_field_of(type(document))
    assert id_field is not None
    give_id(document, meta, index, new_id(), options_of(type(document)).client_ids)
    try:
        return _encoded(document, meta, index, revalidate, stamp, plan), meta.id, True
    except Exception:
        document.__dict__[id_field.name] = None
        meta.id = None
        raise


def stored_id(meta: Meta, index: str, operation: str) -> str:
    """The id of a stored document to update or delete: ``meta.id``, checked.

    Raises:
        DocumentStateError: the document has no id (it was never saved).
    """
    if meta.id is None:
        raise DocumentStateError(f"{operation} needs meta.id: save the document first, or set meta.id", index)
    return check_id(meta.id)


def routing_of(meta: Meta, given: str | None | NotGiven = NOT_GIVEN) -> str | None:
    """The shard routing of a write: the one given, else the one the document was loaded with."""
    if given is not NOT_GIVEN and given is not None:
        return given
    return meta.routing


def concurrency_tokens(meta: Meta, index: str, if_unchanged: bool | NotGiven) -> dict[str, int]:
    """``if_seq_no``/``if_primary_term`` for a write of a document to ``index``.

    By default a document written back to the index it was loaded from carries the
    tokens it was loaded with, so a stale write fails (as in elasticsearch-dsl).
    ``if_unchanged=False`` never sends them; ``True`` requires them.

    Raises:
        DocumentStateError: ``if_unchanged=True`` and the tokens are not known.
    """
    if if_unchanged is False:
        return {}
    known = meta.seq_no is not None and meta.primary_term is not None
    if not known:
        if if_unchanged is True:
            raise DocumentStateError(
                "if_unchanged=True needs meta.seq_no and meta.primary_term: load the document "
                "from the index (get, search) first", index, meta.id,
            )
        return {}
    if if_unchanged is NOT_GIVEN and meta.index is not None and meta.index != index:
        return {}  # written to another index: the tokens are of the one it was loaded from
    return {"if_seq_no": meta.seq_no, "if_primary_term": meta.primary_term}  # type: ignore[dict-item]


#: ``retry_on_conflict`` of an update sent without a precondition: Elasticsearch's
#: get-then-update loses a race with a concurrent write now and then, and retrying is
#: what a plain update means (elasticsearch-dsl users set it by hand).
UPDATE_RETRIES = 10


def update_precondition(
    meta: Meta | None, index: str, if_unchanged: bool | NotGiven, retry_on_conflict: int | None
) -> dict[str, int]:
    """The concurrency parameters of a partial update, by elasticsearch-dsl's rule.

    ``retry_on_conflict`` given and above 0 asks for retries: the update is sent without
    the document's tokens, with that many retries (Elasticsearch refuses the two
    together). ``None`` or ``0`` sends the tokens the document has (as ``save()`` does);
    an update sent without tokens gets ``retry_on_conflict``, by default ``UPDATE_RETRIES``.

    Raises:
        ArgumentError: ``retry_on_conflict`` is negative or not an int.
        DocumentStateError: ``if_unchanged=True`` with retries (a conflict cannot both fail
            and be retried), or tokens required and unknown.
    """
    if retry_on_conflict is not None and (isinstance(retry_on_conflict, bool) or not isinstance(retry_on_conflict, int) or retry_on_conflict < 0):
        raise ArgumentError(f"retry_on_conflict takes a count of 0 or more, not {retry_on_conflict!r} (index {index!r})")
    doc_id = meta.id if meta is not None else None
    if retry_on_conflict:  # given and above 0: retried, so never sent with tokens
        if if_unchanged is True:
            raise DocumentStateError(
                f"retry_on_conflict={retry_on_conflict} retries an update without a precondition, and "
                "if_unchanged=True asks for one: pass one or the other", index, doc_id,
            )
        return {"retry_on_conflict": retry_on_conflict}
    if meta is None:
        if if_unchanged is True:
            raise DocumentStateError("if_unchanged=True needs a document, not an id", index)
        tokens = {}
    else:
        tokens = concurrency_tokens(meta, index, if_unchanged)
    if tokens:
        return tokens  # 0 retries: a conflict is a conflict
    return {"retry_on_conflict": UPDATE_RETRIES if retry_on_conflict is None else retry_on_conflict}


class ScriptObject(Protocol):
    """A script object with ``to_dict()``, such as elasticsearch.dsl's ``types.Script``."""

    def to_dict(self) -> dict[str, Any]: ...


#: The script of a scripted update: painless source, a script dict (``{"source": ..}``,
#: ``{"id": ..}`` for a stored script), or a script object.
Script = str | Mapping[str, Any] | ScriptObject


def update_values(
    values: Mapping[str, Any] | None, fields: Mapping[str, Any], scripted: bool, index: str, doc_id: str
) -> dict[str, Any]:
    """The field values of an update: the ``values`` mapping and the keyword ``fields`` together.

    Args:
        scripted: a script was given; keyword arguments are then its params (:func:`update_body`),
            but ``values``, field values by definition, never are.

    Raises:
        ArgumentError: ``values`` is not a mapping of field names (a positional index
            name of an older call, say), ``values`` with a script, or a field in both.
    """
    if values is None:
        return dict(fields)
    where = f"(document {doc_id!r}, index {index!r})"
    if scripted:
        raise ArgumentError(
            f"update() takes field values or a script, not both {where}: the script's values go in params="
        )
    if not isinstance(values, Mapping) or not all(isinstance(key, str) for key in values):
        raise ArgumentError(
            f"update()'s positional argument is the field values, a mapping of field names, not "
            f"{type(values).__name__} {where}; options such as index= are passed by keyword"
        )
    twice = sorted(set(values) & set(fields))
    if twice:
        raise ArgumentError(f"update() got {twice} both in values and as keywords {where}")
    return {**values, **fields}


def update_body(
    fields: Mapping[str, Any], script: Script | None, params: Mapping[str, Any] | None, upsert: bytes | None, index: str, doc_id: str
) -> dict[str, Any] | None:
    """The body of a scripted update (``script``, ``upsert``), or ``None`` for an update by fields.

    Args:
        script: painless source, a script dict (``{"source": ..}``, ``{"id": ..}`` for a
            stored script), an elasticsearch.dsl ``Script``, or ``None`` (no script).
        params: the script's ``params``.
        upsert: the ``_source`` (as :func:`encode_source` made it) to store if the
            document does not exist.

    Keyword arguments given with a script are its params, as elasticsearch-dsl takes
    them (``update(script="...", n=1)``), merged with ``params`` and a script dict's own.

    Raises:
        ArgumentError: ``params`` or ``upsert`` without a script, a script that names
            neither a source nor an id, or a param given twice.
    """
    if script is None:
        if params is not None or upsert is not None:
            raise ArgumentError(f"params= and upsert= go with script= (document {doc_id!r}, index {index!r})")
        return None
    body: dict[str, Any] = {}
    if isinstance(script, str):
        body = {"source": script}
    elif isinstance(script, Mapping):
        body = dict(script)
    elif callable(getattr(script, "to_dict", None)):  # elasticsearch.dsl's types.Script
        body = dict(script.to_dict())
    if not {"source", "id"} & body.keys():
        raise ArgumentError(f"script= is painless source, or a dict with 'source' or a stored script's 'id': {script!r}")
    if params is not None or fields:
        # elasticsearch-dsl's update(script=..., n=1): keyword arguments are the script's params
        merged = dict(body.get("params") or {})
        given = [dict(params or {}), dict(fields)]
        if params is not None and "params" in body:
            raise ArgumentError("params= given twice: as an argument and in the script")
        for more in given:
            clash = sorted(set(merged) & set(more))
            if clash:
                raise ArgumentError(
                    f"script params {clash} given twice (params=, the script's own and keyword arguments) "
                    f"(document {doc_id!r}, index {index!r})"
                )
            merged.update(more)
        body["params"] = merged
    request: dict[str, Any] = {"script": body}
    if upsert is not None:
        request["upsert"] = from_json(upsert)
    return request


def object_fields(partial: Mapping[str, Any]) -> list[str]:
    """The keys of a partial update whose values Elasticsearch merges into the stored objects."""
    return [key for key, value in partial.items() if isinstance(value, dict)]


def encode_source(
    document: BaseModel, meta: Meta, index: str | None, revalidate: Revalidate = "auto", *, stamp: bool = True
) -> bytes:
    """The ``_source`` of ``document`` as JSON bytes, checked, with the unknown fields it was loaded with.

    With revalidation, the document as validated is what is encoded, and its values are
    set on ``document``, so the instance holds what is stored.

    A class with an id field (``Index.id_field``) gives ``meta.id`` its value here, and
    leaves it out of ``_source`` unless ``Index.id_in_source``.

    Args:
        stamp: set the class's timestamps (``Index.timestamps``) on ``document`` first, as
            every write does (``_core.timestamps``); ``False`` encodes the document as it
            is (a copy of stored documents, a preview).

    Raises:
        DocumentValidationError: a value is wrong; nothing may be sent.
        DocumentStateError: the document was read with a filtered ``_source``, or its id
            field no longer holds the id it is stored with.
    """
    return _encoded(document, meta, index, revalidate, stamp, _plan(type(document)))


def _encoded(document: BaseModel, meta: Meta, index: str | None, revalidate: Revalidate, stamp: bool, plan: _WritePlan) -> bytes:
    """:func:`encode_source` with the class's write plan given (looked up once per document)."""
    _ready(document, meta, index, plan, stamp)
    return _checked(document, meta, index, _serialized(document, meta, index, plan), revalidate, plan)


def encode_writes(
    documents: Sequence[tuple[BaseModel, str]], revalidate: Revalidate = "auto", *, stamp: bool = True
) -> list[tuple[bytes, str | None, bool] | Exception]:
    """:func:`encode_write` of each ``(document, index)``: its ``_source``, its id and whether
    the id is new, or the error it raises; one document that fails does not stop the others.

    The same steps on each document (:func:`_ready`, :func:`_serialized`, :func:`_checked`,
    :func:`id_to_write`) and the same bytes; only the serializer is called once for the
    documents of one class (:func:`_serialized_together`) instead of once each, which saves
    most of pydantic-core's cost per call. A document whose id field waits for odm's id
    goes through :func:`encode_write` itself, which puts the id in before encoding.
    """
    results: list[tuple[bytes, str | None, bool] | Exception | None] = []
    plans: list[_WritePlan | None] = []  # None: encoded by encode_write, or failed already
    classes: dict[type[BaseModel], list[int]] = {}
    for position, (document, index) in enumerate(documents):
        meta: Meta = document.meta  # type: ignore[attr-defined]
        plan = _plan(type(document))
        results.append(None)
        plans.append(None)
        if plan.id_field and needs_id(document, meta):
            continue  # encode_write, below, in its turn: odm's ids are given in the order of the documents
        try:
            _ready(document, meta, index, plan, stamp)
        except Exception as error:
            results[position] = error
            continue
        plans[position] = plan
        if plan.exclude is None:
            classes.setdefault(type(document), []).append(position)
    together: dict[int, bytes] = {}
    for cls, positions in classes.items():
        if len(positions) > 1:
            sources = _serialized_together(cls, [documents[position][0] for position in positions])
            if sources is not None:
                together.update(zip(positions, sources))
    for position, ready in enumerate(plans):
        if results[position] is not None:
            continue
        document, index = documents[position]
        meta = document.meta  # type: ignore[attr-defined]
        try:
            if ready is None:
                results[position] = encode_write(document, meta, index, revalidate, stamp=stamp)
                continue
            source = together.get(position)
            if source is None:
                source = _serialized(document, meta, index, ready)
            results[position] = (_checked(document, meta, index, source, revalidate, ready), *id_to_write(document, meta))
        except Exception as error:
            results[position] = error
    return results  # type: ignore[return-value]  # every None was replaced


def _ready(document: BaseModel, meta: Meta, index: str | None, plan: _WritePlan, stamp: bool) -> None:
    """What comes before a document is serialized: its id from its id field, no extra keys,
    a whole ``_source``, its timestamps set (``plan``: its class's)."""
    if plan.id_field:
        take_id(document, meta, index)
    if document.__pydantic_extra__:  # keys outside data gave (a request body): never stored
        object.__setattr__(document, "__pydantic_extra__", {})
    if meta.partial_source:
        raise DocumentStateError(
            "the document was read with a filtered _source; saving it would drop the other fields: "
            "use update(field=...) instead, or load it whole", index, meta.id,
        )
    stamps = source_stamps(document, meta) if stamp and plan.stamps else None
    if stamps:  # a class with Index.timestamps
        apply_values(document, stamps)


def _serialized(document: BaseModel, meta: Meta, index: str | None, plan: _WritePlan) -> bytes:
    """The document's fields as JSON, by the serializer with its type check (``warnings="error"``)."""
    try:
        return type(document).__pydantic_serializer__.to_json(
            document, by_alias=True, warnings="error", exclude=plan.exclude, context=TO_ELASTICSEARCH
        )
    except PydanticSerializationError as error:
        raise _refusal(document, index, meta.id, error) from error


_TOGETHER = "__odm_together__"  # the class attribute keeping a class's serializer of (document, marker) lists


def _serialized_together(cls: type[BaseModel], documents: list[BaseModel]) -> list[bytes] | None:
    """What :func:`_serialized` makes of each of ``documents`` (all of class ``cls``), from one call.

    The serializer of ``list[tuple[cls, str]]`` encodes ``[(document, marker), ...]`` as
    ``[[{..},"<marker>"],[{..},"<marker>"]]``, each document's bytes as its own serializer
    makes them; the output is split at ``,"<marker>"],[``, which no document can hold (a
    quote inside a JSON string is escaped) unless it holds the random marker itself as a
    value, and then the count of parts is wrong. ``None``: serialize one by one, which a
    type error (to be located) or such a count asks for.
    """
    serializer: SchemaSerializer | bool | None = cls.__dict__.get(_TOGETHER)
    if serializer is None:
        try:
            serializer = TypeAdapter(list[tuple[cls, str]]).serializer  # type: ignore[valid-type]
        except Exception:  # a class pydantic cannot put in a list of tuples: its documents go one by one
            serializer = False
        type.__setattr__(cls, _TOGETHER, serializer)
    if not isinstance(serializer, SchemaSerializer):
        return None
    marker = secrets.token_hex(16)
    try:
        whole = serializer.to_json(
            [(document, marker) for document in documents], by_alias=True, warnings="error", context=TO_ELASTICSEARCH
        )
    except Exception:  # a type error, or a serializer of the user's that raised: each on its own says which
        return None
    end = b',"' + marker.encode() + b'"]]'
    if not (whole.startswith(b"[[") and whole.endswith(end)):
        return None
    parts = whole[2 : -len(end)].split(end[:-1] + b",[")
    return parts if len(parts) == len(documents) else None


def _checked(document: BaseModel, meta: Meta, index: str | None, source: bytes, revalidate: Revalidate, plan: _WritePlan) -> bytes:
    """What comes after: validated again where the plan or ``revalidate`` asks, the id field
    left out where it is not stored, the unknown fields it was loaded with put back."""
    cls = type(document)
    if revalidate is True or (revalidate == "auto" and plan.revalidates):
        try:
            valid = cls.__pydantic_validator__.validate_json(source)
        except ValidationError as errors:
            raise DocumentValidationError(index, meta.id, errors) from errors
        values = {key: value for key, value in valid.__dict__.items() if key != "meta"}
        apply_values(document, values)  # computed fields then see meta and the valid values
        source = cls.__pydantic_serializer__.to_json(document, by_alias=True, exclude=plan.exclude, context=TO_ELASTICSEARCH)
    if plan.without_id is not None:  # checked with the id field above (it may be required), stored without it
        source = cls.__pydantic_serializer__.to_json(document, by_alias=True, exclude=plan.without_id, context=TO_ELASTICSEARCH)
    unknown = meta.unknown_fields
    if unknown:
        source = _with_unknown(source, unknown)
    return source


def same_source(sent: bytes, stored: Any, model: type[BaseModel] | None = None) -> bool:
    """Whether a stored ``_source`` (read with its vectors) is the JSON a write of ``model`` sent.

    A create answered 409 after its request was retried (the first answer was lost) finds
    its own document: the same content means the write succeeded. Elasticsearch keeps
    ``_source`` as sent, except vectors, which Elasticsearch 9 rebuilds from what it
    indexed: with ``model``, they are compared as those values (``_vectors.stored_as_sent``).
    Anything else compares as JSON (``same_json``: a stored ``1`` is not a ``true`` sent).
    """
    decoded = from_json(sent)
    return same_json(decoded, stored) or (model is not None and stored_as_sent(decoded, stored, model))


def _refusal(document: BaseModel, index: str | None, doc_id: str | None, error: Exception) -> DocumentValidationError:
    """The error for a value the serializer refused, located by validation (``tags.0: ...``) where it can be."""
    cls = type(document)
    try:
        lenient = cls.__pydantic_serializer__.to_json(document, by_alias=True, warnings=False, context=TO_ELASTICSEARCH)
        cls.__pydantic_validator__.validate_json(lenient)
    except ValidationError as errors:
        return DocumentValidationError(index, doc_id, errors)
    except PydanticSerializationError:  # not even serializable leniently (e.g. a lone surrogate)
        pass
    return DocumentValidationError(index, doc_id, " ".join(str(error).split()))


def _with_unknown(source: bytes, unknown: Mapping[str, Any]) -> bytes:
    """``source`` with the unknown stored fields appended (they never share a key with it)."""
    extra = to_json(unknown)
    if source == b"{}":
        return extra
    return b"".join((source[:-1], b",", extra[1:]))


def validate_update(
    document: BaseModel, fields: Mapping[str, Any], index: str, doc_id: str, *, stamp: bool = True
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Check ``fields`` against the model together with the rest of ``document``.

    ``stamp``: add the class's ``updated`` timestamp, and refuse values naming either
    timestamp (``_core.timestamps``); ``False`` writes ``fields`` as given.

    Returns:
        The validated values by field name, and the ``doc`` body of the partial update
        (by Elasticsearch name, as JSON values).

    A document read with a filtered ``_source`` (``meta.partial_source``) has only some
    of its fields: each field is then validated on its own, as for an update by id.

    Raises:
        DocumentValidationError: an unknown field, ``meta``, or an invalid value.
    """
    cls = type(document)
    meta = getattr(document, "meta", None)
    if isinstance(meta, Meta) and meta.partial_source:  # read with a filtered _source: the rest is not known
        return _each_field(cls, fields, index, doc_id, stamp)
    fields = without_id_change(cls, fields, index, doc_id)
    if stamp:
        fields = {**fields, **update_stamps(cls, fields, index, doc_id)}
    try:
        refuse_unknown(cls, fields)
        valid = cls.model_validate({**document.model_dump(warnings=False), **fields})
    except ValidationError as errors:
        raise DocumentValidationError(index, doc_id, errors) from errors
    values = {key: valid.__dict__[key] for key in fields}
    partial = _partial_doc(valid, fields)
    try:
        to_json(partial)  # what the client will send: a lone surrogate cannot be, and is refused here
    except PydanticSerializationError as error:
        raise DocumentValidationError(index, doc_id, " ".join(str(error).split())) from error
    return values, partial


def _partial_doc(document: BaseModel, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The ``doc`` of a partial update: ``fields`` of the validated ``document``, as JSON values.

    An object given as a dict is partial: only its keys are sent, and Elasticsearch merges
    them into the stored object, whose other sub-fields keep their stored values (never the
    model's defaults). An object given as a model instance is the whole value.
    """
    given = {key for key, value in fields.items() if isinstance(value, Mapping) and isinstance(document.__dict__.get(key), BaseModel)}
    doc = document.model_dump(mode="json", by_alias=True, include=set(fields) - given, context=TO_ELASTICSEARCH)
    if given:
        doc |= document.model_dump(mode="json", by_alias=True, include=given, exclude_unset=True, context=TO_ELASTICSEARCH)
    return doc


def validate_fields(cls: type[BaseModel], fields: Mapping[str, Any], index: str, doc_id: str, *, stamp: bool = True) -> dict[str, Any]:
    """Check each of ``fields`` on its own against ``cls``: an update by id, whose other
    fields are not known here. ``stamp`` as for :func:`validate_update`.

    Returns:
        The ``doc`` body of the partial update (by Elasticsearch name, as JSON values).

    Raises:
        DocumentValidationError: an unknown field, ``meta``, or an invalid value; nothing may be sent.
        ArgumentError: the id field given another id.
    """
    return _each_field(cls, fields, index, doc_id, stamp)[1]


def _each_field(
    cls: type[BaseModel], fields: Mapping[str, Any], index: str, doc_id: str, stamp: bool
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The values of ``fields``, each validated on its own, and the ``doc`` body they make."""
    fields = without_id_change(cls, fields, index, doc_id)
    if stamp:
        fields = {**fields, **update_stamps(cls, fields, index, doc_id)}
    try:
        refuse_unknown(cls, fields)
        source = {es_field_name(key, cls.model_fields[key]): value for key, value in fields.items()}
        values = reader_for(cls).read_fields(source, index, doc_id)
    except ValidationError as errors:
        raise DocumentValidationError(index, doc_id, errors) from errors
    except HitValidationError as error:
        raise DocumentValidationError(index, doc_id, error.errors) from error
    partial = _partial_doc(cls.model_construct(**values), fields)
    try:
        to_json(partial)  # what the client will send: a lone surrogate cannot be, and is refused here
    except PydanticSerializationError as error:
        raise DocumentValidationError(index, doc_id, " ".join(str(error).split())) from error
    return values, partial


def refuse_unknown(cls: type[BaseModel], fields: Mapping[str, Any]) -> None:
    """Raise pydantic's ``extra_forbidden`` error for fields the model lacks (and ``meta``)."""
    unknown = sorted((set(fields) - set(cls.model_fields)) | ({"meta"} & set(fields)))
    if unknown:
        raise ValidationError.from_exception_data(
            cls.__name__, [{"type": "extra_forbidden", "loc": (key,), "input": fields[key]} for key in unknown]
        )


def apply_values(document: BaseModel, values: Mapping[str, Any]) -> None:
    """Set field values that were validated already, without validating them again."""
    document.__dict__.update(values)
    document.__pydantic_fields_set__.update(values)


def record_delete(meta: Meta) -> None:
    """Forget the concurrency tokens of a deleted document: saving it again creates it anew."""
    meta.version = meta.seq_no = meta.primary_term = None


def record_write(meta: Meta, answer: Mapping[str, Any], index: str, routing: str | None = None) -> None:
    """Set id, index, version, seq_no and primary_term as a write (index/update/bulk item) answered.

    Set as they are: Elasticsearch sent them, and validating them again costs more than the write.
    """
    meta.id = answer["_id"]
    meta.index = answer.get("_index", index)
    meta.version = answer.get("_version")
    meta.seq_no = answer.get("_seq_no")
    meta.primary_term = answer.get("_primary_term")
    if routing is not None:
        meta.routing = routing
