"""Local mode's scheduler clock: advancing it fires what is due, and only that clock moves."""

from __future__ import annotations

import json

import pytest

from functions.container import Container, Ports
from local.apigw import LambdaContext
from local.clock import AdvancingClock, ClockDriver
from tests.integration.conftest import Messaging
from tests.integration.test_scheduling import (
    client_conversation,
    deliver,
    schedule,
    texts_to_client,
)
from tests.phi_samples import BODY

pytestmark = pytest.mark.integration


def advance(driver: ClockDriver, body: object) -> dict[str, object]:
    event = {"httpMethod": "POST", "body": json.dumps(body)}
    return driver.handler(event, LambdaContext("local"))


def test_advancing_the_clock_past_a_schedule_sends_it(messaging: Messaging) -> None:
    # Given local mode's container: the real clock for everything, the advancing one for
    # the sweep (here the harness's fixed clock stands in for the real one)
    clock = AdvancingClock()
    ports = Ports(**{**messaging.runtime.ports.__dict__, "scheduler_clock": clock})
    runtime = Container(messaging.runtime.settings, clients=messaging.runtime.clients, ports=ports)
    clock.advance(messaging.clock.now() - clock.now())
    driver = ClockDriver(runtime, clock)
    conversation_id = client_conversation(messaging)
    schedule(messaging, conversation_id)  # 10:30, half an hour from now
    # When the clock moves on 20 minutes, nothing; then 11 more, the text
    first = advance(driver, {"minutes": 20})
    second = advance(driver, {"minutes": 11})
    deliver(messaging)
    assert (first["statusCode"], json.loads(str(first["body"]))["sweep"]["sent"]) == (200, 0)
    assert json.loads(str(second["body"]))["sweep"]["sent"] == 1
    assert texts_to_client(messaging) == [BODY]
    # and the container's own clock did not move (sessions keep real time)
    assert runtime.clock().now() == messaging.clock.now()


@pytest.mark.parametrize("body", [{"minutes": -5}, {"minutes": "soon"}, ["minutes"]])
def test_a_bad_advance_is_refused(messaging: Messaging, body: object) -> None:
    driver = ClockDriver(messaging.runtime, AdvancingClock())
    assert advance(driver, body)["statusCode"] == 400
