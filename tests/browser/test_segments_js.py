"""The compose box's segment counter (web/app/segments.js) agrees with the server's
(functions/logic/segments.py): the same vectors as tests/unit/test_segments.py, plus
random mixes, run through both."""

from __future__ import annotations

import random
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import pytest

from functions.logic.segments import count_segments

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

EURO, HAN, EMOJI = "€", "你", "😀"
VECTORS = [
    "",
    *("a" * n for n in (1, 160, 161, 306, 307, 459, 460)),
    *"^{}\\[~]|€\f",
    "a" * 158 + EURO,
    "a" * 159 + EURO,
    "a" * 152 + EURO + "a" * 152,
    "a" * 151 + EURO + "a" * 153,
    "@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ!¤§¿¡ÄÖÑÜäöñüà\r\n",
    *("a" * 100 + c for c in ("\u2019", "\u201c", "ç", "ą", HAN, EMOJI, "\x1b")),
    *(HAN * n for n in (70, 71, 134, 135, 201, 202)),
    EMOJI,
    HAN * 68 + EMOJI,
    HAN * 69 + EMOJI,
    HAN * 66 + EMOJI + HAN * 66,
    "I have been thinking about what we discussed. " * 30,
]


def _random_vectors(count: int) -> list[str]:
    rng = random.Random(7)  # fixed: a failure must reproduce
    alphabet = ["a", "Z", " ", "\n", "é", "€", "{", "ç", HAN, EMOJI, "\u2019", "ß"]
    weights = [40, 10, 10, 2, 3, 3, 3, 1, 1, 1, 1, 2]
    return ["".join(rng.choices(alphabet, weights, k=rng.randint(0, 480))) for _ in range(count)]


def test_the_js_counter_matches_the_server_on_every_vector(
    page: Page, runtime: dict[str, Any]
) -> None:
    page.goto(runtime["base_url"] + "/")
    bodies = VECTORS + _random_vectors(300)

    counted = page.evaluate(
        """async (bodies) => {
            const { countSegments } = await import("/app/segments.js");
            return bodies.map(countSegments);
        }""",
        bodies,
    )

    mismatches = [
        index
        for index, (body, js) in enumerate(zip(bodies, counted, strict=True))
        if js != asdict(count_segments(body))
    ]
    assert mismatches == [], f"segments.js disagrees on vector(s) {mismatches[:10]}"
