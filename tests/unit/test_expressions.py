"""Field expressions: the query body of every form, every usage site, and the class hook."""

from __future__ import annotations

import copy
import pickle
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from elasticsearch.dsl import query

from odm import A, AsyncDocument, FieldExpr, FieldQueryError, Q
from odm.testing.isolation import isolated
from tests.models.blog import Author, Comment, Post
from tests.models.catalog import Product, Status

WHEN = datetime(2026, 11, 24, 12, 30)
SKU = uuid.UUID("12345678-1234-5678-1234-567812345678")


def body(q: query.Query) -> dict[str, Any]:
    return q.to_dict()


@pytest.mark.parametrize(
    ("built", "expected"),
    [
        (lambda: Post.views > 10, {"range": {"views": {"gt": 10}}}),
        (lambda: Post.views >= 10, {"range": {"views": {"gte": 10}}}),
        (lambda: Post.views < 10, {"range": {"views": {"lt": 10}}}),
        (lambda: Post.views <= 10, {"range": {"views": {"lte": 10}}}),
        (lambda: Post.views.between(5, 9), {"range": {"views": {"gte": 5, "lte": 9}}}),
        (lambda: Post.tags == "python", {"term": {"tags": "python"}}),
        (lambda: "python" == Post.tags, {"term": {"tags": "python"}}),
        (lambda: Post.tags != "java", {"bool": {"must_not": [{"term": {"tags": "java"}}]}}),
        (lambda: Post.tags.in_(["python", "rust"]), {"terms": {"tags": ["python", "rust"]}}),
        (lambda: Post.tags.in_(t for t in ("a",)), {"terms": {"tags": ["a"]}}),
        (lambda: Post.title.match("hello"), {"match": {"title": "hello"}}),
        (
            lambda: Post.title.match("hello world", operator="and"),
            {"match": {"title": {"query": "hello world", "operator": "and"}}},
        ),
        (lambda: Post.tags.prefix("py"), {"prefix": {"tags": "py"}}),
        (lambda: Post.body.exists(), {"exists": {"field": "body"}}),
        (lambda: Post.author == None, {"bool": {"must_not": [{"exists": {"field": "author"}}]}}),  # noqa: E711
        (lambda: Post.author != None, {"exists": {"field": "author"}}),  # noqa: E711
    ],
)
def test_each_operator_builds_its_query(built: Any, expected: dict[str, Any]) -> None:
    assert body(built()) == expected


class TestTextFields:
    def test_term_level_queries_use_the_keyword_sub_field(self) -> None:
        assert body(Post.title == "Hello") == {"term": {"title.raw": "Hello"}}
        assert body(Post.title.in_(["a", "b"])) == {"terms": {"title.raw": ["a", "b"]}}
        assert body(Post.title > "m") == {"range": {"title.raw": {"gt": "m"}}}
        assert body(Post.title.between("a", "b")) == {"range": {"title.raw": {"gte": "a", "lte": "b"}}}

    def test_the_first_keyword_sub_field_is_taken(self) -> None:
        assert body(Product.name == "Mug") == {"term": {"name.raw": "Mug"}}

    def test_match_prefix_and_exists_stay_on_the_text_field(self) -> None:
        assert body(Post.title.prefix("he")) == {"prefix": {"title": "he"}}
        assert body(Post.title.exists()) == {"exists": {"field": "title"}}

    @pytest.mark.parametrize(
        ("operation", "built"),
        [
            ("==", lambda: Post.body == "x"),
            ("in_()", lambda: Post.body.in_(["x"])),
            ("gt range", lambda: Post.body > "x"),
            ("between()", lambda: Post.body.between("a", "b")),
        ],
    )
    def test_text_alone_refuses_term_level_queries(self, operation: str, built: Any) -> None:
        with pytest.raises(FieldQueryError, match=rf"Post.body is a text field without a keyword sub-field, so {operation}"):
            built()

    def test_sub_fields_are_fields(self) -> None:
        assert str(Post.title.raw) == "title.raw"
        assert body(Post.title.raw == "Hello") == {"term": {"title.raw": "Hello"}}
        assert body(Post.title.raw.prefix("He")) == {"prefix": {"title.raw": "He"}}


class TestObjectsAndNested:
    def test_object_fields_are_reached_by_path(self) -> None:
        assert body(Post.author.name.raw == "Ann") == {"term": {"author.name.raw": "Ann"}}
        assert body(Post.author.email == "a@b.c") == {"term": {"author.email": "a@b.c"}}
        assert body(Post.author.name.match("ann")) == {"match": {"author.name": "ann"}}

    def test_nested_paths_wrap_themselves(self) -> None:
        assert body(Post.comments.author == "ann") == {
            "nested": {"path": "comments", "query": {"term": {"comments.author": "ann"}}}
        }
        assert body(Post.comments.created_at >= WHEN) == {
            "nested": {"path": "comments", "query": {"range": {"comments.created_at": {"gte": "2026-11-24T12:30:00"}}}}
        }

    def test_exists_on_a_nested_field_asks_for_an_element(self) -> None:
        assert body(Post.comments.exists()) == {
            "nested": {"path": "comments", "query": {"exists": {"field": "comments"}}}
        }
        assert body(Product.variants.reviews.exists()) == {
            "nested": {
                "path": "variants",
                "query": {"nested": {"path": "variants.reviews", "query": {"exists": {"field": "variants.reviews"}}}},
            }
        }

    def test_not_equal_on_nested_is_no_such_element(self) -> None:
        assert body(Post.comments.author != "ann") == {
            "bool": {"must_not": [{"nested": {"path": "comments", "query": {"term": {"comments.author": "ann"}}}}]}
        }

    def test_nested_in_nested_wraps_twice(self) -> None:
        assert body(Product.variants.reviews.stars > 3) == {
            "nested": {
                "path": "variants",
                "query": {"nested": {"path": "variants.reviews", "query": {"range": {"variants.reviews.stars": {"gt": 3}}}}},
            }
        }

    def test_dict_fields_take_any_key(self) -> None:
        assert body(Product.counts.red > 1) == {"range": {"counts.red": {"gt": 1}}}

    @pytest.mark.parametrize(
        "built",
        [
            lambda: Post.author == Author(name="a", email="b"),  # type: ignore[operator]
            lambda: Post.comments.in_([]),  # type: ignore[operator]
            lambda: Post.author.match(Author(name="a", email="b")),  # type: ignore[operator]
        ],
    )
    def test_an_object_cannot_be_compared(self, built: Any) -> None:
        with pytest.raises(FieldQueryError, match=r"is an object; compare one of its fields, e.g. Post.(author|comments).<field>"):
            built()

    def test_an_unknown_path_names_what_exists(self) -> None:
        with pytest.raises(AttributeError, match=r"Post.author has no field or sub-field 'nope'; it has: name, email"):
            Post.author.nope  # type: ignore[attr-defined]  # noqa: B018
        with pytest.raises(AttributeError, match=r"Post.title has no field or sub-field 'rwa'; it has: raw"):
            Post.title.rwa  # type: ignore[attr-defined]  # noqa: B018
        with pytest.raises(AttributeError, match=r"Post.views has no field or sub-field 'x'; it has: none"):
            Post.views.x  # type: ignore[attr-defined]  # noqa: B018


class TestValues:
    def test_values_are_serialized_by_the_field_type(self) -> None:
        assert body(Post.created_at > WHEN) == {"range": {"created_at": {"gt": "2026-11-24T12:30:00"}}}
        assert body(Product.status == Status.LIVE) == {"term": {"status": "live"}}
        assert body(Product.sku == SKU) == {"term": {"sku": "12345678-1234-5678-1234-567812345678"}}
        assert body(Product.status.in_([Status.LIVE, Status.DRAFT])) == {"terms": {"status": ["live", "draft"]}}
        assert body(Product.price > 1) == {"range": {"price": {"gt": 1}}}

    def test_values_are_taken_as_the_model_takes_them(self) -> None:
        class Priced(AsyncDocument):
            price: Decimal = Decimal(0)
            status: Status = Status.DRAFT

            class Index:
                name = "priced"

        assert body(Priced.price >= 10) == {"range": {"price": {"gte": "10"}}}
        assert body(Priced.status == "live") == {"term": {"status": "live"}}  # a str from a query string
        with pytest.raises(FieldQueryError, match="'gone' is not a valid Status"):
            Priced.status == "gone"  # noqa: B015 - mypy takes a str; its value is checked at run time

    def test_aliases_name_the_elasticsearch_field(self) -> None:
        assert body(Product.code == "A-1") == {"term": {"productCode": "A-1"}}

    @pytest.mark.parametrize(
        ("built", "message"),
        [  # what the model refuses is refused (mypy takes a str for a datetime or UUID: tests/typing)
            (lambda: Post.views > "ten", r"Post.views: 'ten' is not a valid int"),  # type: ignore[operator]
            (lambda: Post.created_at < "yesterday", r"Post.created_at: 'yesterday' is not a valid datetime"),
            (lambda: Product.sku == "not-a-uuid", r"Product.sku: 'not-a-uuid' is not a valid UUID"),
            (lambda: Post.tags.in_([3]), r"Post.tags: 3 is not a valid str"),  # type: ignore[list-item]
        ],
    )
    def test_a_value_of_the_wrong_type_is_refused(self, built: Any, message: str) -> None:
        with pytest.raises(FieldQueryError, match=message):
            built()


class TestCombining:
    def test_and_or_not_and_q(self) -> None:
        combined = ((Post.views > 1) & Q("match", title="x")) | ~Post.author.exists()
        assert body(combined) == {
            "bool": {
                "should": [
                    {"bool": {"must": [{"range": {"views": {"gt": 1}}}, {"match": {"title": "x"}}]}},
                    {"bool": {"must_not": [{"exists": {"field": "author"}}]}},
                ]
            }
        }

    def test_q_on_the_left(self) -> None:
        assert body(Q("term", tags="a") & (Post.views < 3)) == {
            "bool": {"must": [{"term": {"tags": "a"}}, {"range": {"views": {"lt": 3}}}]}
        }


class TestUsageSites:
    def test_query_filter_exclude(self) -> None:
        s = Post.search().query(Post.title.match("hi")).filter(Post.views > 10).exclude(Post.tags == "draft")
        assert s.to_dict() == {
            "query": {
                "bool": {
                    "must": [{"match": {"title": "hi"}}],
                    "filter": [{"range": {"views": {"gt": 10}}}, {"bool": {"must_not": [{"term": {"tags": "draft"}}]}}],
                }
            }
        }

    def test_sort(self) -> None:
        s = Post.search().sort(-Post.views, +Post.title.raw, Post.created_at)
        assert s.to_dict() == {"sort": [{"views": {"order": "desc"}}, "title.raw", "created_at"]}

    def test_source_highlight_collapse(self) -> None:
        s = Post.search().source([Post.title, Post.author.name]).highlight(Post.body).collapse(Post.author.name.raw)
        assert s.to_dict() == {
            "_source": ["title", "author.name"],
            "highlight": {"fields": {"body": {}}},
            "collapse": {"field": "author.name.raw"},
        }

    def test_aggregations(self) -> None:
        s = Post.search()
        s.aggs.bucket("tags", A("terms", field=Post.tags)).metric("top", A("max", field=Post.views))
        assert s.to_dict() == {
            "aggs": {"tags": {"terms": {"field": "tags"}, "aggs": {"top": {"max": {"field": "views"}}}}}
        }

    def test_dsl_query_classes_take_it_as_a_field(self) -> None:
        assert query.Term(Post.tags, {"value": "x"}).to_dict() == {"term": {"tags": {"value": "x"}}}
        assert Q("exists", field=Post.title.raw).to_dict() == {"exists": {"field": "title.raw"}}


class TestClassHook:
    def test_class_level_is_an_expression_instance_level_the_value(self) -> None:
        post = Post(title="t", created_at=WHEN, views=3, meta={"id": "p1"})
        assert isinstance(Post.views, FieldExpr)
        assert repr(Post.views) == "FieldExpr(Post.views, path='views')"
        assert post.views == 3
        post.views = 4
        assert post.views == 4

    def test_pydantic_behaviour_is_unchanged(self) -> None:
        post = Post(title="t", created_at=WHEN, tags=["a"], comments=[Comment(author="ann", body="b", created_at=WHEN)])
        assert post.model_dump()["tags"] == ["a"]
        assert Post.model_validate(post.model_dump()) == post
        assert copy.deepcopy(post) == post
        assert copy.copy(post) == post
        assert pickle.loads(pickle.dumps(post)) == post
        assert post.model_copy(update={"views": 9}).views == 9
        assert Post.model_fields["views"].default == 0

    def test_a_field_missing_on_an_instance_is_an_attribute_error(self) -> None:
        post = Post.model_construct()
        with pytest.raises(AttributeError, match="title"):
            post.title  # noqa: B018

    def test_plain_nested_models_are_untouched(self) -> None:
        assert not hasattr(Author, "name")
        assert not hasattr(Comment, "author")

    def test_meta_is_not_an_expression(self) -> None:
        assert not hasattr(Post, "meta")

    def test_subclasses_inherit_and_override_fields_without_warnings(self) -> None:
        class Child(Post):
            views: int = 7  # overriding a field: pydantic must not call it shadowing
            extra: str = ""

        class Plain(Post):
            pass

        assert Child(title="t", created_at=WHEN).views == 7
        assert Plain.model_fields["views"].default == 0  # the parent's expression is no default
        assert str(Child.extra) == "extra"
        assert body(Plain.views > 1) == {"range": {"views": {"gt": 1}}}
        assert isinstance(Post.views, FieldExpr)

    def test_isolated_documents_have_expressions(self) -> None:
        bound = isolated(Post, "unit-")
        assert body(bound.comments.author == "ann")["nested"]["path"] == "comments"
        assert bound.model_fields["views"].default == 0

    def test_expressions_copy_and_pickle(self) -> None:
        assert str(copy.deepcopy(Post.author.name.raw)) == "author.name.raw"
        assert str(pickle.loads(pickle.dumps(Post.views))) == "views"

    def test_private_names_are_not_paths(self) -> None:
        with pytest.raises(AttributeError):
            Post.author._secret  # noqa: B018

    def test_every_document_field_is_installed(self) -> None:
        class Minimal(AsyncDocument):
            n: int

        assert str(Minimal.n) == "n"
