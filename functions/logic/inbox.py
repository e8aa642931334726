"""What staff do in the inbox: list and read threads, reply, manage contacts and templates.

Every operation takes the verified Principal and decides from it alone: the tenant is the
token's, never an id from the request, and a conversation a clinician may not see is
reported exactly like one that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from functions.core.clock import Clock, iso
from functions.core.errors import ConflictError, NotFoundError, ValidationError
from functions.core.ids import new_id
from functions.core.models import (
    ConsentMode,
    ConsentRecord,
    Conversation,
    Message,
    MessageKind,
    MessageTemplate,
    Page,
    TenantSettings,
)
from functions.core.phone import to_e164
from functions.crypto.contexts import body_location, name_location, phone_location
from functions.crypto.envelope import EnvelopeCipher
from functions.logic.access import Principal, can_see, require_admin
from functions.logic.after_hours import validate_after_hours
from functions.logic.keywords import default_replies
from functions.logic.outbound import OutboundService, SecureLinkIssuer
from functions.logic.ports import (
    ConversationRead,
    ConversationReader,
    ListingRead,
    SessionTouch,
    ThreadRead,
)
from functions.logic.tenants import TenantDirectory

ConversationFilter = Literal["all", "unread", "mine", "unassigned"]

# Audit actions of the staff API routes whose service here sends the idle-logoff touch
# with its first reads (`StaffReads`) and settles the session (`Principal.settle_session`)
# before it decrypts, returns or changes anything: only these may leave the touch to the
# service (`SessionGuard.session_for(overlap=True)`).
SESSION_CONFIRMED_HERE = frozenset(
    {"conversation.list", "conversation.read", "message.read", "message.send"}
)


class StaffReads(Protocol):
    """A staff request's first reads, with its session touch, in one round trip
    (functions/dal/store/waves.py); every part's error waits for `get()`."""

    def conversation(
        self, tenant_id: str, conversation_id: str, *, session: SessionTouch | None
    ) -> ConversationRead: ...

    def thread(
        self,
        tenant_id: str,
        conversation_id: str,
        *,
        limit: int,
        cursor: str | None,
        session: SessionTouch | None,
        after: str | None = None,
    ) -> ThreadRead: ...

    def listing(
        self,
        tenant_id: str,
        *,
        session: SessionTouch | None,
        limit: int,
        cursor: str | None,
        visible_to: str | None,
        unread_only: bool,
        assigned_to: str | None,
        unassigned_only: bool,
        since: str | None = None,
    ) -> ListingRead: ...


class InboxStore(ConversationReader, Protocol):
    """What the inbox reads and changes: threads, contacts, templates, practice settings."""

    def list_conversations(
        self,
        tenant_id: str,
        *,
        limit: int,
        cursor: str | None,
        visible_to: str | None,
        unread_only: bool,
        assigned_to: str | None,
        unassigned_only: bool,
    ) -> Page[Conversation]: ...

    def list_messages(
        self, tenant_id: str, conversation_id: str, *, limit: int, cursor: str | None
    ) -> Page[Message]: ...

    def mark_conversation_read(self, tenant_id: str, conversation_id: str) -> None: ...

    def create_conversation(
        self,
        tenant_id: str,
        conversation_id: str,
        phone_record: bytes,
        at: str,
        *,
        name_record: bytes | None,
        consent: ConsentRecord | None,
    ) -> None: ...

    def update_contact(
        self,
        tenant_id: str,
        conversation_id: str,
        *,
        name_record: bytes | None = None,
        assigned_to: str | None = None,
        unassign: bool = False,
    ) -> None: ...

    def set_consent(self, tenant_id: str, conversation_id: str, consent: ConsentRecord) -> None: ...

    def delete_conversation(self, tenant_id: str, conversation_id: str) -> int: ...

    def list_templates(self, tenant_id: str) -> list[MessageTemplate]: ...

    def get_template(self, tenant_id: str, template_id: str) -> MessageTemplate: ...

    def put_template(self, tenant_id: str, template: MessageTemplate) -> None: ...

    def delete_template(self, tenant_id: str, template_id: str) -> None: ...

    def update_tenant_settings(self, tenant_id: str, settings: TenantSettings) -> None: ...


class StaffRoster(Protocol):
    """Who may be given a conversation: the tenant's enabled staff."""

    def is_active_staff(self, tenant_id: str, user_id: str) -> bool: ...


@dataclass(frozen=True)
class ConversationView:
    conversation_id: str
    display_name: str | None
    last_activity_at: str
    unread_count: int
    assigned_to: str | None
    opted_out: bool
    consent_mode: str | None
    # An unnamed client's number, masked to its last four digits ("…0142"), so staff can
    # tell rows apart; the whole number only shows in the client panel.
    number_hint: str | None = None
    urgent_at: str | None = None  # flagged by the crisis safety net until staff clear it


def masked_number(phone: str) -> str:
    return "…" + phone[-4:]


@dataclass(frozen=True)
class MessageView:
    message_id: str
    direction: str
    status: str
    body: str
    created_at: str
    updated_at: str
    segments: int | None
    encoding: str | None
    failure_reason: str | None
    sent_by: str | None
    kind: str = MessageKind.PLAIN.value  # plain text, secure link or one-time code
    opened_at: str | None = None  # a secure link's message: when the client opened it


@dataclass(frozen=True)
class ContactView:
    contact_id: str  # the conversation id
    phone_number: str
    display_name: str | None
    consent: ConsentRecord | None
    opted_out: bool
    assigned_to: str | None


@dataclass
class InboxService:
    directory: TenantDirectory
    store: InboxStore
    reads: StaffReads
    cipher: EnvelopeCipher
    outbound: OutboundService
    clock: Clock
    # Built on first secure-link send only (it needs the public base URL).
    secure_links: Callable[[], SecureLinkIssuer] | None = None
    # Numbers staff type without a country code are national numbers of this region.
    phone_region: str = "US"
    # Built on first assignment to someone else (the staff directory is Cognito).
    staff: Callable[[], StaffRoster] | None = None

    # --- conversations ---------------------------------------------------------------
    def _visible(self, principal: Principal, conversation_id: str) -> Conversation:
        conversation = self.store.get_conversation(principal.tenant_id, conversation_id)
        return _visible_to(principal, conversation)

    def _name(self, conversation: Conversation) -> str | None:
        if conversation.name_record is None:
            return None
        location = name_location(conversation.tenant_id, conversation.conversation_id)
        return self.cipher.decrypt(location, conversation.name_record)

    def _label(self, conversation: Conversation) -> tuple[str | None, str | None]:
        """The client's name, or else their masked number (one decryption either way)."""
        if conversation.name_record is None:
            location = phone_location(conversation.tenant_id, conversation.conversation_id)
            return None, masked_number(self.cipher.decrypt(location, conversation.phone_record))
        location = name_location(conversation.tenant_id, conversation.conversation_id)
        return self.cipher.decrypt(location, conversation.name_record), None

    def _view(
        self, conversation: Conversation, name: str | None, hint: str | None = None
    ) -> ConversationView:
        return ConversationView(
            conversation.conversation_id,
            name,
            conversation.last_activity_at,
            conversation.unread_count,
            conversation.assigned_to,
            conversation.opted_out,
            conversation.consent.mode.value if conversation.consent else None,
            hint,
            conversation.urgent_at,
        )

    def list_conversations(
        self,
        principal: Principal,
        *,
        limit: int,
        cursor: str | None,
        view: ConversationFilter = "all",
        since: str | None = None,
    ) -> Page[ConversationView]:
        """A page of the list; with `since` (the mark the last listing returned), only the
        conversations changed after it, so a refresh decrypts and audits what is new."""
        # Session, tenant and the page in one round trip; names decrypted only after.
        read = self.reads.listing(
            principal.tenant_id,
            session=principal.session_to_send(),
            limit=limit,
            cursor=cursor,
            visible_to=None if principal.is_admin else principal.user_id,
            unread_only=view == "unread",
            assigned_to=principal.user_id if view == "mine" else None,
            unassigned_only=view == "unassigned",
            since=since,
        )
        principal.settle_session(read.session)
        self.directory.admit(read.tenant)
        page = read.conversations.get()
        # One KMS wave: the name where there is one, else the number (shown masked).
        labels = self.cipher.decrypt_many(
            [
                (name_location(c.tenant_id, c.conversation_id), c.name_record)
                if c.name_record is not None
                else (phone_location(c.tenant_id, c.conversation_id), c.phone_record)
                for c in page.items
            ]
        )
        return Page(
            [
                self._view(c, label, None)
                if c.name_record is not None
                else self._view(c, None, masked_number(label))
                for c, label in zip(page.items, labels, strict=True)
            ],
            page.cursor,
            since=page.since,
        )

    def get_conversation(self, principal: Principal, conversation_id: str) -> ConversationView:
        conversation = self._first_read(principal, conversation_id)
        return self._view(conversation, *self._label(conversation))

    def read_thread(
        self,
        principal: Principal,
        conversation_id: str,
        *,
        limit: int,
        cursor: str | None,
        after: str | None = None,
    ) -> Page[MessageView]:
        """A page of a thread, newest first (with `after`, a message id: only newer ones).

        The session touch, the tenant and conversation reads and the messages Query are
        one round trip; nothing is decrypted until the session and the visibility check
        have passed, and the page's errors (a bad cursor) wait for that check too, so a
        thread the caller may not see answers exactly like one that does not exist.
        """
        read = self.reads.thread(
            principal.tenant_id,
            conversation_id,
            limit=limit,
            cursor=cursor,
            session=principal.session_to_send(),
            after=after,
        )
        self._checked(principal, read.conversation)
        page = read.messages.get()
        # One KMS wave for the whole page (the cipher's parallelism is the page size).
        bodies = self.cipher.decrypt_many(
            [
                (body_location(m.tenant_id, m.conversation_id, m.message_id), m.body_record)
                for m in page.items
            ]
        )
        return Page(
            [_message_view(m, body) for m, body in zip(page.items, bodies, strict=True)],
            page.cursor,
        )

    def send(
        self, principal: Principal, conversation_id: str, body: str, *, secure_link: bool = False
    ) -> MessageView:
        def authorize(conversation: Conversation) -> None:
            _visible_to(principal, conversation)
            if secure_link and self.secure_links is None:
                raise ValidationError("mode", "secure links are not configured")

        # The session touch rides with the tenant and conversation read; the session is
        # settled first, then accept checks the rest before any data key is generated.
        read = self.reads.conversation(
            principal.tenant_id, conversation_id, session=principal.session_to_send()
        )
        principal.settle_session(read.session)
        message = self.outbound.accept_read(
            read,
            body=body,
            sent_by=principal.user_id,
            secure_link=self.secure_links() if secure_link and self.secure_links else None,
            authorize=authorize,
        )
        return _message_view(message, body)

    def _first_read(self, principal: Principal, conversation_id: str) -> Conversation:
        """Session, tenant and conversation in one round trip, checked in that order."""
        read = self.reads.conversation(
            principal.tenant_id, conversation_id, session=principal.session_to_send()
        )
        return self._checked(principal, read)

    def _checked(self, principal: Principal, read: ConversationRead) -> Conversation:
        principal.settle_session(read.session)
        self.directory.admit(read.tenant)
        return _visible_to(principal, read.conversation.get())

    def mark_read(self, principal: Principal, conversation_id: str) -> None:
        self._visible(principal, conversation_id)
        self.store.mark_conversation_read(principal.tenant_id, conversation_id)

    def assign(self, principal: Principal, conversation_id: str, user_id: str | None) -> None:
        """Admins assign any enabled staff of their practice; a clinician may take an
        unassigned conversation or release their own."""
        conversation = self._visible(principal, conversation_id)
        if not principal.is_admin and user_id not in (None, principal.user_id):
            require_admin(principal)
        if user_id is None:
            self.store.update_contact(
                principal.tenant_id, conversation.conversation_id, unassign=True
            )
        else:
            # The caller is live staff (their session is); anyone else must be checked.
            # Unknown, disabled and other-tenant ids get one answer, naming no id.
            if user_id != principal.user_id and not (
                self.staff is not None
                and self.staff().is_active_staff(principal.tenant_id, user_id)
            ):
                raise ValidationError("user_id", "must be an enabled staff member of this practice")
            self.store.update_contact(
                principal.tenant_id, conversation.conversation_id, assigned_to=user_id
            )

    # --- contacts ----------------------------------------------------------------------
    def create_contact(
        self,
        principal: Principal,
        *,
        phone_number: str,
        display_name: str | None,
        consent_mode: ConsentMode,
        wording_version: str,
    ) -> ContactView:
        tenant = self.directory.active_tenant(principal.tenant_id)
        phone = to_e164(phone_number, field="phone_number", default_region=self.phone_region)
        conversation_id = self.directory.conversation_id_for(tenant, phone)
        consent = ConsentRecord(
            consent_mode, principal.user_id, iso(self.clock.now()), wording_version
        )
        name_record = (
            self.cipher.encrypt(
                name_location(tenant.tenant_id, conversation_id), display_name
            ).to_bytes()
            if display_name
            else None
        )
        phone_record = self.cipher.encrypt(
            phone_location(tenant.tenant_id, conversation_id), phone
        ).to_bytes()
        try:
            self.store.create_conversation(
                tenant.tenant_id,
                conversation_id,
                phone_record,
                iso(self.clock.now()),
                name_record=name_record,
                consent=consent,
            )
        except ConflictError:
            raise self._existing_contact(principal, conversation_id) from None
        return ContactView(conversation_id, phone, display_name, consent, False, None)

    def _existing_contact(self, principal: Principal, conversation_id: str) -> ConflictError:
        """The conflict, naming the contact only to a caller who may open it: a colleague's
        client's id would let a clinician address a thread hidden from them."""
        try:
            visible = can_see(
                principal, self.store.get_conversation(principal.tenant_id, conversation_id)
            )
        except NotFoundError:  # deleted since
            visible = False
        if visible:
            return ConflictError(f"contact already exists: {conversation_id}")
        return ConflictError("contact already exists")

    def get_contact(self, principal: Principal, contact_id: str) -> ContactView:
        self.directory.active_tenant(principal.tenant_id)
        conversation = self._visible(principal, contact_id)
        return self._contact_view(conversation)

    def _contact_view(self, conversation: Conversation) -> ContactView:
        phone = self.cipher.decrypt(
            phone_location(conversation.tenant_id, conversation.conversation_id),
            conversation.phone_record,
        )
        return ContactView(
            conversation.conversation_id,
            phone,
            self._name(conversation),
            conversation.consent,
            conversation.opted_out,
            conversation.assigned_to,
        )

    def update_contact(
        self,
        principal: Principal,
        contact_id: str,
        *,
        display_name: str | None = None,
        consent_mode: ConsentMode | None = None,
        wording_version: str | None = None,
    ) -> ContactView:
        self._visible(principal, contact_id)
        if display_name is not None:
            record = self.cipher.encrypt(
                name_location(principal.tenant_id, contact_id), display_name
            ).to_bytes()
            self.store.update_contact(principal.tenant_id, contact_id, name_record=record)
        if consent_mode is not None:
            if not wording_version:
                raise ValidationError("wording_version", "is required when consent changes")
            consent = ConsentRecord(
                consent_mode, principal.user_id, iso(self.clock.now()), wording_version
            )
            self.store.set_consent(principal.tenant_id, contact_id, consent)
        return self._contact_view(self.store.get_conversation(principal.tenant_id, contact_id))

    def delete_contact(self, principal: Principal, contact_id: str) -> int:
        """Admins only: the client's details and every message of the thread are deleted."""
        require_admin(principal)
        self._visible(principal, contact_id)
        return self.store.delete_conversation(principal.tenant_id, contact_id)

    # --- templates and settings ------------------------------------------------------------
    def list_templates(self, principal: Principal) -> list[MessageTemplate]:
        return self.store.list_templates(principal.tenant_id)

    def get_template(self, principal: Principal, template_id: str) -> MessageTemplate:
        return self.store.get_template(principal.tenant_id, template_id)

    def save_template(
        self, principal: Principal, *, name: str, body: str, template_id: str | None = None
    ) -> MessageTemplate:
        require_admin(principal)
        if template_id is not None:
            self.store.get_template(principal.tenant_id, template_id)  # 404 if absent
        template = MessageTemplate(template_id or new_id(), name, body, iso(self.clock.now()))
        self.store.put_template(principal.tenant_id, template)
        return template

    def delete_template(self, principal: Principal, template_id: str) -> None:
        require_admin(principal)
        self.store.delete_template(principal.tenant_id, template_id)

    def get_settings(self, principal: Principal) -> TenantSettings:
        return self.directory.active_tenant(principal.tenant_id).settings

    def settings_with_defaults(self, principal: Principal) -> tuple[TenantSettings, dict[str, str]]:
        """The settings and the built-in keyword wordings an empty reply falls back to."""
        tenant = self.directory.active_tenant(principal.tenant_id)
        return tenant.settings, default_replies(tenant.display_name, tenant.support_contact)

    def update_settings(self, principal: Principal, settings: TenantSettings) -> TenantSettings:
        require_admin(principal)
        validate_after_hours(settings.after_hours)
        self.store.update_tenant_settings(principal.tenant_id, settings)
        return settings


def _visible_to(principal: Principal, conversation: Conversation) -> Conversation:
    """The conversation, if the caller may see it; NotFoundError exactly as if it were absent."""
    if not can_see(principal, conversation):
        raise NotFoundError("conversation not found")
    return conversation


def _message_view(message: Message, body: str) -> MessageView:
    return MessageView(
        message.message_id,
        message.direction.value,
        message.status.value,
        body,
        message.created_at,
        message.updated_at,
        message.segments,
        message.encoding,
        message.failure_reason,
        message.sent_by,
        message.kind.value,
        message.opened_at,
    )
