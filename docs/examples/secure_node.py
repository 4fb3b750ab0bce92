"""A node with security on: HTTPS with a test CA, a superuser, a bearer token, and what a mistake gives."""

import asyncio
import os
from typing import Annotated

from elasticsearch import AuthenticationException

from odm import AsyncDocument, Keyword, Text, async_connections
from odm.testing import secure_node

PREFIX = os.environ.get("ODM_INDEX_PREFIX", "")


class Note(AsyncDocument):
    text: Annotated[str, Text()]
    tag: Annotated[str, Keyword()]

    class Index:
        name = PREFIX + "secure-notes"


async def main() -> None:
    node = secure_node()  # started once per process: TLS from a throwaway CA, a file-realm superuser
    print(node)  # NodeInfo(url='https://127.0.0.1:...', ..., ca_certs=PosixPath('/tmp/odm-es-.../ca.crt'))
    assert node.ca_certs is not None and node.basic_auth is not None  # (no password in the repr)

    client = async_connections.create_connection(
        "secure", hosts=[node.url], ca_certs=str(node.ca_certs), basic_auth=node.basic_auth
    )
    await Note.init(using=client)
    await Note(text="for your eyes only", tag="secret", meta={"id": "n1"}).save(using=client, refresh=True)
    print((await Note.get("n1", using=client)).text)  # for your eyes only

    # A bearer token from the token service (the node runs a self-generated trial license for it).
    token = await client.security.get_token(grant_type="client_credentials")
    bearer = async_connections.create_connection(
        "bearer", hosts=[node.url], ca_certs=str(node.ca_certs), bearer_auth=token["access_token"]
    )
    print(await Note.search(using=bearer).filter("term", tag="secret").count())  # 1

    # A wrong password is a 401, raised as the client's AuthenticationException.
    wrong = async_connections.create_connection(
        "wrong", hosts=[node.url], ca_certs=str(node.ca_certs), basic_auth=(node.basic_auth[0], "not-the-password")
    )
    try:
        await Note.get("n1", using=wrong)
    except AuthenticationException as error:
        print(error.status_code)  # 401

    for alias in ("secure", "bearer", "wrong"):
        await async_connections.close(alias)


if __name__ == "__main__":
    asyncio.run(main())  # starts the secure node, stops it at exit
