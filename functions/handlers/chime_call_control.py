"""Amazon Chime SDK SIP media application: the call-control Lambda.

Invoked by the SMA (only voiceconnector.chime.amazonaws.com may invoke it, for this
account's SMA) with one event per call step, and every few minutes by a schedule that
retries staged voicemails the call path could not store. Numbers never reach a log: the
event is not logged, and errors are logged by type only.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from functions.carriers.chime_voice import ChimeCallControl, parse_event
from functions.carriers.chime_voice_aws import sweep_staged
from functions.container import Container
from functions.core.clock import epoch_ms
from functions.core.errors import QuietlineError, ValidationError
from functions.core.observability import logger
from functions.dal import audit_log, voice_notifier, voicemail_store  # noqa: F401 - see below
from functions.dal.store import calls  # noqa: F401 - see below
from functions.handlers._entry import SCHEDULE_SOURCE, EntryPoint
from functions.logic import care, voice  # noqa: F401 - see below

# Every event builds the voice service (its stores, the audit sink): loaded at init, so
# the first call's first event (the caller is waiting in silence) does not pay for them.

# A recording still staged after this long was not stored by its call's own Lambda.
SWEEP_AGE = timedelta(minutes=5)


def handle(event: Any, context: Any, runtime: Container) -> dict[str, Any]:
    control = ChimeCallControl(
        runtime.voice_service(),
        runtime.voice_staging(),
        runtime.settings.need("voice_staging_bucket"),
        runtime.clock(),
        greeting_bucket=runtime.settings.voicemail_bucket,
    )
    if isinstance(event, dict) and event.get("source") == SCHEDULE_SOURCE:
        cutoff = epoch_ms(runtime.clock().now() - SWEEP_AGE)
        stored, failed = sweep_staged(control, runtime.voice_staging(), older_than_ms=cutoff)
        runtime.metrics().count("StagedVoicemailRecovered", stored)
        if failed:
            runtime.metrics().count("StagedVoicemailFailed", failed)
        # Staged copies whose delete failed after their voicemail was sealed (the service
        # keeps a marker for each): delete them now.
        deleted = runtime.voice_service().sweep_carrier_recordings()
        swept = {"stored": stored, "failed": failed, "carrier_copies_deleted": deleted}
        if runtime.transcribes:  # voicemail transcription jobs under way (docs/voice.md)
            swept["transcripts_finished"] = runtime.transcription_service().sweep()
        return swept
    try:
        sma_event = parse_event(event)
    except ValidationError as error:
        runtime.metrics().count("CallControlMalformed")
        logger.warning("malformed SMA event", extra={"field": error.field})
        return {"SchemaVersion": "1.0", "Actions": []}
    try:
        return control.handle(sma_event).to_response()
    except QuietlineError as error:
        # The caller must not be left in silence (and billed): end every live leg. A staged
        # recording stays for the sweep; the service's own writes are idempotent.
        runtime.metrics().count("CallControlFailed")
        logger.error("call control failed", extra={"error": type(error).__name__})
        legs = [p for p in sma_event.participants if p.status != "Disconnected"]
        return {
            "SchemaVersion": "1.0",
            "Actions": [
                {"Type": "Hangup", "Parameters": {"CallId": p.call_id, "SipResponseCode": "0"}}
                for p in legs
            ],
            "TransactionAttributes": dict(sma_event.attributes),
        }


handler = EntryPoint(handle, required=("table_name", "voicemail_bucket", "voice_staging_bucket"))
