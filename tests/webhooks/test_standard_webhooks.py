"""Standard Webhooks verification and signing, checked against the reference `standardwebhooks` package."""

from __future__ import annotations

import base64
import os
import time
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from regpipe.webhooks.errors import AuthenticationError, WebhookConfigError
from regpipe.webhooks.standard_webhooks import StandardWebhooksAuth, signature_headers


def _secret() -> str:
    return "whsec_" + base64.b64encode(os.urandom(24)).decode()


SECRET = _secret()
OTHER = _secret()
BODY = b'{"id":"evt_1","type":"domain.expiring","data":{"domain":"example.com"}}'


def _reference_headers(secret: str, msg_id: str, body: bytes, timestamp: int) -> dict[str, str]:
    signature = Webhook(secret).sign(msg_id, datetime.fromtimestamp(timestamp, tz=UTC), body.decode())
    return {"webhook-id": msg_id, "webhook-timestamp": str(timestamp), "webhook-signature": signature}


def test_accepts_a_request_signed_by_the_reference_implementation() -> None:
    headers = _reference_headers(SECRET, "msg_1", BODY, int(time.time()))
    StandardWebhooksAuth([SECRET]).authenticate(headers, BODY, None)


def test_the_reference_implementation_accepts_our_signature() -> None:
    headers = signature_headers([SECRET], "msg_2", BODY)
    assert Webhook(SECRET).verify(BODY, headers) is not None


@given(body=st.text(max_size=300), msg_id=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1))
def test_agrees_with_the_reference_on_any_text_body(body: str, msg_id: str) -> None:
    raw = body.encode()
    now = int(time.time())
    StandardWebhooksAuth([SECRET]).authenticate(_reference_headers(SECRET, msg_id, raw, now), raw, None)
    Webhook(SECRET).verify(raw, signature_headers([SECRET], msg_id, raw, timestamp=now), json_parse=False)


def test_verifies_a_body_that_is_not_utf8() -> None:
    body = b"\xff\xfe not text"
    StandardWebhooksAuth([SECRET]).authenticate(signature_headers([SECRET], "msg_3", body), body, None)


def test_refuses_a_signature_made_with_another_secret() -> None:
    headers = signature_headers([OTHER], "msg_4", BODY)
    with pytest.raises(AuthenticationError) as refused:
        StandardWebhooksAuth([SECRET]).authenticate(headers, BODY, None)
    assert refused.value.code == "invalid_signature"
    with pytest.raises(WebhookVerificationError):  # the reference agrees
        Webhook(SECRET).verify(BODY, headers)


def test_refuses_a_tampered_body_or_id() -> None:
    headers = signature_headers([SECRET], "msg_5", BODY)
    auth = StandardWebhooksAuth([SECRET])
    with pytest.raises(AuthenticationError):
        auth.authenticate(headers, BODY + b" ", None)
    with pytest.raises(AuthenticationError):
        auth.authenticate({**headers, "webhook-id": "msg_6"}, BODY, None)


def test_sender_rotation_any_of_several_presented_signatures_matches() -> None:
    headers = signature_headers([OTHER, SECRET], "msg_7", BODY)
    assert len(headers["webhook-signature"].split()) == 2
    StandardWebhooksAuth([SECRET]).authenticate(headers, BODY, None)


def test_receiver_rotation_old_and_new_secret_both_accepted() -> None:
    auth = StandardWebhooksAuth([OTHER, SECRET])
    auth.authenticate(signature_headers([SECRET], "msg_8", BODY), BODY, None)
    auth.authenticate(signature_headers([OTHER], "msg_9", BODY), BODY, None)


def test_garbled_and_unknown_version_entries_do_not_hide_a_valid_one() -> None:
    headers = signature_headers([SECRET], "msg_10", BODY)
    headers["webhook-signature"] = "v2,abc v1,!!notbase64!! nocomma " + headers["webhook-signature"]
    StandardWebhooksAuth([SECRET]).authenticate(headers, BODY, None)


@pytest.mark.parametrize("skew", [-301, 301, -3600, 10**6])
def test_refuses_timestamps_outside_five_minutes(skew: int) -> None:
    headers = signature_headers([SECRET], "msg_11", BODY, timestamp=int(time.time()) + skew)
    with pytest.raises(AuthenticationError) as refused:
        StandardWebhooksAuth([SECRET]).authenticate(headers, BODY, None)
    assert refused.value.code == "timestamp_out_of_tolerance"


@pytest.mark.parametrize("skew", [-290, 0, 290])
def test_accepts_timestamps_within_five_minutes(skew: int) -> None:
    headers = signature_headers([SECRET], "msg_12", BODY, timestamp=int(time.time()) + skew)
    StandardWebhooksAuth([SECRET]).authenticate(headers, BODY, None)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_refuses_missing_headers(missing: str) -> None:
    headers = signature_headers([SECRET], "msg_13", BODY)
    del headers[missing]
    with pytest.raises(AuthenticationError) as refused:
        StandardWebhooksAuth([SECRET]).authenticate(headers, BODY, None)
    assert refused.value.code == "missing_signature"


@pytest.mark.parametrize("timestamp", ["1.7e9", "-5", "now", "\uff11\uff12\uff13"])
def test_refuses_timestamps_that_are_not_unix_seconds(timestamp: str) -> None:
    headers = {**signature_headers([SECRET], "msg_14", BODY), "webhook-timestamp": timestamp}
    with pytest.raises(AuthenticationError) as refused:
        StandardWebhooksAuth([SECRET]).authenticate(headers, BODY, None)
    assert refused.value.code == "invalid_timestamp"


@pytest.mark.parametrize("secret", ["whsec_not base64!", "whsec_", "whsec_" + base64.b64encode(b"short").decode()])
def test_unusable_secrets_are_a_configuration_error(secret: str) -> None:
    with pytest.raises(WebhookConfigError):
        StandardWebhooksAuth([secret])
    with pytest.raises(WebhookConfigError):
        StandardWebhooksAuth([])


def test_secret_prefix_and_padding_are_optional() -> None:
    key = os.urandom(32)
    unpadded = base64.b64encode(key).decode().rstrip("=")
    headers = signature_headers(["whsec_" + base64.b64encode(key).decode()], "msg_15", BODY)
    StandardWebhooksAuth([unpadded]).authenticate(headers, BODY, None)


def test_errors_never_quote_the_secret() -> None:
    with pytest.raises(WebhookConfigError) as refused:
        StandardWebhooksAuth(["whsec_sekr1t!!"])
    assert "sekr1t" not in str(refused.value)


def test_the_headers_are_checked_without_the_body() -> None:
    # What the receiver checks before it reads a body: well-formed headers and a fresh timestamp.
    auth = StandardWebhooksAuth([SECRET])
    headers = signature_headers([SECRET], "msg_16", BODY)
    auth.check_headers(headers, None)
    auth.verify_body(headers, BODY)
    with pytest.raises(AuthenticationError) as refused:
        auth.verify_body(headers, BODY + b" ")
    assert refused.value.code == "invalid_signature"


@pytest.mark.parametrize("signatures", ["v1,AAAA", "v2,AAAA", "v1,not-base64!", "v1," + "A" * 44 + "AAAA"])
def test_headers_without_one_well_formed_v1_signature_are_refused_before_the_body(signatures: str) -> None:
    headers = {**signature_headers([SECRET], "msg_17", BODY), "webhook-signature": signatures}
    with pytest.raises(AuthenticationError) as refused:
        StandardWebhooksAuth([SECRET]).check_headers(headers, None)
    assert refused.value.code == "invalid_signature"
