"""Reading `Authentication-Results` (RFC 8601) and the verdict on a mail: only a trusted server's DKIM pass of the
provider's signing domain vouches for it (issue 12: anyone could mail a `domain.deleted`)."""

from __future__ import annotations

import pytest

from regpipe.contract.raw import EmailAuth
from regpipe.imap.authentication import SenderAuthentication, parse_authentication_results
from regpipe.imap.errors import ImapConfigError

TRUST = SenderAuthentication(
    trusted_authserv_ids=frozenset({"mx.reseller.example"}), signing_domains=frozenset({"opensrs.example"})
)
_BODY = b"Subject: Event notification: DOMAIN: DELETED: e1\r\n\r\n{}\r\n"


def _mail(*results: str) -> bytes:
    return b"".join(f"Authentication-Results: {value}\r\n".encode() for value in results) + _BODY


def test_the_rfc_8601_examples_are_read() -> None:
    (result,) = parse_authentication_results(
        'example.com 1; (a comment; with a ;) dkim/1=pass (good "sig") header.d=Example.org header.b="ab;c"'
    )
    assert (result.authserv_id, result.method, result.result) == ("example.com", "dkim", "pass")
    assert result.value_of("header.d") == "Example.org"
    assert result.value_of("header.b") == "ab;c"
    assert parse_authentication_results("example.org; none") == []
    several = parse_authentication_results(
        'mx.example; spf=pass smtp.mailfrom=a@b.example;\r\n dkim=fail reason="bad" header.d=b.example; dmarc=pass'
    )
    assert [(r.method, r.result) for r in several] == [("spf", "pass"), ("dkim", "fail"), ("dmarc", "pass")]


@pytest.mark.parametrize(
    ("results", "verdict"),
    [
        (["mx.reseller.example; dkim=pass header.d=opensrs.example header.s=s1"], EmailAuth.DKIM_PASS),
        (["MX.Reseller.Example; DKIM=Pass header.d=OpenSRS.example."], EmailAuth.DKIM_PASS),
        (["mx.reseller.example; dkim=pass header.i=@opensrs.example"], EmailAuth.DKIM_PASS),
        (
            [
                "mx.reseller.example; spf=pass smtp.mailfrom=opensrs.example",
                "mx.reseller.example; dkim=pass header.d=opensrs.example",
            ],
            EmailAuth.DKIM_PASS,
        ),
        ([], EmailAuth.UNVERIFIED),  # nothing vouches: anyone can send this
        (["mx.attacker.example; dkim=pass header.d=opensrs.example"], EmailAuth.UNVERIFIED),  # not a trusted server
        (["mx.reseller.example; dkim=pass header.d=attacker.example"], EmailAuth.UNVERIFIED),  # not the provider
        (["mx.reseller.example; dkim=pass header.d=opensrs.example.attacker.example"], EmailAuth.UNVERIFIED),
        (["mx.reseller.example; dkim=fail header.d=opensrs.example"], EmailAuth.UNVERIFIED),
        (["mx.reseller.example; dkim=neutral header.d=opensrs.example"], EmailAuth.UNVERIFIED),
        (["mx.reseller.example; spf=pass smtp.mailfrom=opensrs.example"], EmailAuth.UNVERIFIED),  # SPF is no DKIM
        (["mx.reseller.example; dkim=pass"], EmailAuth.UNVERIFIED),  # which domain signed is unknown
        (
            ["mx.reseller.example; (dkim=pass header.d=opensrs.example) dkim=fail header.d=x.example"],
            EmailAuth.UNVERIFIED,
        ),
        (['"mx.reseller.example; dkim=pass header.d=opensrs.example"; none'], EmailAuth.UNVERIFIED),
        (["mx.reseller.example; dkim=pass header.d=opensrs.example" + " x" * 5000], EmailAuth.UNVERIFIED),
    ],
)
def test_only_a_trusted_dkim_pass_of_the_provider_vouches(results: list[str], verdict: EmailAuth) -> None:
    assert TRUST.verdict(_mail(*results)) is verdict


def test_with_nothing_trusted_every_mail_is_unverified() -> None:
    vouched = _mail("mx.reseller.example; dkim=pass header.d=opensrs.example")
    assert SenderAuthentication().verdict(vouched) is EmailAuth.UNVERIFIED


def test_a_header_that_cannot_be_read_vouches_for_nothing() -> None:
    assert TRUST.verdict(b"Authentication-Results: \xff\xfe\x00;;==\r\n" + _BODY) is EmailAuth.UNVERIFIED
    assert TRUST.verdict(b"") is EmailAuth.UNVERIFIED


def test_settings_that_cannot_work_are_refused() -> None:
    with pytest.raises(ImapConfigError):
        SenderAuthentication(trusted_authserv_ids=frozenset({"mx.example"}))  # trusted for which signer?
    with pytest.raises(ImapConfigError):
        SenderAuthentication(trusted_authserv_ids=frozenset({"mx.example"}), signing_domains=frozenset({"Bad Domain"}))
    with pytest.raises(ImapConfigError):
        SenderAuthentication(trusted_authserv_ids=frozenset({"MX.example"}), signing_domains=frozenset({"a.example"}))
