"""Request schemas with field selection: include/exclude, and server-owned fields shown, never taken."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated

import pytest
from pydantic import Field

from odm import ArgumentError, AsyncDocument, Keyword
from odm.fastapi import create_schema, new_document, public_schema, to_public, update_schema


class Ticket(AsyncDocument):
    tenant: Annotated[str, Keyword()] | None = None
    title: str = Field(min_length=1)
    status: Annotated[str, Keyword()] = "open"
    internal_note: str = ""
    views: int = 0
    created_at: datetime | None = None

    class Index:
        name = "tickets"
        tenant_field = "tenant"
        server_owned = ("views", "created_at")


def test_server_owned_fields_are_never_in_a_request_body() -> None:
    assert list(create_schema(Ticket).model_fields) == ["title", "status", "internal_note"]
    assert list(update_schema(Ticket).model_fields) == ["title", "status", "internal_note"]
    assert list(public_schema(Ticket).model_fields) == [
        "tenant", "title", "status", "internal_note", "views", "created_at", "id"
    ]
    body = create_schema(Ticket).model_validate({"title": "t", "tenant": "globex", "views": 10**9})
    assert body.model_dump() == {"title": "t", "status": "open", "internal_note": ""}
    forbid = create_schema(Ticket, extra="forbid")
    with pytest.raises(ValueError, match="tenant"):
        forbid.model_validate({"title": "t", "tenant": "globex"})


def test_include_and_exclude() -> None:
    assert list(create_schema(Ticket, include={"title"}, name="TitleOnly").model_fields) == ["title"]
    assert list(update_schema(Ticket, exclude={"internal_note"}).model_fields) == ["title", "status"]
    public = public_schema(Ticket, exclude={"internal_note", "tenant"})
    assert list(public.model_fields) == ["title", "status", "views", "created_at", "id"]
    ticket = Ticket(title="t", internal_note="secret", meta={"id": "t1"})
    assert to_public(ticket, public).model_dump() == {
        "title": "t", "status": "open", "views": 0, "created_at": None, "id": "t1"
    }
    assert create_schema(Ticket, exclude=["status"]) is create_schema(Ticket, exclude={"status"})  # cached


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: create_schema(Ticket, include={"views"}), r"\['views'\] of Ticket are server-owned"),
        (lambda: update_schema(Ticket, include={"tenant", "title"}), "server-owned"),
        (lambda: create_schema(Ticket, exclude={"nope"}), r"no field\(s\) \['nope'\]"),
        (lambda: public_schema(Ticket, include={"meta"}), "no field"),
        (lambda: update_schema(Ticket, include="title"), "not one string"),
    ],
)
def test_a_selection_that_cannot_be_made_is_refused(make: object, message: str) -> None:
    with pytest.raises(ArgumentError, match=message):
        make()  # type: ignore[operator]


def test_new_document_takes_the_servers_values() -> None:
    body = create_schema(Ticket).model_validate({"title": "t"})
    now = datetime(2026, 12, 7, tzinfo=timezone.utc)
    ticket = new_document(Ticket, body, created_at=now, views=1)
    assert (ticket.created_at, ticket.views, ticket.tenant) == (now, 1, None)  # the scope stamps the tenant
    with pytest.raises(ArgumentError, match="fields of the body"):
        new_document(Ticket, body, title="from code")
    with pytest.raises(ArgumentError, match="no fields of Ticket"):
        new_document(Ticket, body, nope=1)
