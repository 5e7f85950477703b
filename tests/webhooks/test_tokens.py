"""Shared-secret tokens in a header or in the URL path, with rotation."""

from __future__ import annotations

import pytest

from regpipe.webhooks.auth import AuthScheme, build_authenticator
from regpipe.webhooks.errors import AuthenticationError, WebhookConfigError
from regpipe.webhooks.tokens import HeaderTokenAuth, PathTokenAuth

TOKEN = "tok_0123456789abcdefghij"
NEXT = "tok_zyxwvutsrqponmlkjihg"


def _code(call: object) -> str:
    assert callable(call)
    with pytest.raises(AuthenticationError) as refused:
        call()
    return refused.value.code


def test_bearer_token_in_authorization() -> None:
    auth = HeaderTokenAuth([TOKEN])
    auth.authenticate({"authorization": f"Bearer {TOKEN}"}, b"{}", None)
    auth.authenticate({"authorization": f"bearer {TOKEN}"}, b"{}", None)  # the scheme name is case-insensitive
    assert _code(lambda: auth.authenticate({"authorization": TOKEN}, b"{}", None)) == "missing_token"
    assert _code(lambda: auth.authenticate({"authorization": f"Bearer {NEXT}"}, b"{}", None)) == "invalid_token"
    assert _code(lambda: auth.authenticate({}, b"{}", None)) == "missing_token"


def test_token_in_a_custom_header() -> None:
    auth = HeaderTokenAuth([TOKEN], header="X-Webhook-Token")
    auth.authenticate({"x-webhook-token": TOKEN}, b"{}", None)
    assert _code(lambda: auth.authenticate({"x-webhook-token": TOKEN[:-1]}, b"{}", None)) == "invalid_token"
    assert _code(lambda: auth.authenticate({"authorization": f"Bearer {TOKEN}"}, b"{}", None)) == "missing_token"


def test_token_in_the_path() -> None:
    auth = PathTokenAuth([TOKEN])
    auth.authenticate({}, b"{}", TOKEN)
    assert _code(lambda: auth.authenticate({}, b"{}", TOKEN + "x")) == "invalid_token"
    assert _code(lambda: auth.authenticate({}, b"{}", None)) == "missing_token"
    assert _code(lambda: auth.authenticate({}, b"{}", "")) == "missing_token"


@pytest.mark.parametrize("scheme", [AuthScheme.HEADER_TOKEN, AuthScheme.PATH_TOKEN])
def test_rotation_accepts_every_configured_token(scheme: AuthScheme) -> None:
    auth = build_authenticator(scheme, [TOKEN, NEXT], token_header="x-token")
    for token in (TOKEN, NEXT):
        auth.authenticate({"x-token": token}, b"{}", token)
    with pytest.raises(AuthenticationError):
        auth.authenticate({"x-token": "tok_not_one_of_them_at_all"}, b"{}", "tok_not_one_of_them_at_all")


def test_short_or_missing_tokens_are_a_configuration_error() -> None:
    with pytest.raises(WebhookConfigError):
        PathTokenAuth([])
    with pytest.raises(WebhookConfigError):
        HeaderTokenAuth(["short"])


def test_a_non_ascii_header_value_is_compared_not_crashed_on() -> None:
    auth = HeaderTokenAuth([TOKEN], header="x-token")
    assert _code(lambda: auth.authenticate({"x-token": "tök\xff"}, b"{}", None)) == "invalid_token"
