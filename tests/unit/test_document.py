"""AsyncDocument without a server: meta, schema, inheritance, aliases, validation before sending."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import elastic_transport
import orjson
import pytest
from pydantic import BaseModel, Field

from odm import (
    AsyncDocument,
    DocumentExistsError,
    DocumentValidationError,
    InvalidIndexNameError,
    Keyword,
    Meta,
    RetryPolicy,
)
from odm._core.document_options import options_of
from odm.testing.isolation import isolated
from tests.models.blog import Post
from tests.unit.fake_node import Request, fake_client

WHEN = datetime(2026, 11, 24, 12, 0, 0)


def test_meta_is_accepted_by_the_constructor_and_kept_out_of_source_dump_and_schema() -> None:
    post = Post(title="Hello", created_at=WHEN, meta={"id": "p1", "routing": "ann"})
    assert post.meta.id == "p1" and post.meta.routing == "ann"
    assert "meta" not in post.model_dump()
    assert b"meta" not in post.to_source()
    schema = Post.model_json_schema()
    assert "meta" not in schema["properties"]
    assert "Meta" not in str(schema)
    assert "meta" not in repr(post)


def test_meta_defaults_to_unknown_not_zero() -> None:
    meta = Post(title="x", created_at=WHEN).meta
    assert meta == Meta()
    assert meta.seq_no is None and meta.primary_term is None and meta.version is None


def test_to_source_is_the_json_of_the_validated_document_by_alias() -> None:
    class Person(AsyncDocument):
        first_name: str = Field(alias="firstName")
        born: datetime

    person = Person(first_name="Ann", born=WHEN)  # type: ignore[call-arg]  # populate_by_name
    assert person.to_source() == b'{"firstName":"Ann","born":"2026-11-24T12:00:00"}'
    assert Person.model_validate_json(person.to_source()) == person


def test_a_document_mutated_into_an_invalid_state_is_refused_before_sending() -> None:
    post = Post(title="Hello", created_at=WHEN, meta={"id": "p1"})
    post.tags.append(3)  # type: ignore[arg-type]  # in-place mutation escapes validate_assignment
    with pytest.raises(DocumentValidationError) as caught:
        post.to_source("posts")
    message = str(caught.value)
    assert "'posts'" in message and "'p1'" in message and "tags.0" in message


def test_assignment_is_validated() -> None:
    post = Post(title="Hello", created_at=WHEN)
    with pytest.raises(ValueError, match="views"):
        post.views = "many"  # type: ignore[assignment]


def test_subclass_keeps_parent_fields_and_index_settings_and_can_override() -> None:
    class Base(AsyncDocument):
        title: str

        class Index:
            name = "base"
            settings = {"number_of_shards": 1, "refresh_interval": "1s"}

    class Child(Base):
        extra: Annotated[str, Keyword()] = ""

        class Index:
            name = "child"
            settings = {"refresh_interval": "5s"}

    class GrandChild(Child):
        pass

    assert Child.__odm__.name == "child"
    assert Child.__odm__.settings == {"number_of_shards": 1, "refresh_interval": "5s"}
    assert GrandChild.__odm__.name == "child"
    assert Child.mapping_dict() == {"properties": {"title": {"type": "text"}, "extra": {"type": "keyword"}}}
    assert Base.mapping_dict() == {"properties": {"title": {"type": "text"}}}


def test_index_name_is_checked_and_required() -> None:
    class Loose(AsyncDocument):
        title: str

    with pytest.raises(LookupError, match="Loose has no Index.name"):
        Loose.index_name()
    assert Loose.index_name("logs-2026-11") == "logs-2026-11"
    with pytest.raises(InvalidIndexNameError):
        Loose.index_name("Logs")


def test_search_is_bound_to_the_index_and_model() -> None:
    s = Post.search()
    assert s._index == ["posts"] and s._doc_type == [Post]
    assert Post.search(index="posts-read")._index == ["posts-read"]
    assert s.query("match", title="hello").to_dict() == {"query": {"match": {"title": "hello"}}}


def test_validation_error_lists_every_field() -> None:
    with pytest.raises(ValueError) as caught:
        Post.model_validate({"title": 1, "views": "x"})
    text = str(caught.value)
    assert "title" in text and "views" in text and "created_at" in text




def test_a_response_model_can_opt_in_to_meta() -> None:
    class PostWithMeta(Post):
        meta: Meta  # redeclared without exclude: part of dumps and the schema

    post = PostWithMeta(title="Hello", created_at=WHEN, meta={"id": "p1"})  # type: ignore[arg-type]
    assert post.model_dump(mode="json", include={"title", "meta"})["meta"]["id"] == "p1"
    assert "meta" in PostWithMeta.model_json_schema()["properties"]
    assert "meta" not in Post.model_json_schema()["properties"]
    loaded = Post(title="Hello", created_at=WHEN, meta={"id": "p2"})
    assert PostWithMeta.model_validate(loaded, from_attributes=True).meta.id == "p2"


def test_forward_references_are_mapped_once_the_model_is_rebuilt() -> None:
    from odm import MappingError

    class Article(AsyncDocument):
        editor: Editor | None = None  # noqa: F821  # defined below

        class Index:
            name = "articles"

    with pytest.raises(MappingError, match=r"Article is not fully defined.*Article.model_rebuild\(\)"):
        Article.mapping_dict()

    class Editor(BaseModel):
        name: str

    Article.model_rebuild(_types_namespace={"Editor": Editor})
    assert Article.mapping_dict() == {"properties": {"editor": {"type": "object", "properties": {"name": {"type": "text"}}}}}
    assert Article.__odm__.name == "articles"


@pytest.mark.parametrize("same", [True, False], ids=["its-own-earlier-attempt", "another-document"])
async def test_a_create_answered_409_after_a_lost_answer_reads_the_document_back(same: bool) -> None:
    post = Post(title="Hello", created_at=WHEN, meta={"id": "p1"})
    sent = post.to_source("posts")
    stored_source = orjson.loads(sent) if same else {"title": "Other", "created_at": "2026-01-01T00:00:00"}
    lost = [elastic_transport.ConnectionError("reset")]  # the first attempt's answer

    async def conflict_then_read(request: Request) -> tuple[int, Any]:
        if lost:
            raise lost.pop()
        if request.method == "GET":
            return 200, {"_index": "posts", "_id": "p1", "_version": 1, "_seq_no": 7, "_primary_term": 1,
                         "found": True, "_source": stored_source}
        return 409, {"error": {"type": "version_conflict_engine_exception", "reason": "[p1]: document already exists"},
                     "status": 409}

    client, requests = fake_client(conflict_then_read)
    if same:
        assert await post.save(using=client, op_type="create", retry=RetryPolicy(initial_backoff=0)) == "created"
        assert post.meta.seq_no == 7
    else:
        with pytest.raises(DocumentExistsError):
            await post.save(using=client, op_type="create", retry=RetryPolicy(initial_backoff=0))
    assert [(r.method, r.path) for r in requests] == [("POST", "/posts/_create/p1")] * 2 + [("GET", "/posts/_doc/p1")]


async def test_a_create_answered_409_on_its_first_attempt_is_a_conflict_whatever_the_stored_content() -> None:
    async def conflict(request: Request) -> tuple[int, Any]:
        return 409, {"error": {"type": "version_conflict_engine_exception", "reason": "[p1]: document already exists"},
                     "status": 409}

    client, requests = fake_client(conflict)
    with pytest.raises(DocumentExistsError):
        await Post(title="Hello", created_at=WHEN, meta={"id": "p1"}).save(using=client, op_type="create")
    assert [(r.method, r.path) for r in requests] == [("POST", "/posts/_create/p1")]  # nothing read back


def test_a_subclass_removes_an_inherited_alias_with_none_and_isolation_keeps_no_unprefixed_alias() -> None:
    class Base(AsyncDocument):
        title: str = ""

        class Index:
            name = "aliased"
            aliases = {"aliased-all": {}, "aliased-read": {"is_hidden": False}}

    class Narrow(Base):
        class Index:
            aliases = {"aliased-all": None}

    assert dict(options_of(Narrow).aliases) == {"aliased-read": {"is_hidden": False}}
    bound = isolated(Base, "t-1-")
    assert dict(options_of(bound).aliases) == {"t-1-aliased-all": {}, "t-1-aliased-read": {"is_hidden": False}}
