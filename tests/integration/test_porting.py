"""elasticsearch-dsl's own async examples and tests, ported to odm (docs/porting.md).

Each test names what it ports (``examples/dsl/async/*.py`` and
``test_elasticsearch/test_dsl/_async/`` in elastic/elasticsearch-py) and keeps its
checks; where odm differs on purpose, the comment says how. Ports that need a module
odm's test node lacks are marked so and run on a full node.
"""

from __future__ import annotations

from datetime import datetime, timezone
from itertools import permutations
from typing import Annotated, Any

import numpy as np
import pytest
from elasticsearch import AsyncElasticsearch
from pydantic import BaseModel, Field

from odm import (
    AsyncDocument,
    Completion,
    DenseVector,
    DocumentNotFoundError,
    Keyword,
    Long,
    Nested,
    Text,
)
from odm.testing.isolation import isolated

# -- examples/dsl/async/alias_migration.py ------------------------------------------------


class BlogPost(AsyncDocument):
    title: str
    tags: list[Annotated[str, Keyword()]] = []
    content: str
    published: datetime | None = None

    # No _matches() override: odm reads a hit as BlogPost whatever its _index.
    class Index:
        name = "test-blog"  # the alias
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


async def _migrate(posts: type[BlogPost], client: AsyncElasticsearch, version: str, move_data: bool) -> str:
    """The example's migrate(), without the reindex module: copy through iterate() and bulk."""
    alias = posts.index_name()
    next_index = f"{alias}-{version}"
    await client.indices.create(index=next_index)  # settings and mapping come from the template
    if move_data:
        copies = []
        async for post in posts.search().iterate():
            post.meta.index = None  # odm writes a loaded document back where it came from: send it on
            post.meta.seq_no = post.meta.primary_term = None
            copies.append(post)
        result = await posts.bulk(copies, index=next_index, refresh=True)
        assert not result.failed
    actions: list[dict[str, Any]] = [{"add": {"alias": alias, "index": next_index}}]
    if await client.indices.exists_alias(name=alias):
        actions.insert(0, {"remove": {"alias": alias, "index": f"{alias}-*"}})
    await client.indices.update_aliases(actions=actions)
    return next_index


async def test_alias_migration(odm_client: AsyncElasticsearch, index_prefix: str) -> None:
    posts = isolated(BlogPost, index_prefix)
    alias = posts.index_name()
    await posts.as_template(alias, f"{alias}-*", priority=100).save()  # setup()
    first = await _migrate(posts, odm_client, "1", move_data=False)

    await posts(title="Hello World!", tags=["testing", "dummy"], content="...", meta={"id": "0"}).save(refresh=True)
    second = await _migrate(posts, odm_client, "2", move_data=True)

    [post] = [post async for post in posts.search()]
    assert isinstance(post, posts) and post.title == "Hello World!" and post.meta.index == second
    assert (await odm_client.indices.get_alias(name=alias)).body.keys() == {second}
    assert (await odm_client.count(index=first))["count"] == 1  # the old index keeps its copy
    mapping = await odm_client.indices.get_mapping(index=second)
    assert mapping[second]["mappings"]["properties"]["tags"] == {"type": "keyword"}


# -- examples/dsl/async/completion.py -----------------------------------------------------


class Person(AsyncDocument):
    name: Annotated[str, Text(fields={"keyword": Keyword()})] = ""
    popularity: Annotated[int, Long()] = 0
    # The example's ascii_fold analyzer needs analysis-common (absent on the test node);
    # its clean() becomes a constructor: odm validates, it does not call clean().
    suggest: Annotated[dict[str, Any], Completion()] = Field(default_factory=dict)

    @classmethod
    def named(cls, name: str, popularity: int, **kwargs: Any) -> Person:
        suggest = {"input": [" ".join(p) for p in permutations(name.split())], "weight": popularity}
        return cls(name=name, popularity=popularity, suggest=suggest, **kwargs)

    class Index:
        name = "test-suggest"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


async def test_completion(odm_client: AsyncElasticsearch, index_prefix: str) -> None:
    people = isolated(Person, index_prefix)
    await people.init()
    for id, (name, popularity) in enumerate([("Henri de Toulouse-Lautrec", 42), ("Jára Cimrman", 124)]):
        await people.named(name, popularity, meta={"id": str(id)}).save()  # ids are strings
    await people._index.refresh()

    found = {}
    for text in ("já", "tou", "de hen"):
        response = await people.search().suggest("auto_complete", text, completion={"field": "suggest"}).execute()
        found[text] = [option._source.name for option in response.suggest["auto_complete"][0].options]
    assert found == {"já": ["Jára Cimrman"], "tou": ["Henri de Toulouse-Lautrec"], "de hen": ["Henri de Toulouse-Lautrec"]}


# -- examples/dsl/async/vectors.py ---------------------------------------------------------


class Passage(BaseModel):
    content: str
    embedding: Annotated[list[float], DenseVector(dims=3, similarity="l2_norm")]


class WorkplaceDoc(AsyncDocument):
    name: str
    category: Annotated[str, Keyword()]
    passages: Annotated[list[Passage], Nested()] = []

    class Index:
        name = "workplace_documents"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


def _embedding(text: str) -> Any:  # mypy sees the field as list[float]; arrays are taken at run time
    """A stand-in for the example's sentence-transformers model: a float32 array, as models return."""
    return np.array([len(text), text.count("e"), text.count(" ")], dtype=np.float32)


async def test_vectors(odm_client: AsyncElasticsearch, index_prefix: str) -> None:
    docs = isolated(WorkplaceDoc, index_prefix)
    await docs.init()
    for n, (name, text) in enumerate([("Leave", "Vacation time. Leave policy here."), ("Pets", "Birds at work are welcome.")]):
        passages = [Passage(content=s, embedding=_embedding(s)) for s in text.split(". ")]  # numpy arrays accepted
        await docs(name=name, category="policy", passages=passages, meta={"id": str(n)}).save()
    await docs._index.refresh()

    query = "Birds at work are welcome."
    s = docs.search().knn(
        field="passages.embedding", k=5, num_candidates=50, query_vector=_embedding(query).tolist(), inner_hits={"size": 2}
    )
    hits = [hit async for hit in s]
    assert hits[0].name == "Pets"
    assert hits[0].meta.inner_hits is not None and "passages" in hits[0].meta.inner_hits
    # Read back with its vectors (Elasticsearch 9 leaves them out of _source unless asked)
    assert np.array_equal(np.asarray(hits[0].passages[0].embedding, dtype=np.float32), _embedding(query))


# -- examples/dsl/async/data_stream.py ----------------------------------------------------


class Log(AsyncDocument):
    timestamp: datetime = Field(alias="@timestamp")
    level: Annotated[str, Keyword()]
    message: str

    class Index:
        name = "logs"
        data_stream = True


@pytest.mark.requires_module("data-streams")
async def test_data_stream(odm_client: AsyncElasticsearch, index_prefix: str) -> None:
    logs = isolated(Log, index_prefix)
    await logs.init()
    when = datetime(2026, 1, 1, 0, 30, 22, tzinfo=timezone.utc)
    await logs(timestamp=when, level="error", message="test error (individual)").save()  # type: ignore[call-arg]
    # bulk: bare documents are created (the example passes "_op_type": "create" itself)
    await logs.bulk(
        [logs(timestamp=when, level=level, message=message) for level, message in  # type: ignore[call-arg]
         [("warning", "test warning"), ("critical", "test error (bulk)"), ("info", "test info message")]],
        refresh=True,
    )
    found = sorted([log.message async for log in logs.search().query("match", message="error")])
    assert found == ["test error (bulk)", "test error (individual)"]


# -- test_elasticsearch/test_dsl/_async/test_integration/test_document.py (a selection) -----


class Repository(AsyncDocument):
    owner: Annotated[str, Keyword()]
    description: Annotated[str, Text()] = ""
    commit_count: int = 0

    class Index:
        name = "git"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


@pytest.fixture
async def repos(odm_client: AsyncElasticsearch, index_prefix: str) -> type[Repository]:
    bound = isolated(Repository, index_prefix)
    await bound.init()
    await bound(owner="elastic", description="DSL", meta={"id": "elasticsearch-dsl-py"}).save(refresh=True)
    return bound


async def test_get(repos: type[Repository]) -> None:
    elasticsearch_repo = await repos.get("elasticsearch-dsl-py")
    assert isinstance(elasticsearch_repo, repos) and elasticsearch_repo.owner == "elastic"


async def test_get_raises_404_on_non_existent_id(repos: type[Repository]) -> None:
    # elasticsearch-dsl: NotFoundError; odm's DocumentNotFoundError is one, naming index and id
    with pytest.raises(DocumentNotFoundError, match="'elasticsearch-dsl-php'"):
        await repos.get("elasticsearch-dsl-php")


async def test_get_returns_none_if_404_ignored(repos: type[Repository]) -> None:
    # elasticsearch-dsl: get(..., ignore=404) returns None; odm: get_or_none()
    assert await repos.get_or_none("elasticsearch-dsl-php") is None


async def test_update_partial(repos: type[Repository]) -> None:
    repo = await repos.get("elasticsearch-dsl-py")
    await repo.update(description="Python DSL", commit_count=1)
    assert (repo.description, repo.commit_count) == ("Python DSL", 1)
    stored = await repos.get("elasticsearch-dsl-py")
    assert (stored.description, stored.commit_count, stored.meta.version) == ("Python DSL", 1, 2)


@pytest.mark.requires_module("lang-painless")
async def test_update_script(repos: type[Repository]) -> None:
    repo = await repos.get("elasticsearch-dsl-py")
    await repo.update(script="ctx._source.commit_count += params.inc", params={"inc": 5})
    assert repo.commit_count == 5 and (await repos.get("elasticsearch-dsl-py")).commit_count == 5


async def test_save_and_update_return_doc_meta(repos: type[Repository]) -> None:
    # elasticsearch-dsl: save(return_doc_meta=True) returns the write's meta; odm: doc.meta holds it
    repo = repos(owner="elastic", meta={"id": "r2"})
    assert await repo.save(refresh=True) == "created"
    assert (repo.meta.id, repo.meta.version, repo.meta.seq_no is not None) == ("r2", 1, True)
    assert await repo.update(commit_count=3) == "updated" and repo.meta.version == 2


async def test_mget_with_missing(repos: type[Repository]) -> None:
    assert [r and r.meta.id for r in await repos.mget(["elasticsearch-dsl-py", "nope"])] == ["elasticsearch-dsl-py", None]
    assert [r.meta.id for r in await repos.mget(["nope", "elasticsearch-dsl-py"], missing="skip")] == ["elasticsearch-dsl-py"]
    with pytest.raises(DocumentNotFoundError):
        await repos.mget(["elasticsearch-dsl-py", "nope"], missing="raise")


async def test_delete(repos: type[Repository]) -> None:
    await (await repos.get("elasticsearch-dsl-py")).delete(refresh=True)
    assert not await repos.exists("elasticsearch-dsl-py")
