"""The exact bulk NDJSON bytes of representative documents and actions, pinned.

The bulk encoder has a fast path for its header lines (``odm/bulk/_actions.py``): these
bytes were taken from the encoder before it existed (one ``to_json`` of the whole header
dict per action), and must never change. The property test at the end compares the fast
header with that reference on any id, routing and index.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Annotated, Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic_core import PydanticSerializationError, to_json

from odm import AsyncDocument, CreateAction, DeleteAction, IndexAction, Keyword, UpdateAction
from odm.bulk._actions import Defaults, _lines, encode
from tests.models.blog import Author, Comment, Post

WHEN = datetime(2026, 11, 24, 12, 0, 30, 123456, tzinfo=timezone(timedelta(hours=5, minutes=30)))


def lines(action: Any, **defaults: Any) -> bytes:
    return encode(action, 0, Defaults(**defaults)).lines


def article(id: str | None = "p1", **meta: Any) -> Post:
    return Post(
        title='A "quoted" title\twith tab, é and 日本 and \u2028',
        body="back\\slash </script> \x00\x1f\x7f",
        tags=["a", "b"],
        author=Author(name="Ann", email="ann@example.com"),
        comments=[Comment(author="bob", body="hi", created_at=WHEN)],
        views=3,
        created_at=WHEN,
        meta={"id": id, **meta} if id is not None else meta,
    )


SOURCE = (
    '{"title":"A \\"quoted\\" title\\twith tab, é and 日本 and \u2028","body":"back\\\\slash </script> \\u0000\\u001f\x7f",'
    '"tags":["a","b"],"author":{"name":"Ann","email":"ann@example.com"},'
    '"comments":[{"author":"bob","body":"hi","created_at":"2026-11-24T12:00:30.123456+05:30"}],'
    '"views":3,"created_at":"2026-11-24T12:00:30.123456+05:30"}'
).encode()


class Auto(Post):
    class Index:
        client_ids = False


class Product(AsyncDocument):
    sku: Annotated[str, Keyword()]
    name: str

    class Index:
        name = "products"
        id_field = "sku"


def test_an_index_action_of_a_document_with_an_id() -> None:
    assert lines(IndexAction(article())) == b'{"index":{"_index":"posts","_id":"p1"}}\n' + SOURCE + b"\n"
    assert lines(IndexAction(article("7"))) == b'{"index":{"_index":"posts","_id":"7"}}\n' + SOURCE + b"\n"


def test_ids_that_json_escapes() -> None:
    for doc_id, sent in [
        ('a"b\\c', b'"a\\"b\\\\c"'),
        ("tab\there\nnl", b'"tab\\there\\nnl"'),
        ("\x00\x1f\x7f", b'"\\u0000\\u001f\x7f"'),
        ("日本-é", '"日本-é"'.encode()),
        ("line\u2028sep/slash", '"line\u2028sep/slash"'.encode()),
        ("x" * 512, b'"' + b"x" * 512 + b'"'),
    ]:
        assert lines(IndexAction(article(doc_id))) == b'{"index":{"_index":"posts","_id":' + sent + b"}}\n" + SOURCE + b"\n"


def test_the_index_from_the_action_the_bulk_and_meta_non_ascii_too() -> None:
    assert lines(IndexAction(article(), index="posts-é")).startswith('{"index":{"_index":"posts-é","_id":"p1"}}\n'.encode())
    assert lines(IndexAction(article()), index="other").startswith(b'{"index":{"_index":"other","_id":"p1"}}\n')
    assert lines(IndexAction(article(index="stored"))).startswith(b'{"index":{"_index":"stored","_id":"p1"}}\n')


def test_a_loaded_document_carries_its_tokens_and_routing() -> None:
    loaded = article(seq_no=12, primary_term=3, routing="ann", index="posts")
    assert lines(IndexAction(loaded, pipeline="pipe")) == (
        b'{"index":{"_index":"posts","_id":"p1","routing":"ann","if_seq_no":12,"if_primary_term":3,"pipeline":"pipe"}}\n'
        + SOURCE + b"\n"
    )
    assert lines(IndexAction(loaded, if_unchanged=False, routing='r"1')) == (
        b'{"index":{"_index":"posts","_id":"p1","routing":"r\\"1"}}\n' + SOURCE + b"\n"
    )
    assert lines(IndexAction(loaded, index="elsewhere")).startswith(b'{"index":{"_index":"elsewhere","_id":"p1","routing":"ann"}}\n')


def test_create_actions() -> None:
    loaded = article(seq_no=12, primary_term=3)
    assert lines(CreateAction(loaded, routing="r", pipeline="p")) == (
        b'{"create":{"_index":"posts","_id":"p1","routing":"r","pipeline":"p"}}\n' + SOURCE + b"\n"
    )


def test_documents_without_an_id() -> None:
    new = article(None)
    encoded = lines(IndexAction(new))
    assert new.meta.id is not None
    assert encoded == b'{"create":{"_index":"posts","_id":"%s"}}\n' % new.meta.id.encode() + SOURCE + b"\n"
    auto = Auto(**article(None).model_dump())
    assert lines(IndexAction(auto, pipeline="p")) == b'{"index":{"_index":"posts","pipeline":"p"}}\n' + SOURCE + b"\n"
    assert auto.meta.id is None


def test_unknown_stored_fields_and_an_id_field() -> None:
    kept = article(unknown_fields={"organization": "elastic", "n": [1, 2.5, None]})
    assert lines(IndexAction(kept)) == (
        b'{"index":{"_index":"posts","_id":"p1"}}\n' + SOURCE[:-1] + b',"organization":"elastic","n":[1,2.5,null]}\n'
    )
    assert lines(IndexAction(Product(sku="SKU-1", name="n"))) == b'{"index":{"_index":"products","_id":"SKU-1"}}\n{"name":"n"}\n'


def test_updates_and_deletes() -> None:
    loaded = article(seq_no=12, primary_term=3, index="posts")
    assert lines(DeleteAction(loaded)) == b'{"delete":{"_index":"posts","_id":"p1","if_seq_no":12,"if_primary_term":3}}\n'
    assert lines(DeleteAction("x\"y", document_class=Post, routing="r")) == (
        b'{"delete":{"_index":"posts","_id":"x\\"y","routing":"r"}}\n'
    )
    assert lines(UpdateAction("p2", {"views": 4}, document_class=Post)) == (
        b'{"update":{"_index":"posts","_id":"p2","retry_on_conflict":10}}\n{"doc":{"views":4}}\n'
    )
    assert lines(UpdateAction(loaded, {"views": 4})) == (
        b'{"update":{"_index":"posts","_id":"p1","if_seq_no":12,"if_primary_term":3}}\n{"doc":{"views":4}}\n'
    )



def reference_header(
    op: str, index: str, doc_id: str | None, routing: str | None, tokens: dict[str, int], pipeline: str | None
) -> bytes:
    """The header line as odm made it before the fast path: the whole dict through ``to_json``."""
    fields: dict[str, Any] = {"_index": index}
    if doc_id is not None:
        fields["_id"] = doc_id
    if routing is not None:
        fields["routing"] = routing
    fields.update(tokens)
    if pipeline is not None:
        fields["pipeline"] = pipeline
    return to_json({op: fields}) + b"\n"


# Lone surrogates too (refused by both the same way); ASCII alone often, so quotes,
# backslashes and control characters meet the header's unescaped fast path.
_text = st.text(max_size=40) | st.text(st.characters(max_codepoint=127), max_size=40)
_count = st.integers(min_value=0, max_value=2**63 - 1)


@given(
    op=st.sampled_from(["index", "create", "update", "delete"]),
    index=_text,
    doc_id=st.none() | _text,
    routing=st.none() | _text,
    tokens=st.just({}) | st.fixed_dictionaries({"if_seq_no": _count, "if_primary_term": _count})
    | st.fixed_dictionaries({"retry_on_conflict": _count}),
    pipeline=st.none() | _text,
)
def test_the_fast_header_is_the_reference_headers_bytes(
    op: str, index: str, doc_id: str | None, routing: str | None, tokens: dict[str, int], pipeline: str | None
) -> None:
    try:
        expected = reference_header(op, index, doc_id, routing, tokens, pipeline)
    except PydanticSerializationError:
        with pytest.raises(PydanticSerializationError):
            _lines(op, index, doc_id, routing, tokens, pipeline=pipeline)
        return
    assert _lines(op, index, doc_id, routing, tokens, pipeline=pipeline) == expected
    assert _lines(op, index, doc_id, routing, tokens, b"{}", pipeline) == expected + b"{}\n"
