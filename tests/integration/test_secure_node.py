"""odm against a node with security on: TLS on HTTP, a file-realm superuser, tokens; and no leaks.

The node is ``odm.testing.secure_node()``: one per test process (the docs example
shares it), with a throwaway CA from ``trustme`` and a random password.
"""

from __future__ import annotations

import base64
import logging
import time
import traceback
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Annotated, Any

import pytest
import trustme
from elasticsearch import ApiError, AsyncElasticsearch, AuthenticationException, SSLError

from odm import AsyncDocument, Keyword, Text
from odm.connections import async_connections
from odm.testing import NodeInfo, secure_node


class Note(AsyncDocument):
    text: Annotated[str, Text()]
    tag: Annotated[str, Keyword()] = "x"

    class Index:
        name = "secure-notes"


@pytest.fixture(scope="module")
def node() -> NodeInfo:
    return secure_node()


@pytest.fixture
def index() -> str:
    return f"secure-{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def client(node: NodeInfo) -> AsyncIterator[AsyncElasticsearch]:
    """odm's ``"secure"`` connection: the node's CA and its superuser."""
    es = async_connections.create_connection(
        "secure", hosts=[node.url], ca_certs=str(node.ca_certs), basic_auth=node.basic_auth
    )
    try:
        yield es
    finally:
        await async_connections.close("secure")


@pytest.fixture
def wrong_ca(tmp_path: Path) -> str:
    path = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(path))
    return str(path)


class Attempts(logging.Handler):
    """Counts the client's attempts: elastic_transport logs one INFO line per request sent."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == "elastic_transport.transport" and "[status:" in record.getMessage():
            self.lines.append(record.getMessage())


@pytest.fixture
def attempts() -> Iterator[Attempts]:
    logger = logging.getLogger("elastic_transport.transport")
    handler, level = Attempts(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def skip_unless_security_index(error: ApiError, feature: str) -> None:
    """Skip, naming the module, when the node cannot create a security index it needs."""
    body = error.body if isinstance(error.body, dict) else {}
    reason = str(body.get("error", {}).get("reason", error.body))
    if "pattern_capture" in reason or "Unknown filter type" in reason or "Unknown tokenizer" in reason:
        pytest.skip(f"{feature} need the .security index, whose analyzers come from the analysis-common "
                    f"module, which this node lacks ({reason})")


async def test_basic_auth_and_the_right_ca_save_get_and_search(
    node: NodeInfo, client: AsyncElasticsearch, index: str
) -> None:
    assert node.url.startswith("https://127.0.0.1:") and node.ca_certs is not None and node.basic_auth is not None
    who = await client.security.authenticate()
    assert who["username"] == node.basic_auth[0] and "superuser" in who["roles"]
    assert who["authentication_realm"]["type"] == "file"

    await Note.init(index=index, using=client)
    note = Note(text="for your eyes only", tag="secret", meta={"id": "n1"})
    await note.save(index=index, using=client, refresh=True)
    got = await Note.get("n1", index=index, using=client)
    assert got.text == "for your eyes only" and got.meta.index == index
    found = await Note.search(using=client, index=index).filter("term", tag="secret").execute()
    assert found.success() and [hit.meta.id for hit in found] == ["n1"]
    result = await Note.bulk([Note(text=f"bulk {n}") for n in range(20)], using=client, index=index, refresh=True)
    assert result.ok and await Note.search(using=client, index=index).count() == 21

    # The same through NodeInfo.client_options().
    other = AsyncElasticsearch(**node.client_options())
    try:
        assert (await Note.get("n1", index=index, using=other)).text == got.text
    finally:
        await other.close()


async def test_a_wrong_ca_fails_fast_with_a_clear_tls_error(
    node: NodeInfo, wrong_ca: str, index: str, attempts: Attempts
) -> None:
    bad = async_connections.create_connection(
        "wrong-ca", hosts=[node.url], ca_certs=wrong_ca, basic_auth=node.basic_auth
    )
    try:
        started = time.monotonic()
        with pytest.raises(SSLError) as raised:
            await Note.get("n1", index=index, using=bad)
        elapsed = time.monotonic() - started
        assert elapsed < 2, elapsed
        assert "CERTIFICATE_VERIFY_FAILED" in str(raised.value)
        assert "certificate verify failed" in str(raised.value)
        per_call = len(attempts.lines)

        # odm's bulk does not retry it on top of the client: one failure, as many attempts as one call.
        attempts.lines.clear()
        started = time.monotonic()
        result = await Note.bulk([Note(text="never sent")], using=bad, index=index)
        assert time.monotonic() - started < 2
        [failure] = result.failed
        assert isinstance(failure.error, SSLError) and not result.succeeded and not result.not_attempted
        assert len(attempts.lines) == per_call
    finally:
        await async_connections.close("wrong-ca")


async def test_a_wrong_ca_is_not_retried(node: NodeInfo, wrong_ca: str, index: str, attempts: Attempts) -> None:
    # odm turns the client's retries off and its own policy never retries a TLS failure: one handshake
    bad = async_connections.create_connection("wrong-ca", hosts=[node.url], ca_certs=wrong_ca)
    try:
        with pytest.raises(SSLError):
            await Note.get("n1", index=index, using=bad)
    finally:
        await async_connections.close("wrong-ca")
    assert len(attempts.lines) == 1, attempts.lines


async def test_a_wrong_password_is_a_401_authentication_error_and_not_retried(
    node: NodeInfo, client: AsyncElasticsearch, index: str, attempts: Attempts
) -> None:
    await Note.init(index=index, using=client)
    assert node.basic_auth is not None
    bad = async_connections.create_connection(
        "wrong-password", hosts=[node.url], ca_certs=str(node.ca_certs), basic_auth=(node.basic_auth[0], "not-it-at-all")
    )
    try:
        for call in (
            lambda: Note.get("n1", index=index, using=bad),
            lambda: Note(text="x").save(index=index, using=bad),
            lambda: Note.search(using=bad, index=index).execute(),
        ):
            attempts.lines.clear()
            with pytest.raises(AuthenticationException) as raised:
                await call()
            assert raised.value.status_code == 401
            assert "unable to authenticate user" in str(raised.value)
            assert len(attempts.lines) == 1, attempts.lines
        result = await Note.bulk([Note(text="x")], using=bad, index=index)
        [failure] = result.failed
        assert isinstance(failure.error, AuthenticationException) and failure.error.status_code == 401
    finally:
        await async_connections.close("wrong-password")


async def test_bearer_token_from_the_token_service(node: NodeInfo, client: AsyncElasticsearch, index: str) -> None:
    try:
        token = await client.security.get_token(grant_type="client_credentials")
    except ApiError as error:
        skip_unless_security_index(error, "tokens")
        raise
    bearer = async_connections.create_connection(
        "bearer", hosts=[node.url], ca_certs=str(node.ca_certs), bearer_auth=token["access_token"]
    )
    try:
        who = await bearer.security.authenticate()
        assert who["authentication_type"] == "token" and who["username"] == (node.basic_auth or ("",))[0]
        await Note.init(index=index, using=bearer)
        await Note(text="by token", meta={"id": "t1"}).save(index=index, using=bearer, refresh=True)
        assert (await Note.get("t1", index=index, using=bearer)).text == "by token"
        assert await Note.search(using=bearer, index=index).count() == 1

        await client.security.invalidate_token(token=token["access_token"])
        with pytest.raises(AuthenticationException):
            await Note.get("t1", index=index, using=bearer)
    finally:
        await async_connections.close("bearer")


async def test_api_keys(node: NodeInfo, client: AsyncElasticsearch, index: str) -> None:
    try:
        key = await client.security.create_api_key(name="odm-test")
    except ApiError as error:
        skip_unless_security_index(error, "API keys")
        raise
    keyed = async_connections.create_connection(
        "api-key", hosts=[node.url], ca_certs=str(node.ca_certs), api_key=key["encoded"]
    )
    try:
        await Note(text="by key", meta={"id": "k1"}).save(index=index, using=keyed, refresh=True)
        assert (await Note.get("k1", index=index, using=keyed)).text == "by key"
    finally:
        await async_connections.close("api-key")


class Everything(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def debug_everywhere() -> Iterator[Everything]:
    """DEBUG for the root logger and every library logger, and a handler that keeps every record.

    ``elastic_transport.node`` (every request and response, headers and bodies) does not
    propagate and logs only when it has a handler of its own: it gets one too.
    """
    handler = Everything()
    names = ["", "elastic_transport", "elastic_transport.transport", "elastic_transport.node",
             "elastic_transport.node_pool", "elasticsearch", "aiohttp", "aiohttp.client", "aiohttp.internal",
             "asyncio", "odm", "urllib3"]
    loggers = [logging.getLogger(name) for name in names]
    before = [(logger, logger.level) for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    logging.getLogger().addHandler(handler)
    logging.getLogger("elastic_transport.node").addHandler(handler)
    try:
        yield handler
    finally:
        logging.getLogger().removeHandler(handler)
        logging.getLogger("elastic_transport.node").removeHandler(handler)
        for logger, level in before:
            logger.setLevel(level)


def texts_of(error: BaseException) -> list[str]:
    return [str(error), repr(error), "".join(traceback.format_exception(error))]


async def test_the_password_is_in_no_log_record_repr_or_exception(
    node: NodeInfo, wrong_ca: str, index: str, debug_everywhere: Everything
) -> None:
    assert node.basic_auth is not None
    user, password = node.basic_auth
    secrets = [password, base64.b64encode(f"{user}:{password}".encode()).decode()]
    seen: list[str] = [repr(node), str(node)]

    client = async_connections.create_connection(
        "leak", hosts=[node.url], ca_certs=str(node.ca_certs), basic_auth=(user, password)
    )
    async_connections.configure(lazy={"hosts": [node.url], "ca_certs": str(node.ca_certs), "basic_auth": (user, password)})
    try:
        await Note.init(index=index, using=client)
        await Note(text="logged", meta={"id": "l1"}).save(index=index, using=client, refresh=True)
        await Note.get("l1", index=index, using=client)
        await Note.search(using=client, index=index).execute()
        await Note.bulk([Note(text=f"b{n}") for n in range(5)], using=client, index=index, refresh=True)
        lazy = async_connections.get_connection("lazy")
        await Note.get("l1", index=index, using=lazy)
        token = await client.security.get_token(grant_type="client_credentials")  # the body has no password
        bearer = AsyncElasticsearch(hosts=[node.url], ca_certs=str(node.ca_certs), bearer_auth=token["access_token"])
        await Note.get("l1", index=index, using=bearer)
        await bearer.close()
        seen += [repr(client), str(client), repr(lazy), repr(async_connections), str(async_connections)]
        seen += [repr(client.transport.node_pool.all()), repr(async_connections.aliases())]

        wrong_password = AsyncElasticsearch(hosts=[node.url], ca_certs=str(node.ca_certs), basic_auth=(user, "x" * 8))
        bad_ca = AsyncElasticsearch(hosts=[node.url], ca_certs=wrong_ca, basic_auth=(user, password))
        for failing in (
            Note.get("l1", index=index, using=wrong_password),
            Note.get("l1", index=index, using=bad_ca),
            Note.get("absent", index=index, using=client),
            Note.get("l1", index=index + "-missing", using=client),
        ):
            with pytest.raises(Exception) as raised:
                await failing
            seen += texts_of(raised.value)
        seen += [repr(bad_ca), repr(wrong_password)]
        await wrong_password.close()
        await bad_ca.close()
    finally:
        await async_connections.close()
        async_connections.remove_connection("lazy")

    records = debug_everywhere.records
    assert any(r.name == "elastic_transport.node" for r in records), "the request log did not run"
    assert any(r.levelno == logging.DEBUG for r in records)
    formatter = logging.Formatter()
    for record in records:
        seen.append(record.getMessage())
        if record.exc_info:
            seen.append(formatter.formatException(record.exc_info))
        if record.stack_info:
            seen.append(record.stack_info)
    for text in seen:
        for secret in secrets:
            assert secret not in text, f"the password leaked into: {text[:300]}"


def test_node_info_and_the_node_keep_the_password_out_of_repr(node: NodeInfo) -> None:
    assert node.basic_auth is not None
    assert node.basic_auth[1] not in repr(node)
    assert "basic_auth" not in repr(node) and "ca_certs=" in repr(node)
    options: dict[str, Any] = node.client_options()
    assert options["basic_auth"] == node.basic_auth and options["hosts"] == [node.url]
