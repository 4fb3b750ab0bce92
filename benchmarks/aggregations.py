"""Typed aggregation results vs elasticsearch.dsl's AggResponse walk and plain orjson.loads.

Run: ``benchmarks/run aggregations`` (or ``python -m benchmarks.aggregations [--quick]``).
One response body (bytes): a 1,000-bucket ``terms`` aggregation with an ``avg``
sub-aggregation, as Elasticsearch answers it. Every path starts from the same bytes and
touches every bucket's key, doc_count and sub value.
"""

import json
import sys
from typing import Annotated, Any, cast

import orjson
from pydantic import AliasPath, BaseModel, Field
from elasticsearch.dsl import AsyncSearch as DslSearch
from elasticsearch.dsl.response import AggResponse

from benchmarks._timing import Table, machine, time_sync
from odm import AsyncDocument, Keyword
from odm.aggs import Aggs, Avg, Terms

BUCKETS = 1_000


class Product(AsyncDocument):
    color: Annotated[str, Keyword()]
    price: float = 0.0

    class Index:
        name = "bench-products"


class ByColor(Aggs):
    price = Avg(Product.price)


class Facets(Aggs):
    colors = Terms(Product.color, size=BUCKETS, aggs=ByColor)


class PlainBucket(BaseModel):
    """The floor: a hand-written pydantic model of the same bucket shape."""

    key: str
    doc_count: int
    key_as_string: str | None = None
    price: float | None = Field(validation_alias=AliasPath("price", "value"))


class PlainTerms(BaseModel):
    buckets: list[PlainBucket]
    doc_count_error_upper_bound: int
    sum_other_doc_count: int


class PlainAggregations(BaseModel):
    colors: PlainTerms


class PlainResponse(BaseModel):
    aggregations: PlainAggregations


def response_body() -> bytes:
    """A search response with 1,000 terms buckets, each with its avg (some null)."""
    buckets = [
        {"key": f"color-{n:04d}", "doc_count": 1000 - n, "price": {"value": None if n % 50 == 0 else n * 1.25}}
        for n in range(BUCKETS)
    ]
    body = {
        "took": 12,
        "timed_out": False,
        "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
        "hits": {"total": {"value": 500500, "relation": "eq"}, "max_score": None, "hits": []},
        "aggregations": {"colors": {"doc_count_error_upper_bound": 0, "sum_other_doc_count": 0, "buckets": buckets}},
    }
    return json.dumps(body).encode()


def _touch_typed(facets: Facets) -> float:
    total = 0.0
    for bucket in facets.colors.buckets:
        total += len(bucket.key) + bucket.doc_count + (bucket.aggs.price or 0.0)
    return total


def _touch_dsl(aggs: Any) -> float:
    total = 0.0
    for bucket in aggs.colors.buckets:
        total += len(bucket.key) + bucket.doc_count + (bucket.price.value or 0.0)
    return total


def _touch_dicts(body: dict[str, Any]) -> float:
    total = 0.0
    for bucket in body["aggregations"]["colors"]["buckets"]:
        total += len(bucket["key"]) + bucket["doc_count"] + (bucket["price"]["value"] or 0.0)
    return total


def main() -> None:
    quick = "--quick" in sys.argv
    body = response_body()
    dsl_search: DslSearch[Any] = DslSearch()
    dsl_search.aggs.bucket("colors", "terms", field="color", size=BUCKETS).metric("price", "avg", field="price")

    def orjson_only() -> Any:
        return orjson.loads(body)

    def orjson_and_walk() -> float:
        return _touch_dicts(orjson.loads(body))

    def dsl_wrappers() -> float:
        data = orjson.loads(body)
        return _touch_dsl(AggResponse(cast(Any, dsl_search.aggs), dsl_search, data["aggregations"]))  # as odm.Response does

    def typed_built_from_bytes() -> Facets:
        return Facets.from_response_json(body)

    def typed_from_bytes() -> float:
        return _touch_typed(Facets.from_response_json(body))

    def typed_from_dict() -> float:
        data = orjson.loads(body)
        return _touch_typed(Facets.from_aggregations(data["aggregations"]))

    # The answers agree before anything is timed.
    assert typed_from_bytes() == typed_from_dict() == dsl_wrappers() == orjson_and_walk()

    table = Table(f"{BUCKETS:,}-bucket terms aggregation with an avg sub-aggregation", BUCKETS, "bucket", "orjson.loads")
    paths = {
        "orjson.loads": orjson_only,
        "orjson.loads + dict walk": orjson_and_walk,
        "plain pydantic models, from bytes, built only": lambda: PlainResponse.model_validate_json(body),
        "odm typed, from bytes, built only": typed_built_from_bytes,
        "odm typed, from bytes (from_response_json)": typed_from_bytes,
        "odm typed, orjson.loads + from_aggregations": typed_from_dict,
        "elasticsearch.dsl AggResponse walk": dsl_wrappers,
    }
    time_sync(table, paths, repetitions=20 if quick else 200, warmup=3)
    print(machine())
    table.print()
    dsl = table.best("elasticsearch.dsl AggResponse walk")
    built = table.ratio("odm typed, from bytes, built only")
    floor = table.ratio("odm typed, from bytes, built only", "plain pydantic models, from bytes, built only")
    print(f"\nbuilding typed buckets from bytes: {built:.2f}x orjson.loads ({floor:.2f}x hand-written pydantic models)")
    for path in ("odm typed, from bytes (from_response_json)", "odm typed, orjson.loads + from_aggregations"):
        print(
            f"{path}, every bucket touched: {table.ratio(path):.2f}x orjson.loads, "
            f"{table.ratio(path, 'orjson.loads + dict walk'):.2f}x orjson.loads + dict walk, "
            f"{dsl / table.best(path):.1f}x faster than dsl's wrappers"
        )


if __name__ == "__main__":
    main()
