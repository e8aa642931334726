"""Voicemail transcription on in-memory fakes: opt-in, the job and its name, the sealed
transcript, cleanup, and failures that never touch the voicemail (docs/voice.md,
"Transcription"). Each test drives a missed call to a stored voicemail as a carrier would,
then the scheduled sweep."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import timedelta

import pytest

from functions.core.errors import DecryptionError, NotFoundError, ValidationError
from functions.core.voice import CallStatus, VoiceSettings
from functions.crypto.contexts import body_location, transcript_location, voicemail_location
from functions.logic.access import Principal, Role
from functions.logic.transcription import (
    MAX_ATTEMPTS,
    TranscriptionService,
    TranscriptReader,
    TranscriptStatus,
)
from functions.logic.voice_admin import VoiceAdmin
from tests.phi_samples import CLIENT_PHONE
from tests.transcription_fakes import FakeTranscriber, InMemoryTranscripts
from tests.unit.test_voice_service import ADMIN, AUDIO, TENANT, Voice, build, missed, recording

pytestmark = pytest.mark.unit

SPOKEN = "Hi, this is a client, please call me back about Tuesday."


@dataclass
class World:
    voice: Voice
    service: TranscriptionService
    reader: TranscriptReader
    transcriber: FakeTranscriber
    transcripts: InMemoryTranscripts

    def opt_in(self, on: bool = True) -> None:
        self.voice.route(transcribe_voicemail=on)

    def leave_voicemail(self, carrier_call_id: str = "CA-1") -> str:
        call_id = self.voice.ring(carrier_call_id)
        missed(self.voice, call_id)
        self.voice.service.voicemail_recorded(recording(call_id))
        return call_id

    def only_job(self) -> str:
        (name,) = self.transcriber.jobs
        return name

    def state(self, call_id: str) -> TranscriptStatus | None:
        stored = self.transcripts.states.get(call_id)
        return stored.status if stored else None


@pytest.fixture
def world() -> World:
    voice = build()
    transcriber = FakeTranscriber()
    transcripts = InMemoryTranscripts()
    service = TranscriptionService(
        calls=voice.calls,
        settings=voice.calls,
        voicemails=voice.voicemails,
        transcripts=transcripts,
        transcriber=transcriber,
        cipher=voice.cipher,
        audit=voice.audit,
        clock=voice.clock,
        metrics=voice.metrics,
    )
    voice.service.transcription = service
    reader = TranscriptReader(
        voice.service.directory,
        voice.messages,  # type: ignore[arg-type]
        transcripts,
        voice.cipher,
    )
    return World(voice, service, reader, transcriber, transcripts)


def ids(call_id: str) -> tuple[str, str, str]:
    tenant_id, conversation_id, call_ulid = call_id.split("/")
    return tenant_id, conversation_id, call_ulid


# --- opting in -------------------------------------------------------------------------


def test_a_practice_that_did_not_opt_in_sends_no_audio_to_the_transcriber(world: World) -> None:
    # Given voice on, transcription left at its default (off)
    world.opt_in(False)
    # When a caller leaves a voicemail
    call_id = world.leave_voicemail()
    # Then no job was started and the call has no transcript state
    assert world.transcriber.jobs == {}
    assert world.state(call_id) is None


def test_an_opted_in_voicemail_is_handed_over_under_a_job_name_of_ids_only(world: World) -> None:
    world.opt_in()
    call_id = world.leave_voicemail()
    name = world.only_job()
    _, conversation_id, call_ulid = ids(call_id)
    # The name is our call's ULID and the try, nothing else: no number, tenant or thread.
    assert re.fullmatch(rf"quietline-vm-{call_ulid}-1", name)
    assert TENANT not in name and conversation_id not in name
    assert re.sub(r"\D", "", CLIENT_PHONE)[-7:] not in name
    assert world.transcriber.staged[name] == AUDIO
    assert world.state(call_id) is TranscriptStatus.PENDING


# --- a job that completes ----------------------------------------------------------------


def test_a_finished_transcript_is_sealed_under_the_transcript_context(world: World) -> None:
    world.opt_in()
    call_id = world.leave_voicemail()
    world.transcriber.complete(world.only_job(), SPOKEN)
    # When the sweep polls
    assert world.service.sweep() == 1
    stored = world.transcripts.states[call_id]
    assert stored.status is TranscriptStatus.READY and stored.record is not None
    assert SPOKEN.encode() not in stored.record  # sealed, not stored as text
    tenant_id, conversation_id, call_ulid = ids(call_id)
    location = transcript_location(tenant_id, conversation_id, call_ulid)
    assert world.voice.cipher.decrypt(location, stored.record) == SPOKEN
    # A transcript moved to a message body's (or the audio's) place does not open.
    for elsewhere in (
        body_location(tenant_id, conversation_id, call_ulid),
        voicemail_location(tenant_id, conversation_id, call_ulid),
    ):
        with pytest.raises(DecryptionError):
            world.voice.cipher.decrypt(elsewhere, stored.record)


def test_once_stored_the_job_its_output_and_the_staged_audio_are_deleted(world: World) -> None:
    world.opt_in()
    call_id = world.leave_voicemail()
    name = world.only_job()
    world.transcriber.complete(name, SPOKEN)
    world.service.sweep()
    assert name not in world.transcriber.jobs
    assert name not in world.transcriber.staged
    assert name not in world.transcriber.outputs
    assert call_id not in world.transcripts.pending
    assert "voicemail.transcribed" in world.voice.audit.actions


def test_a_cleanup_that_fails_is_repeated_without_touching_the_transcript(world: World) -> None:
    world.opt_in()
    call_id = world.leave_voicemail()
    name = world.only_job()
    world.transcriber.complete(name, SPOKEN)
    world.transcriber.fail_discard = True
    world.service.sweep()
    assert world.state(call_id) is TranscriptStatus.READY
    assert call_id in world.transcripts.pending  # still to clean up
    world.transcriber.fail_discard = False
    world.service.sweep()
    assert name not in world.transcriber.staged and call_id not in world.transcripts.pending
    assert world.state(call_id) is TranscriptStatus.READY


def test_a_job_still_running_is_left_alone(world: World) -> None:
    world.opt_in()
    call_id = world.leave_voicemail()
    assert world.service.sweep() == 0
    assert world.state(call_id) is TranscriptStatus.PENDING
    assert len(world.transcriber.started) == 1


# --- failures never lose the voicemail -------------------------------------------------


def test_a_failed_job_is_retried_from_the_sealed_voicemail(world: World) -> None:
    world.opt_in()
    call_id = world.leave_voicemail()
    first = world.only_job()
    world.transcriber.fail(first)
    world.service.sweep()
    second = world.only_job()
    assert second.endswith("-2") and second != first
    assert world.transcriber.staged[second] == AUDIO  # decrypted from our stored copy
    assert first not in world.transcriber.staged
    assert world.state(call_id) is TranscriptStatus.PENDING


def test_retries_are_bounded_then_the_call_says_failed_and_keeps_its_voicemail(
    world: World,
) -> None:
    world.opt_in()
    call_id = world.leave_voicemail()
    for _ in range(MAX_ATTEMPTS + 2):
        for name in list(world.transcriber.jobs):
            world.transcriber.fail(name)
        world.service.sweep()
    assert len(world.transcriber.started) == MAX_ATTEMPTS
    assert world.state(call_id) is TranscriptStatus.FAILED
    assert world.transcripts.pending == {} and world.transcriber.staged == {}
    assert world.voice.metrics.counts["TranscriptionFailed"] == 1
    call = world.voice.call(call_id)
    assert call.status is CallStatus.VOICEMAIL  # type: ignore[attr-defined]
    _, conversation_id, call_ulid = ids(call_id)
    played = world.voice.service.voicemail_audio(ADMIN, conversation_id, call_ulid)
    assert played.audio == AUDIO


def test_a_transcriber_that_cannot_start_leaves_the_voicemail_stored(world: World) -> None:
    world.opt_in()
    world.transcriber.fail_start = True
    # voicemail_recorded does not raise: the carrier must not retry a stored voicemail
    call_id = world.leave_voicemail()
    assert world.voice.voicemails.objects  # ours is stored
    assert world.state(call_id) is TranscriptStatus.PENDING
    assert world.voice.metrics.counts["TranscriptionStartFailed"] == 1
    # The sweep finds no such job: a failed attempt, started again.
    world.transcriber.fail_start = False
    world.service.sweep()
    assert world.only_job().endswith("-2")


def test_a_job_running_past_the_stuck_limit_is_counted_and_retried(world: World) -> None:
    world.opt_in()
    world.leave_voicemail()
    world.voice.clock.current += world.service.stuck_after + timedelta(minutes=1)
    world.service.sweep()
    assert world.voice.metrics.counts["TranscriptionStuck"] == 1
    assert world.only_job().endswith("-2")


# --- staff reading it -------------------------------------------------------------------


def test_staff_who_may_see_the_thread_read_the_decrypted_text(world: World) -> None:
    world.opt_in()
    call_id = world.leave_voicemail()
    _, conversation_id, call_ulid = ids(call_id)
    assert world.reader.transcript(ADMIN, conversation_id, call_ulid).status is (
        TranscriptStatus.PENDING
    )
    world.transcriber.complete(world.only_job(), SPOKEN)
    world.service.sweep()
    transcript = world.reader.transcript(ADMIN, conversation_id, call_ulid)
    assert (transcript.status, transcript.text) == (TranscriptStatus.READY, SPOKEN)
    assert SPOKEN not in repr(transcript)


def test_a_clinician_outside_the_thread_gets_not_found(world: World) -> None:
    world.opt_in()
    call_id = world.leave_voicemail()
    tenant_id, conversation_id, call_ulid = ids(call_id)
    key = (tenant_id, conversation_id)
    conversations = world.voice.messages.conversations
    conversations[key] = replace(conversations[key], assigned_to="ben")
    ana = Principal("ana", TENANT, Role.CLINICIAN, "s", 0)
    with pytest.raises(NotFoundError):
        world.reader.transcript(ana, conversation_id, call_ulid)


# --- the setting -----------------------------------------------------------------------


def _admin(world: World, *, available: bool) -> VoiceAdmin:
    voice = world.voice
    return VoiceAdmin(
        voice.calls, voice.cipher, lambda: voice.roster, transcription_available=available
    )


def test_an_admin_cannot_turn_on_transcription_where_none_is_deployed(world: World) -> None:
    with pytest.raises(ValidationError) as refused:
        _admin(world, available=False).update_voice_settings(
            ADMIN, VoiceSettings(enabled=True, transcribe_voicemail=True)
        )
    assert refused.value.field == "voice.transcribe_voicemail"


def test_an_admin_turns_transcription_on_and_it_is_kept(world: World) -> None:
    admin = _admin(world, available=True)
    admin.update_voice_settings(ADMIN, VoiceSettings(enabled=True, transcribe_voicemail=True))
    assert admin.get_voice_settings(ADMIN).transcribe_voicemail is True
    assert VoiceSettings().transcribe_voicemail is False  # off unless an admin opts in


def test_a_voicemail_never_sent_for_transcription_reads_as_no_transcript(world: World) -> None:
    world.opt_in(False)
    call_id = world.leave_voicemail()
    _, conversation_id, call_ulid = ids(call_id)
    transcript = world.reader.transcript(ADMIN, conversation_id, call_ulid)
    assert (transcript.status, transcript.text) == (None, None)
