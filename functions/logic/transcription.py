"""Optional voicemail transcription (docs/voice.md, "Transcription"), off unless a practice's
admin opts in (`VoiceSettings.transcribe_voicemail`).

Once a voicemail is sealed and stored, `voicemail_stored` hands its audio to a batch
transcriber (Amazon Transcribe in AWS) under a job name of ids only. The scheduled voice
sweep polls each pending job (`sweep`): a finished job's text is sealed under the tenant's
key (context `voicemail_transcript`, like a message body) and stored on the call, and only
then are the job, its output and the staged audio deleted. A failed (or vanished, or stuck)
job is retried from the sealed voicemail a bounded number of times, then the call says
"failed". Nothing here can fail or lose the voicemail: every error is counted and left to
the sweep. Staff read the text through the staff API (`transcript`), audited like a body.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum, StrEnum
from typing import Protocol

from functions.core.clock import Clock, iso
from functions.core.errors import NotFoundError, QuietlineError
from functions.core.observability import logger
from functions.core.voice import CallRecord, split_call_id
from functions.crypto.contexts import transcript_location, voicemail_location
from functions.crypto.envelope import EnvelopeCipher
from functions.logic.access import Principal, can_see
from functions.logic.audit import AuditEvent, AuditSink
from functions.logic.audit import Outcome as AuditOutcome
from functions.logic.ports import MetricsSink, RecordingStore
from functions.logic.tenants import TenantDirectory
from functions.logic.voice_ports import CallStore, VoicemailStore, VoiceSettingsStore

TRANSCRIBE_ACTOR = "transcription"  # the audit actor of a stored transcript
MAX_ATTEMPTS = 3  # a voicemail's audio is sent at most this many times
STUCK_AFTER = timedelta(hours=1)  # a job still running after this counts as failed


class TranscriptStatus(StrEnum):
    PENDING = "pending"
    READY = "ready"
    FAILED = "failed"


class JobState(Enum):
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


@dataclass(frozen=True)
class JobResult:
    state: JobState
    text: str = field(default="", repr=False)  # the transcript: PHI, never in a repr


@dataclass(frozen=True)
class PendingTranscription:
    """A job under way for a call's voicemail (ids only: it is stored unencrypted)."""

    call_id: str
    job_name: str
    attempt: int
    started_at: str
    expires_at: int  # the call's retention: the marker never outlives the voicemail


@dataclass(frozen=True)
class StoredTranscript:
    status: TranscriptStatus
    attempt: int = 0
    record: bytes | None = field(default=None, repr=False)  # sealed text, when READY


@dataclass(frozen=True)
class Transcript:
    """What staff read: the status (None: never asked for), the decrypted text once ready."""

    status: TranscriptStatus | None
    text: str | None = field(default=None, repr=False)


class Transcriber(Protocol):
    """A batch speech-to-text service. Job names are ids only (they show in consoles,
    CloudTrail and the service's own logs)."""

    def start(self, job_name: str, audio: bytes, content_type: str) -> None:
        """Stage the audio (encrypted, short-lived) and start the job. DependencyError (or
        another QuietlineError) if either fails."""
        ...

    def result(self, job_name: str) -> JobResult:
        """The job's state, with its text once completed; NotFoundError if there is none."""
        ...

    def discard(self, job_name: str) -> None:
        """Delete the job, its output and the staged audio; anything already gone is fine."""
        ...


class TranscriptStore(Protocol):
    """A call's transcript state and sealed text, and the markers of jobs under way."""

    def put_pending(self, pending: PendingTranscription) -> None:
        """The call's transcript is PENDING (this attempt) and the job is to be polled."""
        ...

    def list_pending(self, *, limit: int) -> list[PendingTranscription]: ...

    def finish(
        self, pending: PendingTranscription, status: TranscriptStatus, record: bytes | None
    ) -> None:
        """Set the call's final transcript state (READY with its sealed text, or FAILED);
        the marker stays until `clear_pending`, after the job is discarded."""
        ...

    def clear_pending(self, call_id: str) -> None: ...

    def get_transcript(
        self, tenant_id: str, conversation_id: str, call_ulid: str
    ) -> StoredTranscript | None: ...


def job_name(call: CallRecord, attempt: int) -> str:
    """Ids only: the call's ULID (unique per account, as job names must be) and the try."""
    return f"quietline-vm-{call.call_ulid}-{attempt}"


@dataclass
class TranscriptReader:
    """Staff reading a voicemail's transcript (needs no transcriber: a deployment that
    stopped transcribing still shows the transcripts it has)."""

    directory: TenantDirectory
    store: RecordingStore  # conversations: who may read a thread's transcript
    transcripts: TranscriptStore
    cipher: EnvelopeCipher

    def transcript(self, principal: Principal, conversation_id: str, call_ulid: str) -> Transcript:
        """A voicemail's transcript for staff who may see the thread (else not found, as if
        it did not exist); decrypted per read. The route audits the read."""
        read = self.store.tenant_and_conversation(principal.tenant_id, conversation_id)
        if not can_see(principal, read.conversation.get()):
            raise NotFoundError("conversation not found")
        tenant = self.directory.admit(read.tenant)
        stored = self.transcripts.get_transcript(tenant.tenant_id, conversation_id, call_ulid)
        if stored is None:  # transcription off, or a call without a voicemail
            return Transcript(None)
        if stored.status is not TranscriptStatus.READY or stored.record is None:
            return Transcript(stored.status)
        text = self.cipher.decrypt(
            transcript_location(tenant.tenant_id, conversation_id, call_ulid), stored.record
        )
        return Transcript(TranscriptStatus.READY, text)


@dataclass
class TranscriptionService:
    calls: CallStore
    settings: VoiceSettingsStore
    voicemails: VoicemailStore
    transcripts: TranscriptStore
    transcriber: Transcriber
    cipher: EnvelopeCipher
    audit: AuditSink
    clock: Clock
    metrics: MetricsSink
    max_attempts: int = MAX_ATTEMPTS
    stuck_after: timedelta = STUCK_AFTER

    def voicemail_stored(self, call: CallRecord, audio: bytes, content_type: str) -> None:
        """Start transcribing a voicemail just stored, if the practice opted in. Never
        raises: the voicemail is safe already, and the sweep retries a failed start."""
        try:
            if not self.settings.get_voice_settings(call.tenant_id).transcribe_voicemail:
                return
            self._start(call, 1, audio, content_type)
        except QuietlineError as error:
            self._warn("TranscriptionStartFailed", error)

    def sweep(self, *, limit: int = 50) -> int:
        """Poll every job under way (scheduled with the voice sweep): store finished
        transcripts, retry failed jobs. Returns how many calls reached a final state."""
        finished = 0
        for pending in self.transcripts.list_pending(limit=limit):
            try:
                finished += self._check(pending)
            except QuietlineError as error:  # left pending: the next sweep tries again
                self._warn("TranscriptionSweepFailed", error)
        return finished

    # --- one job --------------------------------------------------------------------------

    def _start(self, call: CallRecord, attempt: int, audio: bytes, content_type: str) -> None:
        pending = PendingTranscription(
            call.call_id, job_name(call, attempt), attempt, iso(self.clock.now()), call.expires_at
        )
        # The marker first: a start that fails is then found by the sweep (no such job:
        # a failed attempt) instead of leaving the call without a status.
        self.transcripts.put_pending(pending)
        try:
            self.transcriber.start(pending.job_name, audio, content_type)
        except QuietlineError as error:
            self._warn("TranscriptionStartFailed", error)
            return
        self.metrics.count("TranscriptionStarted")

    def _check(self, pending: PendingTranscription) -> int:
        tenant_id, conversation_id, call_ulid = split_call_id(pending.call_id)
        stored = self.transcripts.get_transcript(tenant_id, conversation_id, call_ulid)
        if stored is None or stored.status is not TranscriptStatus.PENDING:
            # Final already (or the call is gone): only the cleanup is left.
            self._clean_up(pending)
            return 0
        try:
            result = self.transcriber.result(pending.job_name)
        except NotFoundError:  # never started, or deleted: a failed attempt
            result = JobResult(JobState.FAILED)
        if result.state is JobState.RUNNING:
            if self.clock.now() - datetime.fromisoformat(pending.started_at) < self.stuck_after:
                return 0
            self.metrics.count("TranscriptionStuck")
            result = JobResult(JobState.FAILED)
        call = self.calls.get_call(tenant_id, conversation_id, call_ulid)
        if result.state is JobState.COMPLETED:
            return self._store(call, pending, result.text)
        return self._retry_or_fail(call, pending)

    def _store(self, call: CallRecord, pending: PendingTranscription, text: str) -> int:
        sealed = self.cipher.encrypt(
            transcript_location(call.tenant_id, call.conversation_id, call.call_ulid), text
        ).to_bytes()
        self.transcripts.finish(pending, TranscriptStatus.READY, sealed)
        self._audit("voicemail.transcribed", call, attempt=str(pending.attempt))
        self.metrics.count("TranscriptionCompleted")
        self._clean_up(pending)  # ours is safe: now the job, its output and the staging copy
        return 1

    def _retry_or_fail(self, call: CallRecord, pending: PendingTranscription) -> int:
        # The marker stays until the next attempt's replaces it (or the call is final): if
        # anything below fails, the next sweep finds this attempt failed again.
        self.transcriber.discard(pending.job_name)
        if pending.attempt < self.max_attempts and call.voicemail is not None:
            sealed = self.voicemails.get(call.voicemail.object_key)
            audio = self.cipher.decrypt_bytes(
                voicemail_location(call.tenant_id, call.conversation_id, call.call_ulid), sealed
            )
            self.metrics.count("TranscriptionRetried")
            self._start(call, pending.attempt + 1, audio, call.voicemail.content_type)
            return 0
        self.transcripts.finish(pending, TranscriptStatus.FAILED, None)
        self.transcripts.clear_pending(pending.call_id)
        self._audit(
            "voicemail.transcribed",
            call,
            outcome=AuditOutcome.ERROR,
            attempt=str(pending.attempt),
        )
        self.metrics.count("TranscriptionFailed")
        return 1

    def _clean_up(self, pending: PendingTranscription) -> None:
        """Job, output and staged audio deleted; then the marker. A failure raises (the
        sweep keeps the marker and tries again)."""
        self.transcriber.discard(pending.job_name)
        self.transcripts.clear_pending(pending.call_id)

    def _audit(
        self,
        action: str,
        call: CallRecord,
        *,
        outcome: AuditOutcome = AuditOutcome.SUCCESS,
        **extra: str,
    ) -> None:
        target = {"conversation_id": call.conversation_id, "call_id": call.call_ulid, **extra}
        event = AuditEvent(
            action, outcome, TRANSCRIBE_ACTOR, call.tenant_id, iso(self.clock.now()), target=target
        )
        self.audit.record(event)

    def _warn(self, metric: str, error: QuietlineError) -> None:
        self.metrics.count(metric)
        extra = {"step": metric, "error": type(error).__name__}
        logger.warning("voicemail transcription", extra=extra)
