"""Meta: built from hits by alias, by users by name; the fast blank default covers every field."""

from __future__ import annotations

from odm import Meta
from odm.meta import META_FIELDS, blank_meta, hit_keys, meta_from_hit


def test_blank_meta_sets_every_field_to_unknown() -> None:
    blank = blank_meta()
    assert {name: getattr(blank, name) for name in META_FIELDS} == dict.fromkeys(META_FIELDS)
    assert blank == Meta()


def test_meta_reads_a_hit_by_its_underscored_keys_and_users_write_names() -> None:
    hit = {"_id": "p1", "_index": "posts", "_seq_no": 0, "_primary_term": 1, "sort": [3], "_source": {}}
    assert meta_from_hit(hit) == Meta(id="p1", index="posts", seq_no=0, primary_term=1, sort=[3])
    keys = {key: name for key, name, _ in hit_keys()}
    assert (keys["_id"], keys["_seq_no"], keys["sort"], keys["highlight"]) == ("id", "seq_no", "sort", "highlight")


def test_meta_is_small() -> None:
    assert not hasattr(Meta(), "__dict__")  # slots: about 130 bytes a hit
