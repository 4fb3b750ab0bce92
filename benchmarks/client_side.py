"""Client-side costs, no server: search responses -> objects, documents -> bulk NDJSON, memory.

Run: ``benchmarks/run client_side`` (or ``python -m benchmarks.client_side [--quick]``).
Every path starts from the same bytes or the same documents, in one process.
"""

import contextlib
import gc
import json
import sys
import tracemalloc
from collections.abc import Callable
from typing import Any
from unittest import mock

import orjson
from elasticsearch.dsl.response import Response as DslResponse
from elasticsearch.serializer import JsonSerializer

from benchmarks._data import (
    INDEX,
    DslArticle,
    OdmArticle,
    PlainArticle,
    PydanticArticle,
    article_sources,
    search_response,
)
from benchmarks._timing import Table, machine, time_sync
from odm import IndexAction
from odm.bulk._actions import Defaults, encode, encode_many
from odm.bulk._run import _GROUP
from odm._core.hits import reader_for
from odm._core.writes import Revalidate

_client_json = JsonSerializer()


def _dsl_documents(body: bytes) -> list[Any]:
    return list(DslResponse(DslArticle.search(), json.loads(body)).hits)


def _dsl_pydantic_models(body: bytes) -> list[Any]:
    hits = DslResponse(PydanticArticle._doc.search(), json.loads(body)).hits
    return [PydanticArticle.from_doc(hit) for hit in hits]


def _odm_from_bytes(body: bytes) -> list[OdmArticle]:
    return reader_for(OdmArticle).read_response(body)[1]


def _odm_from_dicts(body: bytes) -> list[OdmArticle]:
    return reader_for(OdmArticle).read_many(json.loads(body)["hits"]["hits"])


def hits_table(count: int, repetitions: int) -> Table:
    """A search response of ``count`` hits turned into objects, by each library."""
    body = search_response(count)
    table = Table(f"search response -> objects, {count:,} hits", count, "hit", "orjson.loads")
    paths: dict[str, Callable[[], Any]] = {
        "orjson.loads": lambda: orjson.loads(body),
        "json.loads (the client's default)": lambda: json.loads(body),
        "elasticsearch.dsl Documents": lambda: _dsl_documents(body),
        "elasticsearch.dsl.pydantic": lambda: _dsl_pydantic_models(body),
        "odm, from dicts (json.loads + validate_python)": lambda: _odm_from_dicts(body),
        "odm, from bytes (validate_json, shipped)": lambda: _odm_from_bytes(body),
        "reference: the same path, a plain model without meta": lambda: reader_for(PlainArticle).read_response(body),
    }
    time_sync(table, paths, repetitions)
    return table


def gc_table(count: int, repetitions: int) -> Table:
    """The cyclic collector's share of building ``count`` models, and what pausing it defers."""
    body = search_response(count)
    table = Table(f"garbage collector, {count:,} hits", count, "hit", "odm, collector paused (shipped)")

    def unpaused() -> None:
        with mock.patch("odm._core.hits.gc_paused", contextlib.nullcontext):
            _odm_from_bytes(body)

    def paused_then_collected() -> None:
        kept = _odm_from_bytes(body)
        gc.collect(1)  # the young collections the pause deferred, over every new object
        del kept

    paths = {
        "odm, collector paused (shipped)": lambda: _odm_from_bytes(body),
        "odm, collector running": unpaused,
        "odm, paused + the deferred young collections": paused_then_collected,
    }
    time_sync(table, paths, repetitions)
    return table


def _ndjson(lines: list[bytes]) -> bytes:
    return b"".join(lines)


def serialize_table(count: int, repetitions: int) -> Table:
    """``count`` documents turned into the bulk request body, by each library."""
    sources = article_sources(count)
    documents = [OdmArticle.model_validate(source) for source in sources]
    for number, document in enumerate(documents):
        document.meta.id = str(number)
    dicts = [document.model_dump() for document in documents]  # datetimes as datetime objects
    dsl_documents = [DslArticle(meta={"id": str(n)}, **d) for n, d in enumerate(dicts)]

    def with_orjson() -> bytes:
        lines = []
        for number, source in enumerate(dicts):
            lines.append(orjson.dumps({"index": {"_index": INDEX, "_id": str(number)}}) + b"\n")
            lines.append(orjson.dumps(source) + b"\n")
        return _ndjson(lines)

    def with_dsl() -> bytes:
        lines = []
        for document in dsl_documents:
            action = document.to_dict(include_meta=True)
            source = action.pop("_source")
            lines.append(_client_json.dumps({"index": action}) + b"\n")
            lines.append(_client_json.dumps(source) + b"\n")
        return _ndjson(lines)

    def with_odm(revalidate: Revalidate = "auto") -> bytes:
        # What bulk() does with a list: encoded _GROUP at a time (one serializer call per group).
        defaults = Defaults(revalidate=revalidate)
        lines = []
        for start in range(0, len(documents), _GROUP):
            group = [IndexAction(d) for d in documents[start : start + _GROUP]]
            lines += [encoded.lines for encoded in encode_many(group, start, defaults)]  # type: ignore[union-attr]
        return _ndjson(lines)

    def one_by_one() -> bytes:
        # What bulk() does with a generator's inputs: each encoded as it comes.
        defaults = Defaults()
        return _ndjson([encode(IndexAction(d), n, defaults).lines for n, d in enumerate(documents)])

    table = Table(f"documents -> bulk NDJSON, {count:,} documents", count, "document", "orjson.dumps of dicts")
    paths = {
        "orjson.dumps of dicts": with_orjson,
        "elasticsearch.dsl to_dict() + the client's json": with_dsl,
        "odm, default (a list; auto: serializer type check; this class has no constraints)": with_odm,
        "odm, a generator's inputs (auto; each document encoded on its own)": one_by_one,
        "odm, revalidate=True (every document validated again from its bytes)": lambda: with_odm(revalidate=True),
    }
    time_sync(table, paths, repetitions)
    return table


def _retained(build: Callable[[], Any]) -> int:
    gc.collect()
    tracemalloc.start()
    kept = build()
    size, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del kept
    return size


def memory_report(count: int) -> None:
    """Bytes kept by ``count`` hits as plain dicts and as odm models (each with its response body)."""
    body = search_response(count)
    plain = _retained(lambda: json.loads(body))
    typed = _retained(lambda: reader_for(OdmArticle).read_response(body))
    print(f"\n## memory of {count:,} hits (tracemalloc, what stays allocated)\n")
    print("| kept | MiB | × plain dicts |")
    print("| --- | ---: | ---: |")
    print(f"| plain dicts (the decoded response) | {plain / 2**20:.1f} | 1.00 |")
    print(f"| odm models + response body | {typed / 2**20:.1f} | {typed / plain:.2f} |")


def main() -> None:
    quick = "--quick" in sys.argv
    repetitions = 3 if quick else 9
    large_repetitions = 1 if quick else 3  # the peers take seconds per 10,000 hits
    print(f"# odm client-side benchmarks\n\nmachine: {machine()}")
    small = hits_table(1_000, repetitions)
    small.print()
    large = hits_table(10_000, large_repetitions)
    large.print()
    odm = "odm, from bytes (validate_json, shipped)"
    print(f"\nodm per hit at 10,000 / at 1,000 hits: {large.best(odm) / 10 / small.best(odm):.2f}")
    gc_table(10_000, large_repetitions).print()
    serialize_table(10_000, 3 if quick else 15).print()  # the cheap paths: enough rounds for a steady ratio
    memory_report(10_000)


if __name__ == "__main__":
    main()
