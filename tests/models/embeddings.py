"""Documents with vectors at every place a create's read-back compares them: top level,
packed, sparse, nested, and an optional one left out."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel

from odm import AsyncDocument, DenseVector, Keyword, SparseVector

# Not float32s: Elasticsearch gives back the float32 nearest to each, in its own digits.
PRECISE = [0.123456789, 3.3, -7.770000001]
WEIGHTS = {"shoe": 0.123456789, "red": 7.5}  # a sparse weight keeps only the bits Lucene stores


class Embedded(BaseModel):
    label: Annotated[str, Keyword()]
    vector: Annotated[list[float], DenseVector(dims=2, similarity="cosine")]


class Rich(AsyncDocument):
    name: Annotated[str, Keyword()]
    vector: Annotated[list[float], DenseVector(dims=3)]  # cosine, Elasticsearch's default: stored normalized
    packed: Annotated[list[float], DenseVector(dims=3, similarity="l2_norm", packed=True)]
    weights: Annotated[dict[str, float], SparseVector()] = {}
    parts: list[Embedded] = []
    spare: Annotated[list[float] | None, DenseVector(dims=3, similarity="l2_norm")] = None

    class Index:
        name = "vector-rich"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


def rich(model: type[Rich], doc_id: str = "r1", **changes: Any) -> Rich:
    """A document of ``model`` (a bound ``Rich``) with imprecise vector values, and ``changes``."""
    values: dict[str, Any] = {
        "name": "r",
        "vector": PRECISE,
        "packed": PRECISE,
        "weights": WEIGHTS,
        "parts": [Embedded(label="a", vector=[0.1, 0.123456789])],
        **changes,
    }
    return model(**values, meta={"id": doc_id})
