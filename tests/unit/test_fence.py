"""The names of migration fences (odm.schema._fence): which aliases are fences, and of which owner.

Taking, removing and writing through them is tested on the node (tests/integration/test_migrate_fencing.py).
"""

from __future__ import annotations

import pytest

from odm.schema._fence import _tag, fence_generation, is_fence


@pytest.mark.parametrize(("name", "generation"), [
    ("posts-fence-3-101", (3, 101)),  # a write fence
    ("posts-fence-3-101-v2", (3, 101)),  # a settings fence of posts-v2
    ("posts-fence-3-101-x0123456789abcdef", (3, 101)),  # of an index not named posts-v<N>
    ("posts-fence-3", None),
    ("posts-fence-3-", None),
    ("posts-fence-3-101-", None),
    ("posts-fence-3-101-v", None),
    ("posts-fence-3-101-v2-v3", None),
    ("posts-fence-3-101-y2", None),
    ("posts-fence-3-101-x0123", None),
    ("posts-fence-3-101-x0123456789ABCDEF", None),
    ("posts-fence-3-1٣", None),  # a digit, but not an ASCII one
    ("posts-fence-a-1", None),
    ("posts-v2", None),
    ("other-fence-3-101", None),
    ("posts-fence-3-101-v2".replace("posts", "postsx"), None),
])
def test_fence_names_parse_to_the_generation_of_their_owner(name: str, generation: tuple[int, int] | None) -> None:
    assert fence_generation(name, "posts") == generation
    assert is_fence(name, "posts") == (generation is not None)


def test_a_settings_fence_names_its_index_by_version_or_by_a_digest_that_always_fits() -> None:
    assert _tag("posts-v2", "posts") == "v2"
    long_name = "legacy-" + "a" * 240
    tag = _tag(long_name, "posts")
    assert tag == _tag(long_name, "posts") and tag != _tag("legacy", "posts")
    assert len(tag) == 17 and fence_generation(f"posts-fence-3-101-{tag}", "posts") == (3, 101)
    assert _tag("posts-v02", "posts").startswith("x")  # not a version name: a digest
