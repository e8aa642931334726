"""X-Twilio-Signature: the published algorithm, checked against hand-built strings."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence

import pytest

from functions.carriers import twilio
from functions.core.errors import SignatureError
from tests.phi_samples import BUSINESS_NUMBER, CLIENT_PHONE

pytestmark = pytest.mark.unit

TOKEN = "0123456789abcdef0123456789abcdef"
URL = "https://quietline.example/twilio/inbound?tenant=harbor"
PARAMS = {"MessageSid": "SM1", "Body": "Hi there", "To": BUSINESS_NUMBER, "From": CLIENT_PHONE}


def hand_signature(token: str, data: str) -> str:
    """HMAC-SHA1 over the string to sign, built by hand in each test, then Base64."""
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def signed(params: Mapping[str, str | Sequence[str]] = PARAMS, url: str = URL) -> str:
    return twilio.compute_signature(TOKEN, url, params)


# --- compute_signature ----------------------------------------------------------------
def test_given_params_when_signed_then_names_are_sorted_and_joined_without_separators() -> None:
    data = URL + "BodyHi there" + "From" + CLIENT_PHONE + "MessageSidSM1" + "To" + BUSINESS_NUMBER

    assert signed() == hand_signature(TOKEN, data)


def test_given_twilios_documentation_example_when_signed_then_it_matches_the_published_value() -> (
    None
):
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+12349013030",
        "Digits": "1234",
        "From": "+12349013030",
        "To": "+18005551212",
    }

    signature = twilio.compute_signature(
        "12345", "https://mycompany.com/myapp.php?foo=1&bar=2", params
    )

    assert signature == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


def test_given_names_differing_in_case_when_signed_then_uppercase_sorts_first() -> None:
    assert signed({"alpha": "2", "Zeta": "1"}) == hand_signature(TOKEN, URL + "Zeta1alpha2")


def test_given_a_repeated_name_when_signed_then_its_values_are_sorted() -> None:
    expected = hand_signature(TOKEN, URL + "MediaUrla" + "MediaUrlb" + "NumMedia2")

    assert signed({"NumMedia": "2", "MediaUrl": ["b", "a"]}) == expected
    assert signed({"NumMedia": "2", "MediaUrl": ["a", "b"]}) == expected


def test_given_non_ascii_values_when_signed_then_the_utf8_string_is_signed() -> None:
    assert signed({"Body": "café 😀"}) == hand_signature(TOKEN, URL + "Bodycafé 😀")


def test_given_no_params_when_signed_then_the_url_alone_is_signed() -> None:
    assert signed({}) == hand_signature(TOKEN, URL)


def test_given_a_blank_value_when_signed_then_its_name_is_still_part_of_the_string() -> None:
    assert signed({"Body": "", "To": "x"}) == hand_signature(TOKEN, URL + "Body" + "Tox")


# --- validate_signature ---------------------------------------------------------------
def test_given_the_right_signature_when_validated_then_it_passes() -> None:
    twilio.validate_signature(TOKEN, URL, PARAMS, signed())


def test_given_form_lists_when_validated_then_they_match_single_values() -> None:
    as_lists = {name: [value] for name, value in PARAMS.items()}

    twilio.validate_signature(TOKEN, URL, as_lists, signed())


def test_given_repeated_values_in_another_order_when_validated_then_it_passes() -> None:
    signature = signed({"MediaUrl": ["a", "b"]})

    twilio.validate_signature(TOKEN, URL, {"MediaUrl": ["b", "a"]}, signature)


def test_given_a_tampered_param_when_validated_then_it_is_refused() -> None:
    tampered = {**PARAMS, "Body": "Hi there!"}

    with pytest.raises(SignatureError):
        twilio.validate_signature(TOKEN, URL, tampered, signed())


def test_given_an_extra_param_when_validated_then_it_is_refused() -> None:
    with pytest.raises(SignatureError):
        twilio.validate_signature(TOKEN, URL, {**PARAMS, "NumMedia": "0"}, signed())


def test_given_a_dropped_blank_param_when_validated_then_it_is_refused() -> None:
    signature = signed({**PARAMS, "Body": ""})
    without_body = {name: value for name, value in PARAMS.items() if name != "Body"}

    with pytest.raises(SignatureError):
        twilio.validate_signature(TOKEN, URL, without_body, signature)


def test_given_a_value_moved_between_names_when_validated_then_it_is_refused() -> None:
    swapped = {**PARAMS, "From": BUSINESS_NUMBER, "To": CLIENT_PHONE}

    with pytest.raises(SignatureError):
        twilio.validate_signature(TOKEN, URL, swapped, signed())


@pytest.mark.parametrize(
    "other_url",
    [
        "https://quietline.example/twilio/status?tenant=harbor",
        "https://quietline.example/twilio/inbound?tenant=cedar",
        "https://quietline.example/twilio/inbound",
        "http://quietline.example/twilio/inbound?tenant=harbor",
        "https://evil.example/twilio/inbound?tenant=harbor",
    ],
)
def test_given_another_url_when_validated_then_it_is_refused(other_url: str) -> None:
    with pytest.raises(SignatureError):
        twilio.validate_signature(TOKEN, other_url, PARAMS, signed())


def test_given_another_auth_token_when_validated_then_it_is_refused() -> None:
    forged = twilio.compute_signature("not-the-token", URL, PARAMS)

    with pytest.raises(SignatureError):
        twilio.validate_signature(TOKEN, URL, PARAMS, forged)


@pytest.mark.parametrize("signature", [None, "", "   "])
def test_given_no_signature_when_validated_then_it_is_refused(signature: str | None) -> None:
    with pytest.raises(SignatureError):
        twilio.validate_signature(TOKEN, URL, PARAMS, signature)


def test_given_a_non_ascii_signature_header_when_validated_then_it_is_refused_cleanly() -> None:
    with pytest.raises(SignatureError):
        twilio.validate_signature(TOKEN, URL, PARAMS, "é" * 28)


def test_given_an_empty_auth_token_when_validated_then_nothing_can_pass() -> None:
    forged = twilio.compute_signature("", URL, PARAMS)

    with pytest.raises(SignatureError):
        twilio.validate_signature("", URL, PARAMS, forged)


@pytest.mark.parametrize(
    ("signed_url", "received_url"),
    [
        ("https://quietline.example/hook?t=1", "https://quietline.example:443/hook?t=1"),
        ("https://quietline.example:443/hook?t=1", "https://quietline.example/hook?t=1"),
        ("http://127.0.0.1/hook", "http://127.0.0.1:80/hook"),
        ("http://127.0.0.1:80/hook", "http://127.0.0.1/hook"),
        ("https://Quietline.Example/hook", "https://Quietline.Example:443/hook"),
        ("http://[::1]/hook", "http://[::1]:80/hook"),
        ("http://[::1]:80/hook", "http://[::1]/hook"),
    ],
)
def test_given_the_default_port_added_or_dropped_when_validated_then_it_passes(
    signed_url: str, received_url: str
) -> None:
    signature = signed(url=signed_url)

    twilio.validate_signature(TOKEN, received_url, PARAMS, signature)


@pytest.mark.parametrize(
    ("signed_url", "received_url"),
    [
        ("https://quietline.example:8443/hook", "https://quietline.example/hook"),
        ("https://quietline.example/hook", "https://quietline.example:8443/hook"),
        ("https://quietline.example/hook", "https://quietline.example:80/hook"),
        ("http://quietline.example/hook", "http://quietline.example:443/hook"),
        ("https://:443/hook", "https:///hook"),  # no host: no default port to add
    ],
)
def test_given_a_non_default_port_difference_when_validated_then_it_is_refused(
    signed_url: str, received_url: str
) -> None:
    signature = signed(url=signed_url)

    with pytest.raises(SignatureError):
        twilio.validate_signature(TOKEN, received_url, PARAMS, signature)


def test_given_any_signature_when_validated_then_the_comparison_is_constant_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real_compare = hmac.compare_digest

    def recording_compare(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real_compare(a, b)

    monkeypatch.setattr(twilio.hmac, "compare_digest", recording_compare)

    twilio.validate_signature(TOKEN, URL, PARAMS, signed())

    assert calls, "the signature must be compared with hmac.compare_digest"


# --- validate_json_signature ----------------------------------------------------------
JSON_BODY = b'{"MessageSid":"SM1","MessageStatus":"delivered"}'


def json_url(body: bytes = JSON_BODY) -> str:
    return f"https://quietline.example/twilio/events?bodySHA256={hashlib.sha256(body).hexdigest()}"


def test_given_a_signed_json_body_when_validated_then_it_passes() -> None:
    url = json_url()
    signature = hand_signature(TOKEN, url)

    twilio.validate_json_signature(TOKEN, url, JSON_BODY, signature)


def test_given_a_tampered_json_body_when_validated_then_it_is_refused() -> None:
    url = json_url()
    signature = hand_signature(TOKEN, url)

    with pytest.raises(SignatureError):
        twilio.validate_json_signature(
            TOKEN, url, JSON_BODY.replace(b"delivered", b"failed"), signature
        )


def test_given_a_json_url_without_body_hash_when_validated_then_it_is_refused() -> None:
    url = "https://quietline.example/twilio/events"

    with pytest.raises(SignatureError):
        twilio.validate_json_signature(TOKEN, url, JSON_BODY, hand_signature(TOKEN, url))


def test_given_a_matching_body_hash_but_a_forged_signature_when_validated_then_refused() -> None:
    url = json_url()

    with pytest.raises(SignatureError):
        twilio.validate_json_signature(TOKEN, url, JSON_BODY, hand_signature("other", url))


def test_given_a_body_hash_given_twice_one_blank_when_validated_then_it_is_refused() -> None:
    # Ambiguous: which of the two values the hash check read must not be left to a parser,
    # even when Twilio's signature covers the URL as given.
    digest = hashlib.sha256(JSON_BODY).hexdigest()
    url = f"https://quietline.example/twilio/events?bodySHA256=&bodySHA256={digest}"

    with pytest.raises(SignatureError):
        twilio.validate_json_signature(TOKEN, url, JSON_BODY, hand_signature(TOKEN, url))
