"""Field expressions: what mypy (with ``plugins = odm.mypy``) accepts, refuses and reveals."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel

from odm import A, AsyncDocument, FieldExpr, Q
from tests.models.blog import Author, Post
from tests.models.catalog import Product, Status


def class_level_is_an_expression_instance_level_the_value(post: Post) -> None:
    reveal_type(Post.views)  # R: odm.expressions.FieldExpr[int]
    reveal_type(post.views)  # R: int
    reveal_type(Post.tags)  # R: odm.expressions.FieldExpr[str]
    reveal_type(post.tags)  # R: list[str]
    reveal_type(Post.created_at)  # R: odm.expressions.FieldExpr[datetime.datetime]
    reveal_type(Post.author)  # R: odm.expressions.FieldExpr[tests.models.blog.Author]
    reveal_type(post.author)  # R: tests.models.blog.Author | None
    reveal_type(Product.status)  # R: odm.expressions.FieldExpr[tests.models.catalog.Status]
    reveal_type(Product.sku)  # R: odm.expressions.FieldExpr[uuid.UUID]
    reveal_type(Product.released)  # R: odm.expressions.FieldExpr[datetime.datetime]
    reveal_type(Product.code)  # R: odm.expressions.FieldExpr[str]


class Stamped(BaseModel):  # a plain model mixed into a document
    stamp: int = 0


class Note(AsyncDocument, Stamped):
    text: str


def on_classes_and_class_objects(cls: type[Post]) -> None:
    reveal_type(cls.views)  # R: odm.expressions.FieldExpr[int]
    reveal_type(Note.stamp)  # R: odm.expressions.FieldExpr[int]
    reveal_type(Stamped.stamp)  # R: int
    reveal_type(Author.name)  # R: str


def paths_into_objects_nested_models_and_multi_fields() -> None:
    reveal_type(Post.title.raw)  # R: odm.expressions.FieldExpr[str]
    reveal_type(Post.author.name)  # R: odm.expressions.FieldExpr[str]
    reveal_type(Post.author.name.raw)  # R: odm.expressions.FieldExpr[str]
    reveal_type(Post.comments)  # R: odm.expressions.FieldExpr[tests.models.blog.Comment]
    reveal_type(Post.comments.created_at)  # R: odm.expressions.FieldExpr[datetime.datetime]
    reveal_type(Product.name.words)  # R: odm.expressions.FieldExpr[str]
    reveal_type(Product.variants.reviews.stars)  # R: odm.expressions.FieldExpr[int]
    reveal_type(Product.counts.red)  # R: odm.expressions.FieldExpr[int]
    reveal_type(Product.brand.raw)  # R: odm.expressions.FieldExpr[str]
    reveal_type(Product.labels.raw)  # R: odm.expressions.FieldExpr[str]
    raw: FieldExpr[str] = Post.title.raw
    raw.raw  # E: FieldExpr[str] has no field or sub-field "raw"  [attr-defined]


def comparisons_build_queries() -> None:
    reveal_type(Post.views > 10)  # R: elasticsearch.dsl.query.Query
    reveal_type(Post.tags == "python")  # R: elasticsearch.dsl.query.Query
    reveal_type("python" == Post.tags)  # R: elasticsearch.dsl.query.Query
    reveal_type(Post.tags != "java")  # R: elasticsearch.dsl.query.Query
    reveal_type(Post.views.between(1, 5))  # R: elasticsearch.dsl.query.Query
    reveal_type(Post.tags.in_(["a", "b"]))  # R: elasticsearch.dsl.query.Query
    reveal_type(Post.title.match("hi", operator="and"))  # R: elasticsearch.dsl.query.Query
    reveal_type(Post.tags.prefix("py"))  # R: elasticsearch.dsl.query.Query
    reveal_type(Post.author.exists())  # R: elasticsearch.dsl.query.Query
    reveal_type(Post.author == None)  # R: elasticsearch.dsl.query.Query
    reveal_type((Post.views > 1) & Q("match", title="x") | ~(Post.tags == "x"))  # R: elasticsearch.dsl.query.Query
    reveal_type(Post.created_at > datetime(2026, 1, 1))  # R: elasticsearch.dsl.query.Query
    reveal_type(Product.status == Status.LIVE)  # R: elasticsearch.dsl.query.Query
    reveal_type(Product.sku.in_([uuid.uuid4()]))  # R: elasticsearch.dsl.query.Query
    reveal_type(Product.price > 1)  # R: elasticsearch.dsl.query.Query


def usage_sites_take_expressions() -> None:
    s = Post.search().query(Post.title.match("x")).filter(Post.views > 10).exclude(Post.tags == "draft")
    s = s.sort(-Post.views, +Post.title.raw, Post.created_at).source([Post.title, Post.author.name])
    s = s.highlight(Post.body).collapse(Post.author.name.raw)
    s.aggs.bucket("tags", A("terms", field=Post.tags))
    reveal_type(s)  # R: odm.search._search.AsyncSearch[tests.models.blog.Post]
    reveal_type(-Post.views)  # R: str


def wrong_fields_are_errors() -> None:
    Post.nonexistent  # E: "type[Post]" has no attribute "nonexistent"  [attr-defined]
    Post.title.rwa  # E: Post.title has no field or sub-field "rwa"  [attr-defined]
    Post.author.nope  # E: Post.author has no field or sub-field "nope"  [attr-defined]
    Post.comments.author.raw  # E: Post.comments.author has no field or sub-field "raw"  [attr-defined]
    Post.views.raw  # E: Post.views has no field or sub-field "raw"  [attr-defined]
    Product.brand.rwa  # E: Product.brand has no field or sub-field "rwa"  [attr-defined]
    Product.variants.reviews.score  # E: Product.variants.reviews has no field or sub-field "score"  [attr-defined]
    Author.name.raw  # E: "str" has no attribute "raw"  [attr-defined]


def wrong_values_are_errors() -> None:
    Post.views > "ten"  # E: Unsupported operand types for > ("FieldExpr[int]" and "str")  [operator]
    Post.views <= 1.5  # E: Unsupported operand types for <= ("FieldExpr[int]" and "float")  [operator]
    Post.tags == 3  # E: Unsupported operand types for == ("FieldExpr[str]" and "int")  [operator]
    3 == Post.tags  # E: Unsupported operand types for == ("int" and "FieldExpr[str]")  [operator]
    Post.views != "x"  # E: Unsupported operand types for != ("FieldExpr[int]" and "str")  [operator]
    Post.created_at > date(2026, 1, 1)  # E: Unsupported operand types for > ("FieldExpr[datetime]" and "date")  [operator]
    # As the model takes them (lax): a str for a datetime, a str enum or a UUID is accepted
    # by mypy; its content ("now-1d" is not a datetime) is checked at run time.
    Post.created_at > "2026-11-29"
    Product.status == "live"
    Product.sku == "12345678-1234-5678-1234-567812345678"
    Post.views.in_(["a"])  # E: List item 0 has incompatible type "str"; expected "int"  [list-item]
    Post.views.between(1, "2")  # E: Argument 2 to "between" of "FieldExpr" has incompatible type "str"; expected "int"  [arg-type]
    Post.comments.created_at < 5  # E: Unsupported operand types for < ("FieldExpr[datetime]" and "int")  [operator]
    Post.title == Post.body  # E: Unsupported operand types for == ("FieldExpr[str]" and "FieldExpr[str]")  [operator]


def wrong_operations_are_errors() -> None:
    Post.views.prefix("1")  # E: Invalid self argument "FieldExpr[int]" to attribute function "prefix" with type "Callable[[FieldExpr[str], str], Query]"  [misc]
    Post.author == Author(name="a", email="b")  # E: Post.author is an object: compare one of its fields  [operator]
    Post.comments.in_([])  # E: Post.comments is an object: compare one of its fields  [operator]
    Post.author.match(Author(name="a", email="b"))  # E: Post.author is an object: compare one of its fields  [operator]
    ~Post.views  # E: Unsupported operand type for ~ ("FieldExpr[int]")  [operator]
    Post.views & Post.views  # E: Unsupported left operand type for & ("FieldExpr[int]")  [operator]
    Post.search().sort(Post.views > 1)  # E: Argument 1 to "sort" of "SearchBase" has incompatible type "Query"; expected "str | InstrumentedField | dict[str, dict[str, str]]"  [arg-type]
