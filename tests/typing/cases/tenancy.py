"""A tenant scope is typed by its class: every result is the class, as through the class itself."""

from __future__ import annotations

from typing import Annotated

from odm import AsyncDocument, Keyword, TenantScope, UpdateAction
from odm.fastapi import tenant_scope


class Ticket(AsyncDocument):
    tenant: Annotated[str, Keyword()] | None = None
    title: str = ""

    class Index:
        name = "tickets"
        tenant_field = "tenant"


async def scoped() -> None:
    acme = Ticket.for_tenant("acme")
    reveal_type(acme)  # R: odm.tenancy.TenantScope[tests.typing.cases.tenancy.Ticket]
    reveal_type(Ticket.unscoped())  # R: odm.tenancy.TenantScope[tests.typing.cases.tenancy.Ticket]
    reveal_type(await acme.get("t1"))  # R: tests.typing.cases.tenancy.Ticket
    reveal_type(await acme.get_or_none("t1"))  # R: tests.typing.cases.tenancy.Ticket | None
    reveal_type(await acme.mget(["t1"]))  # R: list[tests.typing.cases.tenancy.Ticket | None]
    reveal_type(await acme.mget(["t1"], missing="skip"))  # R: list[tests.typing.cases.tenancy.Ticket]
    reveal_type(await acme.exists("t1"))  # R: bool
    reveal_type(acme.search())  # R: odm.search._search.AsyncSearch[tests.typing.cases.tenancy.Ticket]
    async for hit in acme.search():
        reveal_type(hit)  # R: tests.typing.cases.tenancy.Ticket
    reveal_type(await acme.count())  # R: int
    reveal_type(await acme.save(Ticket(title="x")))  # R: str
    result = await acme.bulk([Ticket(title="x"), UpdateAction("t1", {"title": "y"})])
    reveal_type(result.succeeded[0].document)  # R: tests.typing.cases.tenancy.Ticket | None
    reveal_type(acme.update_by_query())  # R: odm.update_by_query.AsyncUpdateByQuery[tests.typing.cases.tenancy.Ticket]
    await acme.save("t1")  # E: Argument 1 to "save" of "TenantScope" has incompatible type "str"; expected "Ticket"  [arg-type]


def dependency() -> None:
    made = tenant_scope(Ticket)
    scope: TenantScope[Ticket] = Ticket.for_tenant("acme")
    reveal_type(made)  # R: def (*Any, **Any) -> typing.Awaitable[odm.tenancy.TenantScope[tests.typing.cases.tenancy.Ticket]]
    reveal_type(scope.tenant)  # R: str | None
