"""With pydantic's mypy plugin on too, documents' meta reads as Meta (no false union-attr errors)."""

from __future__ import annotations

from odm import AsyncDocument, Meta


class Post(AsyncDocument):
    title: str

    class Index:
        name = "posts"


class PostWithMeta(Post):
    meta: Meta  # a response model's own field: left as declared


def uses(post: Post, shown: PostWithMeta) -> None:
    reveal_type(post.meta)  # R: odm.meta.Meta
    reveal_type(post.meta.id)  # R: str | None
    reveal_type(shown.meta)  # R: odm.meta.Meta
    post.meta = {"id": "p2"}
    post.meta = Meta(id="p3")
    Post(title="x", meta={"id": "p1"})
    post.meta.nope  # E: "Meta" has no attribute "nope"  [attr-defined]
