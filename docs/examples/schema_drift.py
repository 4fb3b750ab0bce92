"""Schema drift: a versioned index behind an alias, drift change by change, and adopting an existing index."""

import asyncio
import os
from typing import Annotated

from odm import (
    AsyncDocument,
    Keyword,
    Text,
    VersionedIndexError,
    adopt,
    detect_drift,
    get_client,
    indices_behind,
)

PREFIX = os.environ.get("ODM_INDEX_PREFIX", "")


class Post(AsyncDocument):
    title: Annotated[str, Text()]
    tag: Annotated[str, Keyword()] = ""

    class Index:
        name = PREFIX + "posts"  # the alias users query; the data lives in posts-v1, posts-v2, ...
        versioned = True
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


class PostNext(Post):  # the next version of the model: a new multi-field, and tag becomes text
    title: Annotated[str, Text(fields={"raw": Keyword()})]
    tag: Annotated[str, Text()] = ""


class Note(AsyncDocument):
    text: str

    class Index:
        name = PREFIX + "notes"
        versioned = True
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


async def main() -> None:
    await Post.init()  # creates posts-v1 with the alias posts (its write index)
    print(await indices_behind(PREFIX + "posts"))  # ['posts-v1']
    await Post(title="Hello", tag="intro", meta={"id": "p1"}).save(refresh=True)  # through the alias
    post = await Post.get("p1")
    print(post.meta.index)  # posts-v1: a loaded document writes back to its concrete index

    drift = await detect_drift(Post)
    print(drift.outcome, drift.index, drift.version, drift.live_hash == drift.wanted_hash)  # none posts-v1 1 True

    drift = await detect_drift(PostNext)  # reads only
    print(drift.outcome)  # new_index
    for change in drift.changes:
        print(change.kind, change.path, "-", change.reason)
    # in_place title.raw - new multi-field: added in place; documents already stored are not indexed into it ...
    # new_index tag - type keyword -> text: a field's type cannot change in place
    # in_place _meta - stored definition hash 909d3264d551 differs: init() records c3c08a7a621a

    # An index made before the class was versioned: init() refuses it, adopt() moves it behind the alias.
    client = get_client()
    await client.indices.create(index=PREFIX + "notes", mappings=Note.mapping_dict())
    await client.index(index=PREFIX + "notes", id="n1", document={"text": "kept"}, refresh=True)
    try:
        await Note.init()
    except VersionedIndexError as error:
        print(error)  # index 'notes': a concrete index has the name the versioned class uses as its alias; ...
    print(await adopt(Note))  # notes-v1: blocked, cloned, counted, then one atomic alias switch
    print((await Note.get("n1")).text, await adopt(Note))  # kept notes-v1 (a second adopt changes nothing)
    await Note.init()  # now the versioned init works: it records the definition hash in notes-v1
    print((await detect_drift(Note)).outcome)  # none


if __name__ == "__main__":
    from odm.testing import run_example

    asyncio.run(run_example(main))  # connects to $ODM_ES_URL, or starts a local node
