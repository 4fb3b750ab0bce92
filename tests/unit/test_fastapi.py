"""odm.fastapi without a server: settings, schemas, ETags, validation errors, cursor arguments, layering."""

from __future__ import annotations

import json
import re
import secrets
import subprocess
import sys
from datetime import timedelta
from decimal import Decimal
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, Field, ValidationError, model_validator

from odm import (
    ArgumentError,
    AsyncDocument,
    DocumentStateError,
    DocumentValidationError,
    InvalidETagError,
    PreconditionFailedError,
    PreconditionRequiredError,
    Keyword,
    SettingsError,
    Text,
)
from odm.fastapi import (
    OdmSettings,
    apply_if_match,
    create_schema,
    etag,
    new_document,
    paginate,
    public_schema,
    redact_url,
    to_public,
    update_schema,
    validation_errors,
)
from odm.fastapi import pagination

RANDOM_SECRET = secrets.token_urlsafe(32)


class Note(AsyncDocument):
    slug: Annotated[str, Keyword()]
    body: Annotated[str, Text()] = Field(min_length=1, description="the text")
    rating: float = 0.0
    labels: list[str] = Field(default_factory=list, max_length=3)

    class Index:
        name = "notes"


class WithId(AsyncDocument):
    id: Annotated[str, Keyword()]

    class Index:
        name = "with-ids"


class Priced(AsyncDocument):
    price: Decimal = Field(ge=0)
    discount: Decimal = Decimal(0)

    @model_validator(mode="after")
    def _within(self) -> Priced:
        if self.discount > self.price:
            raise ValueError("discount above price")
        return self

    class Index:
        name = "priced"


# -- settings -----------------------------------------------------------------------------------


def test_settings_from_the_environment() -> None:
    settings = OdmSettings.from_env(
        {
            "ODM_ES_URL": "https://es.internal:9200",
            "ODM_ES_USERNAME": "svc",
            "ODM_ES_PASSWORD": "pw-123456",
            "ODM_ES_CA_CERTS": "/etc/ca.pem",
            "ODM_ES_VERIFY": "yes",
            "ODM_INDEX_PREFIX": "staging-",
            "ODM_ES_TIMEOUT": "12.5",
            "ODM_ES_STARTUP_TIMEOUT": "",  # empty: the default
        },
        startup_timeout=3,
    )
    assert settings.timeout == 12.5 and settings.startup_timeout == 3 and settings.verify is True
    assert settings.index_name("posts") == "staging-posts"
    assert settings.client_options() == {
        "hosts": ["https://es.internal:9200"],
        "request_timeout": 12.5,
        "basic_auth": ("svc", "pw-123456"),
        "ca_certs": "/etc/ca.pem",
    }
    assert OdmSettings(api_key="k", verify=False).client_options() == {
        "hosts": ["http://127.0.0.1:9200"], "request_timeout": 30.0, "api_key": "k", "verify_certs": False,
    }


@pytest.mark.parametrize(
    ("environ", "overrides", "message"),
    [
        ({"ODM_ES_TIMEOUT": "soon"}, {}, "ODM_ES_TIMEOUT='soon' is not a number"),
        ({"ODM_ES_VERIFY": "maybe"}, {}, "is not a boolean"),
        ({"ODM_ES_USERNAME": "svc"}, {}, "username and password go together"),
        ({"ODM_ES_PASSWORD": "pw", "ODM_ES_USERNAME": "u", "ODM_ES_API_KEY": "k"}, {}, "not both"),
        ({"ODM_ES_URL": "es:9200"}, {}, "with a scheme"),
        ({"ODM_ES_URL": "ftp://es:9200"}, {}, "http or https"),
        ({}, {"timeout": 0}, "positive number"),
        ({}, {"hosts": ["x"]}, "unknown setting"),
    ],
)
def test_settings_that_cannot_be_used(environ: dict[str, str], overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(SettingsError, match=message) as caught:
        OdmSettings.from_env(environ, **overrides)
    assert isinstance(caught.value, ValueError)


def test_no_secret_in_repr_or_messages() -> None:
    settings = OdmSettings(url="https://u:url-secret@es:9200", username="svc", password="pw-secret", api_key=None)
    for text in (repr(settings), str(settings), settings.display_url):
        assert "secret" not in text
    assert "password='***'" in repr(settings) and "https://u:***@es:9200" in repr(settings)
    assert "key-secret" not in repr(OdmSettings(api_key="key-secret"))
    assert redact_url("http://es:9200") == "http://es:9200"
    assert redact_url("http://u:p@[::1]:9200/x?y") == "http://u:***@[::1]:9200/x?y"
    with pytest.raises(SettingsError) as caught:
        OdmSettings(url="ftp://u:url-secret@es")
    assert "url-secret" not in str(caught.value)


# -- schemas --------------------------------------------------------------------------------------


def test_create_schema_drops_or_forbids_meta() -> None:
    lenient = create_schema(Note)
    body = lenient.model_validate({"slug": "n1", "body": "x", "meta": {"id": "evil", "index": "other"}})
    assert "meta" not in body.model_dump()
    note = new_document(Note, body)
    assert note.meta.id is None and note.meta.index is None
    strict = create_schema(Note, extra="forbid")
    with pytest.raises(ValidationError, match="meta"):
        strict.model_validate({"slug": "n1", "body": "x", "meta": {"id": "evil"}})
    assert strict.model_json_schema()["additionalProperties"] is False


def test_create_schema_keeps_constraints_and_checks_client_ids() -> None:
    schema = create_schema(Note, client_ids=True)
    assert schema is create_schema(Note, client_ids=True)  # cached: one name in OpenAPI
    assert schema.__name__ == "NoteCreate"
    with pytest.raises(ValidationError, match="at least 1 character"):
        schema.model_validate({"slug": "n", "body": ""})
    with pytest.raises(ValidationError, match="too_long|at most 3"):
        schema.model_validate({"slug": "n", "body": "b", "labels": ["a", "b", "c", "d"]})
    with pytest.raises(ValidationError, match="not allowed"):
        schema.model_validate({"slug": "n", "body": "b", "id": ".."})
    with pytest.raises(ValidationError, match="finite"):
        schema.model_validate({"slug": "n", "body": "b", "rating": float("nan")})
    note = new_document(Note, schema.model_validate({"slug": "n", "body": "b", "id": "n-1"}))
    assert note.meta.id == "n-1" and note.slug == "n"


def test_update_schema_is_partial() -> None:
    schema = update_schema(Note)
    assert schema.model_validate({}).model_dump(exclude_unset=True) == {}
    assert schema.model_validate({"rating": 2, "meta": {"id": "x"}}).model_dump(exclude_unset=True) == {"rating": 2.0}
    with pytest.raises(ValidationError):
        schema.model_validate({"body": None})  # given, so validated: body is not nullable
    json_schema = schema.model_json_schema()
    assert "required" not in json_schema
    assert "default" not in json_schema["properties"]["body"]
    assert json_schema["properties"]["body"]["description"] == "the text"


def test_public_schema_and_to_public() -> None:
    schema = public_schema(Note, score=True, highlight=True)
    note = Note(slug="n", body="b", meta={"id": "n1", "score": 1.5, "highlight": {"body": ["<em>b</em>"]}})
    public = to_public(note, schema)
    assert public.model_dump() == {
        "slug": "n", "body": "b", "rating": 0.0, "labels": [], "id": "n1", "score": 1.5,
        "highlight": {"body": ["<em>b</em>"]},
    }
    with pytest.raises(ArgumentError, match="field named 'rating'"):
        public_schema(Note, id_field="rating")
    with pytest.raises(DocumentStateError):
        to_public(Note(slug="n", body="b"))
    with pytest.raises(ArgumentError):
        to_public(note, create_schema(Note))


def test_name_collisions_and_non_documents_are_refused() -> None:
    with pytest.raises(ArgumentError, match="field named 'id'"):
        public_schema(WithId)
    assert "doc_id" in public_schema(WithId, id_field="doc_id").model_fields
    with pytest.raises(ArgumentError, match="field named 'id'"):
        create_schema(WithId, client_ids=True)

    class Plain(BaseModel):
        x: int

    with pytest.raises(ArgumentError):
        create_schema(Plain)  # type: ignore[arg-type]


def test_new_document_runs_model_validators() -> None:
    body = create_schema(Priced).model_validate({"price": "1", "discount": "2"})
    with pytest.raises(DocumentValidationError) as caught:
        new_document(Priced, body)
    assert caught.value.index == "priced"


# -- validation errors as JSON ----------------------------------------------------------------------


def test_validation_errors_are_json_safe() -> None:
    with pytest.raises(ValidationError) as invalid:
        Priced(price=Decimal("1.5"), discount=Decimal("2"))
    with pytest.raises(TypeError):
        json.dumps(invalid.value.errors())  # a Decimal input, a ValueError in ctx
    errors = validation_errors(DocumentValidationError("priced", "p1", invalid.value))
    assert json.loads(json.dumps(errors)) == [
        {"type": "value_error", "loc": ["body"], "msg": "Value error, discount above price",
         "ctx": {"error": "discount above price"}},
    ]
    with pytest.raises(ValidationError) as bounded:
        Priced(price=Decimal("-1"))
    [error] = validation_errors(DocumentValidationError("priced", None, bounded.value))
    assert error["ctx"] == {"ge": 0} and "input" not in error
    assert validation_errors(DocumentValidationError("priced", None, "a value was refused"))[0]["loc"] == ["body"]


# -- ETags --------------------------------------------------------------------------------------------


def test_etag_names_seq_no_primary_term_and_the_concrete_index() -> None:
    note = Note(slug="n", body="b", meta={"id": "n1", "index": "notes-v1", "seq_no": 7, "primary_term": 2})
    tag = etag(note)
    assert re.fullmatch(r'"7-2-[0-9a-f]{10}"', tag) and "notes" not in tag  # the index name is not shown
    moved = Note(slug="n", body="b", meta={"id": "n1", "index": "notes-v2", "seq_no": 7, "primary_term": 2})
    assert etag(moved) != tag  # the same numbers in the index a migration copied it to
    with pytest.raises(DocumentStateError):
        etag(Note(slug="n", body="b"))
    with pytest.raises(DocumentStateError):  # tokens but no index: which index they are of is unknown
        etag(Note(slug="n", body="b", meta={"id": "n1", "seq_no": 7, "primary_term": 2}))


def _loaded(index: str = "notes-v1", seq_no: int | None = 7, primary_term: int | None = 2) -> Note:
    return Note(slug="n", body="b", meta={"id": "n1", "index": index, "seq_no": seq_no, "primary_term": primary_term})


def test_if_match_applies_the_current_etag_of_a_list_and_star_and_none_allow() -> None:
    note = _loaded()
    current = etag(note)
    assert apply_if_match(note, None) is False and apply_if_match(note, "*") is False
    assert apply_if_match(note, "*", required=True) is False
    assert apply_if_match(note, f" {current} ") is True
    assert (note.meta.seq_no, note.meta.primary_term) == (7, 2)
    older = etag(_loaded(seq_no=3))
    assert apply_if_match(note, f'{older}, W/"x", {current}') is True  # RFC 9110: any member may match
    unread = _loaded(seq_no=None, primary_term=None)  # read without its tokens: Elasticsearch compares them
    assert apply_if_match(unread, older) is True and (unread.meta.seq_no, unread.meta.primary_term) == (3, 2)


def test_if_match_that_can_never_match_is_a_failed_precondition_not_a_bad_request() -> None:
    note = _loaded()
    current = etag(note)
    other_index = etag(_loaded(index="notes-v2"))  # read before a migration moved it
    tag = current.rsplit("-", 1)[1][:-1]
    never = {
        "an older version": etag(_loaded(seq_no=3)),
        "another index": other_index,
        "weak": f"W/{current}",
        "weak list": f"W/{current}, W/{other_index}",
        "primary term 0, two parts": '"7-0"',
        "primary term 0": f'"7-0-{tag}"',
        "odm's old two-part form": '"7-2"',
        "not odm's": '"abc"',
        "a Java long overflow": f'"9223372036854775808-2-{tag}"',
    }
    for why, header in never.items():
        with pytest.raises(PreconditionFailedError) as failed:
            apply_if_match(note, header)
        assert failed.value.id == "n1" and failed.value.index == "notes-v1", why
        assert (note.meta.seq_no, note.meta.primary_term) == (7, 2), why  # untouched
    for malformed in ("7-2", '"7-2', "", ",", f"{current} junk", f"{current};{current}"):
        with pytest.raises(InvalidETagError):
            apply_if_match(note, malformed)


def test_if_match_required_and_missing_and_unloaded_documents() -> None:
    with pytest.raises(PreconditionRequiredError) as required:
        apply_if_match(_loaded(), None, required=True)
    assert required.value.id == "n1"
    with pytest.raises(DocumentStateError):  # not loaded: no index to check the ETag against
        apply_if_match(Note(slug="n", body="b", meta={"id": "n1"}), '"7-2-0123456789"')


# -- pagination arguments, refused before anything is sent ---------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"secret": "short"}, "at least 16 bytes"),
        ({"secret": []}, "at least 16 bytes"),
        ({"secret": "a" * 16}, "secret is guessable"),
        ({"secret": "ab" * 16}, "secret is guessable"),
        ({"secret": "0123456789abcdef"}, "secret is guessable"),
        ({"secret": b"\x00" * 32}, "secret is guessable"),
        ({"secret": [secrets.token_urlsafe(32), "s" * 40]}, r"secret\[1\] is guessable"),
        ({"scope": 7}, "scope must be a str"),
        ({"max_age": timedelta(seconds=-1)}, "max_age must be"),
        ({"max_age": 3600}, "max_age must be"),
        ({"size": 0}, "size must be"),
        ({"size": 10_000}, "size must be"),
        ({"tiebreaker": "_id"}, "fielddata"),
        ({"tiebreaker": "body"}, "is a text field"),
        ({"tiebreaker": "nope"}, "not a field of Note"),
    ],
)
async def test_paginate_refuses_unusable_arguments(options: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {"size": 10, "secret": RANDOM_SECRET, "tiebreaker": "slug", **options}
    with pytest.raises(ArgumentError, match=message) as caught:
        await paginate(Note.search(), **arguments)
    assert "a" * 16 not in str(caught.value) and "s" * 40 not in str(caught.value)  # no key in the message


@pytest.mark.parametrize("make", [secrets.token_bytes, secrets.token_hex, secrets.token_urlsafe])
@pytest.mark.parametrize("length", [16, 32])
def test_random_secrets_pass_the_entropy_check(make: Any, length: int) -> None:
    for _ in range(200):
        key = make(length)
        assert pagination._bits_per_symbol(key.encode() if isinstance(key, str) else key) >= 2.5


async def test_paginate_refuses_an_offset() -> None:
    with pytest.raises(ArgumentError, match="'from'"):
        await paginate(Note.search()[10:20], secret=RANDOM_SECRET, tiebreaker="slug")


# -- layering -----------------------------------------------------------------------------------------------


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


def test_the_core_does_not_import_fastapi() -> None:
    result = run_python(
        "import sys, odm, odm.testing, odm.testing.pytest_plugin\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('fastapi', 'starlette') or m == 'odm.fastapi')\n"
        "print(loaded)"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_without_fastapi_the_import_names_the_extra() -> None:
    result = run_python(
        "import sys\nsys.modules['fastapi'] = None\n"
        "from odm import OptionalDependencyError\n"
        "try:\n    import odm.fastapi\nexcept OptionalDependencyError as e:\n"
        "    print(isinstance(e, ImportError), e)\n"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True odm.fastapi needs FastAPI: pip install 'odm-elasticsearch[fastapi]'"
