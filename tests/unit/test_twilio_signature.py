"""X-Twilio-Signature: the published algorithm, checked against hand-built strings."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from functions.carriers import twilio
from functions.core.errors import SignatureError
from functions.core.settings import Settings
from functions.handlers import _twilio
from tests.builders import PUBLIC_BASE_URL, twilio_post
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


# --- the URL Twilio signed, from an API Gateway event -----------------------------------
# Twilio signs the webhook URL exactly as written in its console; API Gateway's event
# carries that URL's query only decoded and unordered (tests.builders builds the event
# the way local/apigw.py does, which mirrors API Gateway).
SMS_PATH = twilio.SMS_WEBHOOK_PATH
AWKWARD_QUERIES = {
    "slash": "next=/inbox/new",
    "percent-20": "label=front%20desk",
    "colon": "at=09:30",
    "plus": "tag=a+b",
    "repeated names": "t=2&a=1&t=1",
    "unsorted names": "zeta=1&alpha=2",
    "everything": "tenant=harbor&next=/inbox/new&label=front%20desk&at=09:30&tag=a+b&tenant=x",
}
QUERY_CASES = pytest.mark.parametrize("query", AWKWARD_QUERIES.values(), ids=AWKWARD_QUERIES.keys())


def _settings(*webhook_urls: str) -> Settings:
    return Settings(public_base_url=PUBLIC_BASE_URL, twilio_webhook_urls=webhook_urls)


def _check(event: dict[str, Any], settings: Settings) -> None:
    params = twilio.parse_form(event["body"].encode())
    signature = event["headers"]["X-Twilio-Signature"]
    twilio.validate_signature(TOKEN, _twilio.signed_urls(event, settings), params, signature)


def _reordered(event: dict[str, Any]) -> dict[str, Any]:
    """The event as API Gateway may deliver it: its parameter order is not kept."""
    multi = event["multiValueQueryStringParameters"]
    event["multiValueQueryStringParameters"] = dict(reversed(multi.items()))
    return event


@QUERY_CASES
def test_given_a_configured_url_with_an_awkward_query_when_twilio_signs_it_then_it_validates(
    query: str,
) -> None:
    event = _reordered(twilio_post(SMS_PATH, PARAMS, TOKEN, query=query))

    _check(event, _settings(f"{PUBLIC_BASE_URL}{SMS_PATH}?{query}"))


@QUERY_CASES
def test_given_a_configured_url_when_the_query_is_tampered_with_then_it_is_refused(
    query: str,
) -> None:
    event = twilio_post(SMS_PATH, PARAMS, TOKEN, query=query)
    first = next(iter(event["multiValueQueryStringParameters"]))
    event["multiValueQueryStringParameters"][first] = ["tampered"]

    with pytest.raises(SignatureError):
        _check(event, _settings(f"{PUBLIC_BASE_URL}{SMS_PATH}?{query}"))


@QUERY_CASES
def test_given_a_configured_url_when_the_form_is_tampered_with_then_it_is_refused(
    query: str,
) -> None:
    event = twilio_post(SMS_PATH, PARAMS, TOKEN, query=query)
    event["body"] = event["body"].replace("Hi+there", "Hi+there%21")

    with pytest.raises(SignatureError):
        _check(event, _settings(f"{PUBLIC_BASE_URL}{SMS_PATH}?{query}"))


def test_given_a_query_signed_for_another_configured_url_when_checked_then_it_is_refused() -> None:
    # Signed for ?tenant=harbor, delivered with ?tenant=cedar: no configured URL matches
    # the query received, and no rebuilt one carries the signature.
    event = twilio_post(SMS_PATH, PARAMS, TOKEN, query="tenant=harbor")
    event["multiValueQueryStringParameters"] = {"tenant": ["cedar"]}
    configured = [f"{PUBLIC_BASE_URL}{SMS_PATH}?tenant={t}" for t in ("harbor", "cedar")]

    with pytest.raises(SignatureError):
        _check(event, _settings(*configured))


@pytest.mark.parametrize(
    "query",
    ["next=/inbox/new", "label=front%20desk", "at=09:30", "ref=harbor/01CONV/01MSG", "a=1&b=2"],
)
def test_given_a_simple_query_written_minimally_when_not_configured_then_it_still_validates(
    query: str,
) -> None:
    # The rebuilt query leaves '/', ':' alone and writes a space as %20, as people type it.
    _check(twilio_post(SMS_PATH, PARAMS, TOKEN, query=query), _settings())


def test_given_no_query_when_checked_then_the_base_url_and_route_are_what_is_signed() -> None:
    event = twilio_post(SMS_PATH, PARAMS, TOKEN)

    assert _twilio.signed_urls(event, _settings()) == [PUBLIC_BASE_URL + SMS_PATH]


def test_given_no_public_base_url_when_checked_then_the_stage_url_is_what_is_signed() -> None:
    event = twilio_post(SMS_PATH, PARAMS, TOKEN)
    context = event["requestContext"]

    assert _twilio.signed_urls(event, Settings()) == [
        f"https://{context['domainName']}{context['path']}"
    ]


@pytest.mark.parametrize(
    ("configured", "resource", "query", "matches"),
    [
        ("https://q.example/webhooks/twilio/sms?a=1&b=2", SMS_PATH, {"b": ["2"], "a": ["1"]}, True),
        ("https://q.example/webhooks/twilio/sms?a=1", SMS_PATH, {"a": ["1"], "b": ["2"]}, False),
        ("https://q.example/webhooks/twilio/sms?a=1&a=1", SMS_PATH, {"a": ["1"]}, False),
        ("https://q.example/webhooks/twilio/sms?a=x+y", SMS_PATH, {"a": ["x y"]}, True),
        ("https://q.example/webhooks/twilio/sms?a=x+y", SMS_PATH, {"a": ["x+y"]}, True),
        ("https://q.example/webhooks/twilio/sms?a=x%2By", SMS_PATH, {"a": ["x y"]}, False),
        ("https://q.example/webhooks/twilio/sms?flag", SMS_PATH, {"flag": [""]}, True),
        ("https://q.example/webhooks/twilio/status?a=1", SMS_PATH, {"a": ["1"]}, False),
        ("https://q.example/webhooks/twilio/sms", SMS_PATH, {}, True),
    ],
)
def test_given_a_configured_url_when_matched_then_path_and_decoded_query_must_agree(
    configured: str, resource: str, query: dict[str, list[str]], matches: bool
) -> None:
    assert twilio.matches_request(configured, resource, query) is matches


def test_given_decoded_params_when_a_query_is_rebuilt_then_only_what_must_be_is_encoded() -> None:
    params = {"next": ["/a/b"], "at": ["09:30"], "label": ["front desk"], "q": ["a+b&c=d#e%"]}

    assert twilio.rebuild_query(params) == (
        "next=/a/b&at=09:30&label=front%20desk&q=a%2Bb%26c%3Dd%23e%25"
    )
