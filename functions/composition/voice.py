"""The voice capability's factories (functions/logic/voice.py and its adapters):
calls, voicemail, greetings and transcription."""

from __future__ import annotations

from typing import TYPE_CHECKING

from functions.composition.base import ContainerBase
from functions.core.settings import SettingsError

if TYPE_CHECKING:
    from functions.carriers.chime_voice_aws import S3StagingObjects
    from functions.dal.store.calls import CallRecords
    from functions.dal.store.transcripts import TranscriptRecords
    from functions.dal.voicemail_store import S3GreetingStore
    from functions.logic.care import CareService
    from functions.logic.outbound import OutboundService
    from functions.logic.transcription import Transcriber, TranscriptionService, TranscriptReader
    from functions.logic.voice import VoiceService
    from functions.logic.voice_admin import VoiceAdmin
    from functions.logic.voice_ports import VoiceCarrier, VoicemailStore, VoiceNotifier


class VoiceFactories(ContainerBase):
    if TYPE_CHECKING:  # built by the other capabilities of functions.container.Container

        def outbound_service(self) -> OutboundService: ...
        def care_service(self) -> CareService: ...

    def voice_carrier(self) -> VoiceCarrier:
        """The voice adapter for `settings.carrier`; each adapter adds its branch here."""
        if self.ports.voice_carrier is not None:
            return self.ports.voice_carrier
        if self.settings.carrier == "twilio":
            return self._once("voice_carrier", self._twilio_voice_carrier)
        if self.settings.carrier == "aws":
            return self._once("voice_carrier", self._chime_voice_carrier)
        raise SettingsError(f"QUIETLINE_CARRIER: no voice adapter for {self.settings.carrier!r}")

    def _twilio_voice_carrier(self) -> VoiceCarrier:
        from functions.carriers.twilio_voice import TwilioVoiceCarrier  # noqa: PLC0415

        settings = self.settings
        return TwilioVoiceCarrier(
            settings.need("twilio_account_sid"),
            self.twilio_auth_token(),
            api_base_url=settings.twilio_api_base_url,
            webhook_base_url=settings.public_base_url,
        )

    def _chime_voice_carrier(self) -> VoiceCarrier:
        from functions.carriers.chime_voice_aws import ChimeVoiceCarrier  # noqa: PLC0415

        return ChimeVoiceCarrier(
            self.clients.client("chime-sdk-voice"),
            self.settings.need("chime_sip_media_application_id"),
            self.voice_staging(),
        )

    def voice_staging(self) -> S3StagingObjects:
        """Chime RecordAudio's staging bucket (docs/voice.md, "AWS (Chime SDK)")."""
        from functions.carriers.chime_voice_aws import S3StagingObjects  # noqa: PLC0415

        return self._once(
            "voice_staging",
            lambda: S3StagingObjects(
                self.settings.need("voice_staging_bucket"), self.clients.client("s3")
            ),
        )

    def voicemail_store(self) -> VoicemailStore:
        def build() -> VoicemailStore:
            if self.ports.voicemail_store is not None:
                return self.ports.voicemail_store
            from functions.dal.voicemail_store import S3VoicemailStore  # noqa: PLC0415

            bucket = self.settings.need("voicemail_bucket")
            return S3VoicemailStore(bucket, self.clients.client("s3"))

        return self._once("voicemail_store", build)

    def greeting_store(self) -> S3GreetingStore | None:
        """The practice's greeting recordings; None where no voicemail bucket is set."""
        if not self.settings.voicemail_bucket:
            return None
        from functions.dal.voicemail_store import S3GreetingStore  # noqa: PLC0415

        bucket = self.settings.voicemail_bucket
        return self._once(
            "greeting_store",
            lambda: S3GreetingStore(bucket, self.clients.client("s3"), self.clients.s3_presigner()),
        )

    def voice_notifier(self) -> VoiceNotifier:
        def build() -> VoiceNotifier:
            if self.ports.voice_notifier is not None:
                return self.ports.voice_notifier
            from functions.dal.voice_notifier import SnsVoiceNotifier  # noqa: PLC0415

            topic = self.settings.staff_topic_arn or ""
            return SnsVoiceNotifier(topic, self.clients.client("sns"))

        return self._once("voice_notifier", build)

    def call_store(self) -> CallRecords:
        from functions.dal.store.calls import CallRecords  # noqa: PLC0415

        return self._once(
            "call_store", lambda: CallRecords(self.clients.table(self.settings.need("table_name")))
        )

    def voice_service(self) -> VoiceService:
        def build() -> VoiceService:
            from functions.logic.voice import VoiceService  # noqa: PLC0415

            calls = self.call_store()
            return VoiceService(
                directory=self.directory(),
                store=self.store(),
                calls=calls,
                settings=calls,
                voicemails=self.voicemail_store(),
                carrier=self.voice_carrier(),
                cipher=self.cipher(),
                outbound=self.outbound_service(),
                notifier=self.voice_notifier(),
                audit=self.audit_sink(),
                clock=self.clock(),
                metrics=self.metrics(),
                # Without a user pool (a call-control Lambda not given one) rings are
                # unchecked and settings updates refused (docs/voice.md, "Core").
                staff=self.staff_if_configured(),
                voice_only_numbers=frozenset(self.settings.voice_only_numbers),
                on_call=self.care_service().on_call_for_call,
                transcription=self.transcription_service() if self.transcribes else None,
            )

        return self._once("voice_service", build)

    @property
    def transcribes(self) -> bool:
        """Whether this deployment can transcribe voicemail (a practice still opts in)."""
        return self.ports.transcriber is not None or bool(self.settings.transcription_bucket)

    def transcription_service(self) -> TranscriptionService:
        def build() -> TranscriptionService:
            from functions.logic.transcription import TranscriptionService  # noqa: PLC0415

            calls = self.call_store()
            return TranscriptionService(
                calls=calls,
                settings=calls,
                voicemails=self.voicemail_store(),
                transcripts=self.transcript_store(),
                transcriber=self.ports.transcriber or self._aws_transcriber(),
                cipher=self.cipher(),
                audit=self.audit_sink(),
                clock=self.clock(),
                metrics=self.metrics(),
            )

        return self._once("transcription_service", build)

    def transcript_store(self) -> TranscriptRecords:
        from functions.dal.store.transcripts import TranscriptRecords  # noqa: PLC0415

        return self._once(
            "transcript_store",
            lambda: TranscriptRecords(self.clients.table(self.settings.need("table_name"))),
        )

    def transcript_reader(self) -> TranscriptReader:
        from functions.logic.transcription import TranscriptReader  # noqa: PLC0415

        return self._once(
            "transcript_reader",
            lambda: TranscriptReader(
                self.directory(), self.store(), self.transcript_store(), self.cipher()
            ),
        )

    def _aws_transcriber(self) -> Transcriber:
        from functions.dal.transcriber import AwsTranscriber  # noqa: PLC0415

        return AwsTranscriber(
            self.settings.need("transcription_bucket"),
            self.settings.need("transcription_kms_key_id"),
            self.clients.client("s3"),
            self.clients.client("transcribe"),
        )

    def voice_admin(self) -> VoiceAdmin:
        def build() -> VoiceAdmin:
            from functions.logic.voice_admin import VoiceAdmin  # noqa: PLC0415

            return VoiceAdmin(
                settings=self.call_store(),
                cipher=self.cipher(),
                staff=self.staff_if_configured(),
                greetings=self.greeting_store(),
                transcription_available=self.transcribes,
            )

        return self._once("voice_admin", build)
