"""In-memory fakes of the transcription ports: a transcriber that keeps its jobs, staged
audio and outputs as Amazon Transcribe and the bucket would, and the transcript store."""

from __future__ import annotations

from dataclasses import dataclass, field

from functions.core.errors import DependencyError, NotFoundError
from functions.logic.transcription import (
    JobResult,
    JobState,
    PendingTranscription,
    StoredTranscript,
    TranscriptStatus,
)


@dataclass
class FakeJob:
    audio: bytes
    content_type: str
    state: JobState = JobState.RUNNING
    text: str = ""


@dataclass
class FakeTranscriber:
    """Jobs by name; `staged` and `outputs` are the bucket's objects by job name."""

    jobs: dict[str, FakeJob] = field(default_factory=dict)
    staged: dict[str, bytes] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    started: list[str] = field(default_factory=list)
    fail_start: bool = False
    fail_discard: bool = False

    def start(self, job_name: str, audio: bytes, content_type: str) -> None:
        if self.fail_start:
            raise DependencyError("transcribe:StartTranscriptionJob")
        self.staged[job_name] = audio
        self.jobs[job_name] = FakeJob(audio, content_type)
        self.started.append(job_name)

    def result(self, job_name: str) -> JobResult:
        if job_name not in self.jobs:
            raise NotFoundError("no such transcription job")
        job = self.jobs[job_name]
        return JobResult(job.state, self.outputs.get(job_name, ""))

    def discard(self, job_name: str) -> None:
        if self.fail_discard:
            raise DependencyError("transcribe:DeleteTranscriptionJob")
        self.jobs.pop(job_name, None)
        self.staged.pop(job_name, None)
        self.outputs.pop(job_name, None)

    # What the service does on its own time.
    def complete(self, job_name: str, text: str) -> None:
        self.jobs[job_name].state = JobState.COMPLETED
        self.outputs[job_name] = text

    def fail(self, job_name: str) -> None:
        self.jobs[job_name].state = JobState.FAILED


@dataclass
class InMemoryTranscripts:
    """TranscriptStore: the call's transcript state and the markers of jobs under way."""

    states: dict[str, StoredTranscript] = field(default_factory=dict)
    pending: dict[str, PendingTranscription] = field(default_factory=dict)

    def put_pending(self, pending: PendingTranscription) -> None:
        self.states[pending.call_id] = StoredTranscript(TranscriptStatus.PENDING, pending.attempt)
        self.pending[pending.call_id] = pending

    def list_pending(self, *, limit: int) -> list[PendingTranscription]:
        return list(self.pending.values())[:limit]

    def finish(
        self, pending: PendingTranscription, status: TranscriptStatus, record: bytes | None
    ) -> None:
        self.states[pending.call_id] = StoredTranscript(status, pending.attempt, record)

    def clear_pending(self, call_id: str) -> None:
        self.pending.pop(call_id, None)

    def get_transcript(
        self, tenant_id: str, conversation_id: str, call_ulid: str
    ) -> StoredTranscript | None:
        return self.states.get(f"{tenant_id}/{conversation_id}/{call_ulid}")
