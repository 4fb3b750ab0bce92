"""The one redaction helper (odm/_core/redaction.py) and the settings that use it: no secret in a message."""

from __future__ import annotations

import pytest

from odm import NodeUnavailableError, SettingsError
from odm._core.redaction import redact, redact_url
from odm.fastapi import OdmSettings

PASSWORD = "hunter2-pw"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://es:9200", "http://es:9200"),
        (f"https://ops:{PASSWORD}@es:9200/x?y", "https://ops:***@es:9200/x?y"),
        ("https://token-only@es", "https://***@es"),  # a user-info without a password may be a token
        (f"http//ops:{PASSWORD}@es:9200", "***@es:9200"),  # not a URL to urlsplit: everything before the @
        (f"ops:{PASSWORD}@es:9200", "***@es:9200"),
        (f"http://ops:{PASSWORD}@es:port", "http://***@es:port"),  # a malformed port
        (f"http://ops:{PASSWORD}@[::1", "http://***@[::1"),  # a malformed host
        ("http://es:port", "http://es:port"),  # nothing secret to hide
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_redact_text_hides_url_credentials_and_known_secrets() -> None:
    text = f"GET http://ops:{PASSWORD}@es:9200/_cluster failed; key=abc/def+1 sent, see https://docs"
    assert redact(text, ["abc/def+1", None, "ab"]) == "GET http://***@es:9200/_cluster failed; key=*** sent, see https://docs"
    assert redact("key abc%2Fdef%2B1", ["abc/def+1"]) == "key ***"  # percent-encoded too


@pytest.mark.parametrize(
    "url",
    [f"ftp://u:{PASSWORD}@es", f"http//u:{PASSWORD}@es", f"u:{PASSWORD}@es:9200", f"http://u:{PASSWORD}@es:port", "http://"],
)
def test_settings_errors_never_show_the_password(url: str) -> None:
    with pytest.raises(SettingsError) as caught:
        OdmSettings(url=url)
    assert PASSWORD not in str(caught.value) and str(caught.value).startswith("url ")


def test_settings_redact_another_librarys_message() -> None:
    settings = OdmSettings(url="http://ops:p%40ss-w0rd@es:9200", api_key=None)
    assert settings.redact("failed at http://ops:p%40ss-w0rd@es:9200 with p@ss-w0rd") == "failed at http://***@es:9200 with ***"
    keyed = OdmSettings(api_key="the-api-key-value")
    assert keyed.redact("refused key the-api-key-value") == "refused key ***"


def test_node_unavailable_error_redacts_what_it_is_given() -> None:
    error = NodeUnavailableError(f"http://ops:{PASSWORD}@es:9200", 2, f"ConnectionError: http://ops:{PASSWORD}@es:9200 down")
    assert PASSWORD not in str(error) and error.url == "http://ops:***@es:9200"


def test_one_set_of_variables() -> None:
    assert OdmSettings.from_env({"ODM_ES_USERNAME": "ops", "ODM_ES_PASSWORD": PASSWORD}).client_options()["basic_auth"] == (
        "ops", PASSWORD)
    with pytest.raises(SettingsError, match="ODM_ES_USER is not read: set ODM_ES_USERNAME"):
        OdmSettings.from_env({"ODM_ES_USER": "ops", "ODM_ES_PASSWORD": PASSWORD})
    both = OdmSettings.from_env({"ODM_ES_USER": "old", "ODM_ES_USERNAME": "ops", "ODM_ES_PASSWORD": PASSWORD})
    assert both.username == "ops"
    assert OdmSettings.from_env({"ODM_ES_TIMEOUT": "90"}, timeout=5).timeout == 5
