"""Round trips against the real node, property-based: what is written comes back equal.

Properties: save -> get, save -> search (by ids) and bulk -> mget give back equal
models; ``bytes`` are stored as standard base64; fields a document holds in the index
but its model does not declare survive loading it (get, search hit) and writing it
back (save, bulk). Deterministic tests pin the edge values and the values JSON or
Elasticsearch cannot carry (NaN and infinities, UTC offsets with seconds or beyond
18 hours).

Equality is checked twice: ``model_dump()`` with ``==``, then :func:`canonical`, which
also tells apart what ``==`` does not: the UTC offset of equal instants, naive from
aware, ``-0.0`` from ``0.0`` and ``Decimal("1.50")`` from ``Decimal("1.5")``.

Chosen values:
    - Aware datetimes have offsets in whole minutes within +-18:00, the range Java's
      ``ZoneOffset`` (and so Elasticsearch) accepts; years 0001 to 9999.
    - ``Decimal`` is mapped to ``double`` but written as a JSON string, which ``_source``
      keeps as it is; values are ``m / 2**k`` or ``m * 2**k`` with ``|m| < 2**53``, so
      that the double Elasticsearch indexes is exactly the value (its string form,
      trailing zeros included, is what must come back).
    - Text holds any code point UTF-8 can encode (no lone surrogates), with astral
      characters and emoji sequences drawn often.
"""

from __future__ import annotations

import base64
import math
import re
import uuid
from collections.abc import Mapping
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Literal

import elasticsearch
import pytest
from elasticsearch import AsyncElasticsearch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from odm import DocumentValidationError, HitValidationError
from odm.testing.isolation import isolated
from tests.models.roundtrip import Address, Color, Line, Sample

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
WHEN = datetime(2026, 11, 24, 12, 0, 0, tzinfo=timezone(timedelta(hours=1)))

# Examples share the test's index (a function-scoped fixture), so each uses fresh ids.
# No example database: nothing is written into the repository.
PROPERTY = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    database=None,
)


@pytest.fixture
async def samples(odm_client: AsyncElasticsearch, index_prefix: str) -> type[Sample]:
    bound = isolated(Sample, index_prefix)
    await bound.init()
    return bound


@pytest.fixture
async def unmapped_samples(odm_client: AsyncElasticsearch, samples: type[Sample]) -> type[Sample]:
    """``samples`` with dynamic mapping off: any JSON value can sit in an undeclared field."""
    await odm_client.indices.put_mapping(index=samples.index_name(), dynamic="false")
    return samples


# -- strategies ---------------------------------------------------------------------

EMOJI = ["😀", "𝄞", "𠜎", "👩\u200d💻", "🇫🇷", "🏳️\u200d🌈", "\U0010fffd"]
CHARACTERS = st.one_of(
    st.characters(codec="utf-8"),  # every code point but the surrogates
    st.characters(min_codepoint=0x10000, codec="utf-8"),  # astral planes
    st.sampled_from(EMOJI),
)
TEXT = st.lists(CHARACTERS, max_size=12).map("".join)

INT64 = st.one_of(st.sampled_from([INT64_MIN, INT64_MAX]), st.integers(INT64_MIN, INT64_MAX))
FLOATS = st.floats(allow_nan=False, allow_infinity=False)
OFFSETS = st.integers(-18 * 60, 18 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))
# A day away from the ends of datetime's range, so that comparing instants cannot overflow.
AWARE = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=OFFSETS)
NAIVE = st.datetimes()
DATETIMES = AWARE | NAIVE


def exact_decimal(mantissa: int, halvings: int, zeros: int) -> Decimal:
    """``mantissa / 2**halvings`` written with ``zeros`` more trailing zeros: a double holds it."""
    digits = mantissa * 5**halvings  # mantissa / 2**k == mantissa * 5**k / 10**k
    return Decimal(f"{digits}{'0' * zeros}E-{halvings + zeros}")


MANTISSA = st.integers(-(2**53) + 1, 2**53 - 1)
DECIMALS = st.one_of(
    st.builds(exact_decimal, MANTISSA, st.integers(0, 12), st.integers(0, 3)),
    st.builds(lambda mantissa, doublings: Decimal(mantissa * 2**doublings), MANTISSA, st.integers(0, 64)),
)

LINES = st.fixed_dictionaries(
    {"sku": TEXT, "quantity": INT64, "price": FLOATS},
    optional={"note": st.none() | TEXT, "shipped_at": st.none() | DATETIMES},
).map(Line.model_validate)
ADDRESSES = st.fixed_dictionaries(
    {"street": TEXT, "city": TEXT},
    optional={"postcode": st.none() | TEXT, "since": st.none() | st.dates()},
).map(Address.model_validate)

# The keyword arguments of one Sample; the optional ones are left out (unset) at times.
SAMPLE_VALUES = st.fixed_dictionaries(
    {"count": INT64, "stamp": DATETIMES},
    optional={
        "ratio": FLOATS,
        "weight": st.none() | FLOATS,
        "local": st.none() | DATETIMES,
        "day": st.dates(),
        "title": TEXT,
        "label": TEXT,
        "data": st.binary(max_size=40),
        "chunks": st.lists(st.binary(max_size=12), max_size=3),
        "amount": DECIMALS,
        "ident": st.none() | st.uuids(),
        "color": st.sampled_from(Color),
        "tags": st.lists(TEXT, max_size=3),
        "scores": st.lists(FLOATS, max_size=3),
        "lines": st.lists(LINES, max_size=3),
        "address": st.none() | ADDRESSES,
        "note": st.none() | TEXT,
    },
)
BATCHES = st.lists(SAMPLE_VALUES, min_size=1, max_size=5)

# Names an undeclared field can have: never a declared one (nor "meta"), no dots, no "_" first.
DECLARED_NAMES = frozenset(Sample.model_fields)  # no aliases: these are the names in _source, and "meta"
UNKNOWN_KEYS = st.text(st.characters(categories=("L", "Nd")), min_size=1, max_size=10).filter(
    lambda key: key not in DECLARED_NAMES
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(INT64_MIN, INT64_MAX) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(UNKNOWN_KEYS, inner, max_size=3),
    max_leaves=10,
)
UNKNOWN_FIELDS = st.dictionaries(UNKNOWN_KEYS, JSON_VALUES, min_size=1, max_size=4)


# -- helpers --------------------------------------------------------------------------


def canonical(value: Any) -> Any:
    """``value`` with every distinction a round trip must keep visible to ``==``.

    An aware datetime becomes its wall time and UTC offset (``==`` compares instants
    only, and a naive one with its offset None), a float its hex form (``-0.0``), a
    Decimal its string (``1.50``), anything else is tagged with its type.
    """
    if isinstance(value, BaseModel):
        return canonical(value.model_dump())
    if isinstance(value, dict):
        return {key: canonical(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [canonical(item) for item in value]
    if isinstance(value, datetime):
        return ("datetime", value.replace(tzinfo=None).isoformat(), value.utcoffset())
    if isinstance(value, float):
        return ("float", value.hex())
    if isinstance(value, Decimal):
        return ("Decimal", str(value))
    return (type(value).__name__, value)


def assert_same(loaded: Sample | None, original: Sample) -> None:
    assert loaded is not None, f"document {original.meta.id!r} was not found"
    assert loaded.model_dump() == original.model_dump()
    assert canonical(loaded) == canonical(original)


def snapshot(docs: list[Sample]) -> list[Sample]:
    """Deep copies taken before writing: a write may set the stored values back on the instance."""
    return [doc.model_copy(deep=True) for doc in docs]


def new_ids(count: int) -> list[str]:
    return [uuid.uuid4().hex for _ in range(count)]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


async def search_by_ids(cls: type[Sample], ids: list[str]) -> dict[str, Sample]:
    search = cls.search().filter("ids", values=ids).extra(size=len(ids))
    return {str(hit.meta.id): hit async for hit in search}


# -- save, search, bulk: equal models back ---------------------------------------------


@PROPERTY
@given(batch=BATCHES)
async def test_save_then_get_gives_back_an_equal_model(samples: type[Sample], batch: list[dict[str, Any]]) -> None:
    ids = new_ids(len(batch))
    docs = [samples(**values, meta={"id": doc_id}) for values, doc_id in zip(batch, ids)]
    expected = snapshot(docs)
    for doc in docs:
        assert await doc.save() == "created"
    for want, doc_id in zip(expected, ids):
        assert_same(await samples.get(doc_id), want)


@PROPERTY
@given(batch=BATCHES)
async def test_save_then_search_by_ids_gives_back_equal_models(
    samples: type[Sample], batch: list[dict[str, Any]]
) -> None:
    ids = new_ids(len(batch))
    docs = [samples(**values, meta={"id": doc_id}) for values, doc_id in zip(batch, ids)]
    expected = snapshot(docs)
    for doc in docs:
        await doc.save(refresh=True)
    found = await search_by_ids(samples, ids)
    assert sorted(found) == sorted(ids)
    for want, doc_id in zip(expected, ids):
        assert_same(found[doc_id], want)


@PROPERTY
@given(batch=BATCHES)
async def test_bulk_then_mget_gives_back_equal_models(samples: type[Sample], batch: list[dict[str, Any]]) -> None:
    ids = new_ids(len(batch))
    docs = [samples(**values, meta={"id": doc_id}) for values, doc_id in zip(batch, ids)]
    expected = snapshot(docs)
    result = await samples.bulk(docs, refresh=True)
    assert result.ok, [(failure.position, failure.error) for failure in result.failed]
    loaded = await samples.mget(ids)
    assert len(loaded) == len(expected)
    for got, want in zip(loaded, expected):
        assert_same(got, want)


@PROPERTY
@given(data=st.binary(max_size=40), chunks=st.lists(st.binary(max_size=12), max_size=3))
async def test_bytes_are_stored_as_standard_base64_by_save_and_bulk(
    odm_client: AsyncElasticsearch, samples: type[Sample], data: bytes, chunks: list[bytes]
) -> None:
    saved_id, bulk_id = new_ids(2)
    await samples(count=0, stamp=WHEN, data=data, chunks=chunks, meta={"id": saved_id}).save()
    result = await samples.bulk([samples(count=0, stamp=WHEN, data=data, chunks=chunks, meta={"id": bulk_id})])
    assert result.ok, [failure.error for failure in result.failed]
    for doc_id in (saved_id, bulk_id):
        source = (await odm_client.get(index=samples.index_name(), id=doc_id))["_source"]
        assert (source["data"], source["chunks"]) == (b64(data), [b64(chunk) for chunk in chunks])


NEPAL = timedelta(hours=5, minutes=45)

# One edge of each kind per document, each written and read back all three ways.
EDGES: dict[str, dict[str, Any]] = {
    "int64 bounds": {
        "count": INT64_MIN,
        "lines": [Line(sku="max", quantity=INT64_MAX, price=0.0), Line(sku="min", quantity=INT64_MIN, price=-0.0)],
    },
    "floats": {
        "count": 0,
        "ratio": -0.0,
        "weight": 5e-324,  # the smallest subnormal
        "scores": [1.7976931348623157e308, -2.2250738585072014e-308, 0.1],
    },
    "datetimes": {
        "count": 0,
        "stamp": datetime(9999, 12, 30, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-18))),
        "local": datetime(1, 1, 1),
        "day": date(1, 1, 1),
        "lines": [
            Line(sku="a", quantity=1, price=1.5, shipped_at=datetime(2026, 3, 1, 12, tzinfo=timezone(NEPAL))),
            Line(sku="b", quantity=2, price=2.5, shipped_at=datetime(1, 1, 2, tzinfo=timezone(timedelta(hours=18)))),
            Line(sku="c", quantity=3, price=3.5, shipped_at=datetime(2026, 3, 1, 12, 0, 0, 1)),
        ],
        "address": Address(street="x", city="y", since=date(9999, 12, 31)),
    },
    "astral text": {
        "count": 0,
        "stamp": datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=-9, minutes=-30))),
        "title": "😀𝄞𠜎👩\u200d💻🇫🇷",
        "label": "\U0010ffff\x00",
        "tags": ["𝄞", ""],
        "note": "\x00\x7f\u2028",
        "lines": [Line(sku="🏳️\u200d🌈", quantity=0, price=0.0, note="𠜎")],
    },
    "bytes": {"count": 0, "data": bytes(range(256)), "chunks": [b"", b"\xff\xfe", b"\x00", b"\xc3\x28"]},
    "decimals": {"count": 0, "amount": Decimal("-0.000244140625"), "scores": []},
    "decimal string form": {"count": 0, "amount": Decimal("1.50")},
    "decimal at 2**53": {"count": 0, "amount": Decimal(2**53 - 1)},
    "uuid, enum, nested and object": {
        "count": 1,
        "ident": uuid.UUID("ffffffff-ffff-ffff-ffff-ffffffffffff"),
        "color": Color.BLUE,
        "address": Address(street="1 Main St", city="Zürich", postcode=None, since=date(2000, 2, 29)),
        "lines": [Line(sku="x", quantity=1, price=9.99), Line(sku="y", quantity=2, price=0.5, note=None)],
    },
    "empty lists and None": {
        "count": 0,
        "weight": None,
        "local": None,
        "ident": None,
        "address": None,
        "note": None,
        "tags": [],
        "chunks": [],
        "scores": [],
        "lines": [],
    },
    "defaults left unset": {"count": 0},
}


@pytest.mark.parametrize("values", list(EDGES.values()), ids=list(EDGES))
async def test_edge_values_round_trip_through_get_search_and_mget(
    samples: type[Sample], values: dict[str, Any]
) -> None:
    given_values: dict[str, Any] = {"stamp": datetime(2026, 11, 24, 12, 0), **values}
    saved_id, bulk_id = new_ids(2)
    saved = samples(**given_values, meta={"id": saved_id})
    bulked = samples(**given_values, meta={"id": bulk_id})
    [expected] = snapshot([saved])
    await saved.save(refresh=True)
    result = await samples.bulk([bulked], refresh=True)
    assert result.ok, [failure.error for failure in result.failed]
    assert_same(await samples.get(saved_id), expected)
    assert_same((await search_by_ids(samples, [saved_id]))[saved_id], expected)
    assert_same((await samples.mget([bulk_id]))[0], expected)


# -- values JSON or Elasticsearch cannot carry -----------------------------------------


NON_FINITE = pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf], ids=["nan", "inf", "-inf"])


@NON_FINITE
@pytest.mark.parametrize("field", ["ratio", "weight", "scores", "lines"])
async def test_non_finite_floats_are_refused_and_nothing_is_written(
    samples: type[Sample], field: str, value: float
) -> None:
    """JSON has no NaN or infinity: such a value is refused (on construction or on writing),
    naming the field, and never stored as something else (``null``)."""
    as_field: dict[str, Any] = {
        "ratio": value,
        "weight": value,  # float | None: null would be a valid, and wrong, stored value
        "scores": [1.0, value],
        "lines": [Line(sku="s", quantity=1, price=value)],
    }

    def build(doc_id: str) -> Sample:
        return samples(count=1, stamp=WHEN, meta={"id": doc_id}, **{field: as_field[field]})

    with pytest.raises((ValidationError, DocumentValidationError), match=field):
        await build("saved").save(refresh=True)
    try:
        bulked = build("bulked")
    except ValidationError as error:
        assert field in str(error)
    else:
        result = await samples.bulk([bulked], refresh=True)
        assert [type(failure.error) for failure in result.failed] == [DocumentValidationError]
    assert await samples.mget(["saved", "bulked"]) == [None, None]


@NON_FINITE
@pytest.mark.parametrize("where", ["scores.1", "lines.0.price"])
async def test_non_finite_floats_put_in_place_are_refused_on_writing(
    samples: type[Sample], where: str, value: float
) -> None:
    """Values changed in place escape validation on assignment: writing must still refuse them."""

    def build(doc_id: str) -> Sample:
        line = Line(sku="s", quantity=1, price=1.0)
        doc = samples(count=1, stamp=WHEN, scores=[1.0], lines=[line], meta={"id": doc_id})
        if where == "scores.1":
            doc.scores.append(value)
        else:
            doc.lines[0].price = value
        return doc

    with pytest.raises(DocumentValidationError, match=re.escape(where)):
        await build("saved").save(refresh=True)
    result = await samples.bulk([build("bulked")], refresh=True)
    assert [type(failure.error) for failure in result.failed] == [DocumentValidationError]
    assert await samples.mget(["saved", "bulked"]) == [None, None]


@pytest.mark.parametrize(
    "offset",
    [timedelta(seconds=1), timedelta(hours=5, minutes=30, seconds=15), -timedelta(hours=3, seconds=59)],
    ids=["+00:00:01", "+05:30:15", "-03:00:59"],
)
async def test_a_utc_offset_with_seconds_round_trips_or_is_refused(samples: type[Sample], offset: timedelta) -> None:
    """Python allows offsets with seconds; stored, such a datetime must come back as it was."""
    given = datetime(2026, 11, 24, 12, 0, 0, tzinfo=timezone(offset))
    doc = samples(count=1, stamp=given, meta={"id": "s"})
    [expected] = snapshot([doc])
    try:
        await doc.save()
    except DocumentValidationError:
        assert not await samples.exists("s")
        return
    stored = await samples.get("s")
    assert_same(stored, expected)
    assert stored.stamp == given  # the same instant (odm stores it in UTC), not shifted by the seconds


@pytest.mark.parametrize("minutes", [18 * 60 + 1, -(23 * 60 + 59)], ids=["+18:01", "-23:59"])
async def test_a_utc_offset_beyond_18_hours_is_refused(samples: type[Sample], minutes: int) -> None:
    """Python allows offsets up to 23:59; Elasticsearch (Java's ZoneOffset) only up to 18:00."""
    stamp = datetime(2026, 11, 24, 12, 0, tzinfo=timezone(timedelta(minutes=minutes)))
    with pytest.raises((DocumentValidationError, elasticsearch.BadRequestError)):
        await samples(count=1, stamp=stamp, meta={"id": "far"}).save()
    assert not await samples.exists("far")


# -- undeclared stored fields survive loading and writing back -------------------------

DECLARED = {"count": 7, "stamp": "2026-11-24T12:00:00+01:00", "title": "before", "tags": ["a", "b"], "amount": "2.5"}
UNKNOWN = {"organization": "elastic", "extra_obj": {"a": [1, 2]}}

Path = Literal["get", "search", "bulk"]


async def load_change_and_write_back(
    cls: type[Sample], doc_id: str, path: Path, refresh: bool | Literal["wait_for"] = "wait_for"
) -> None:
    """Load by ``get`` (saved back) or from a search hit (saved back, or bulk), change the title."""
    if path == "get":
        doc = await cls.get(doc_id)
    else:
        [doc] = (await search_by_ids(cls, [doc_id])).values()
    doc.title = "after"
    if path == "bulk":
        result = await cls.bulk([doc], refresh=refresh)
        assert result.ok, [failure.error for failure in result.failed]
    else:
        await doc.save(refresh=refresh)


def assert_kept(source: Mapping[str, Any], unknown: Mapping[str, Any]) -> None:
    assert {key: value for key, value in source.items() if key not in DECLARED_NAMES} == unknown
    assert source["title"] == "after"
    assert {key: source.get(key) for key in DECLARED if key != "title"} == {
        key: value for key, value in DECLARED.items() if key != "title"
    }


@pytest.mark.parametrize("path", ["get", "search", "bulk"])
async def test_undeclared_stored_fields_survive_loading_and_writing_back(
    odm_client: AsyncElasticsearch, samples: type[Sample], path: Path
) -> None:
    await odm_client.index(index=samples.index_name(), id="u1", document={**DECLARED, **UNKNOWN}, refresh="wait_for")
    await load_change_and_write_back(samples, "u1", path)
    raw = await odm_client.get(index=samples.index_name(), id="u1")
    assert_kept(raw["_source"], UNKNOWN)


@pytest.mark.parametrize("path", ["get", "search", "bulk"])
async def test_a_stored_field_named_meta_survives_or_loading_refuses_it(
    odm_client: AsyncElasticsearch, samples: type[Sample], path: Path
) -> None:
    """``meta`` is the documents' attribute for hit metadata, and also a field name an index may hold."""
    stored = {"meta": {"source": "import", "n": [1, 2]}}
    await odm_client.index(index=samples.index_name(), id="m1", document={**DECLARED, **stored}, refresh=True)
    try:
        await load_change_and_write_back(samples, "m1", path, refresh=True)
    except HitValidationError:
        return  # refused loudly: acceptable
    source = (await odm_client.get(index=samples.index_name(), id="m1"))["_source"]
    assert (source.get("meta"), source["title"]) == (stored["meta"], "after")


@pytest.mark.parametrize("path", ["get", "search", "bulk"])
@PROPERTY
@given(unknown=UNKNOWN_FIELDS)
async def test_generated_undeclared_fields_survive_loading_and_writing_back(
    odm_client: AsyncElasticsearch, unmapped_samples: type[Sample], path: Path, unknown: dict[str, Any]
) -> None:
    doc_id = uuid.uuid4().hex
    index = unmapped_samples.index_name()
    await odm_client.index(index=index, id=doc_id, document={**DECLARED, **unknown}, refresh=True)
    await load_change_and_write_back(unmapped_samples, doc_id, path, refresh=True)
    raw = await odm_client.get(index=index, id=doc_id)
    assert_kept(raw["_source"], unknown)
