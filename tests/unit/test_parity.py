"""Issue 20's request bodies the test node cannot run (painless), and mappings of optional extras."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import EmailStr, NameEmail

from odm.mapping import field_for


@pytest.mark.parametrize("annotation", [EmailStr, NameEmail, EmailStr | None])
def test_email_types_map_to_keyword_without_email_validator(annotation: Any) -> None:
    # Validating them needs the email-validator package; mapping them does not.
    assert field_for(annotation).to_dict() == {"type": "keyword"}
