"""Ports: the Protocols services depend on. Adapters implement them; tests use in-memory fakes."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

if TYPE_CHECKING:  # annotations only: importing the ports costs a function's cold start nothing more
    from wacast.domain.accounts import Account, AccountSettings, ApiKey, User
    from wacast.domain.campaigns import Campaign, CampaignStatus, DispatchState, StoredContactIds
    from wacast.domain.contacts import Contact
    from wacast.domain.conversations import Conversation, ConversationEntry, Reply
    from wacast.domain.counters import CounterKey
    from wacast.domain.file_jobs import ExportJob, ImportJob
    from wacast.domain.governor import Cooling
    from wacast.domain.messages import Message, MessageStatus
    from wacast.domain.optout import OptOut
    from wacast.domain.outcomes import SendOutcome
    from wacast.domain.senders import Sender
    from wacast.domain.templates import Template
    from wacast.domain.webhooks import Delivery, WebhookEndpoint, WebhookEvent


class Clock(Protocol):
    def now(self) -> datetime: ...

    def sleep(self, seconds: float) -> None: ...


@dataclass
class QueueMessage:
    """One received SQS message."""

    body: dict[str, Any]
    receipt_handle: str
    message_id: str
    receive_count: int = 1
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class QueueDepth:
    visible: int
    in_flight: int
    delayed: int


@dataclass(frozen=True)
class MoveTask:
    """A redrive of a dead-letter queue (an SQS message move task), as SQS reports it."""

    status: str  # RUNNING, CANCELLING, CANCELLED, COMPLETED or FAILED
    moved: int
    to_move: int | None  # counted when the task started; None until SQS has
    started_at: datetime
    task_handle: str | None  # only while RUNNING
    destination_arn: str | None
    failure_reason: str | None = None  # only when FAILED


class Queue(Protocol):
    """An SQS queue, seen from producers and consumers."""

    name: str

    def arn(self) -> str: ...

    def send(self, body: Mapping[str, Any], delay_seconds: int = 0) -> None: ...

    def send_batch(self, entries: Sequence[tuple[Mapping[str, Any], int]]) -> None:
        """Send (body, delay_seconds) pairs, 10 per SQS call. Raises if any entry failed."""
        ...

    def receive(self, max_messages: int = 10, wait_seconds: int = 20) -> list[QueueMessage]: ...

    def delete(self, message: QueueMessage) -> None: ...

    def delete_batch(self, messages: Sequence[QueueMessage]) -> list[QueueMessage]:
        """Delete received messages, 10 per SQS call. Returns the ones refused one by one (the caller may
        retry them); raises Unavailable when a whole call fails."""
        ...

    def change_visibility(self, message: QueueMessage, seconds: int) -> None: ...

    def change_visibility_batch(self, changes: Sequence[tuple[QueueMessage, int]]) -> list[QueueMessage]:
        """Set each (message, seconds) visibility, 10 per SQS call. Returns the messages refused one by one;
        raises Unavailable when a whole call fails."""
        ...

    def depth(self) -> QueueDepth: ...


class DeadLetterQueue(Queue, Protocol):
    """A queue that dead-lettered messages land in, and that an operator can move back to their source."""

    def start_redrive(self, destination: Queue, max_per_second: int | None = None) -> str:
        """Start moving every message to `destination` (in the background); returns the task handle."""
        ...

    def redrives(self, max_results: int = 10) -> list[MoveTask]: ...


class SendsTo(NamedTuple):
    """The newest sends to a phone, and whether they are all of them (the conversation was read to its start):
    only then does a receipt's provider id that none of them has mean it is for none of them."""

    messages: Iterator[Message]
    complete: bool


class MessageRepository(Protocol):
    def create(self, message: Message) -> bool:
        """Write a new message (a campaign's is listed in the campaign's listing). False if that id already
        exists. Its counters follow from the table's stream."""
        ...

    def create_many(self, messages: Sequence[Message], listed_as: str | None = None) -> list[bool]:
        """Create messages of one campaign run, listed together under `listed_as` (the same name lists the
        same ids once, however often it is written). For each message: True if written now, False if it
        already existed (a re-dispatch)."""
        ...

    def get(self, message_id: str, *, consistent: bool = True) -> Message | None:
        """The message; `consistent=False` reads at half the cost and may miss the newest write (use it only
        where every write that follows is conditional on what was read)."""
        ...

    def list_by_campaign(
        self, campaign_id: str, *, status: MessageStatus | None = None, cursor: str | None = None, limit: int = 100
    ) -> tuple[list[Message], str | None]:
        """A campaign's messages (all runs), optionally of one status, with a cursor for the next page."""
        ...

    def transition(
        self,
        message: Message,
        new: MessageStatus,
        now: datetime,
        *,
        detail: str | None = None,
        changes: Mapping[str, Any] | None = None,
    ) -> Message:
        """Move `message` from the status it was read in to `new`, conditionally on nothing having
        changed since it was read (status, lease). Applies `changes` (field -> value) in the same
        write and moves the campaign counters atomically. Raises StaleState if the condition fails."""
        ...

    def sends_to(self, account_id: str, sender_id: str, phone: str) -> SendsTo:
        """The account's newest messages from `sender_id` to `phone` (a bounded number), newest first, read a
        few at a time as the caller goes on: where a receipt that does not name its message finds it, by its
        provider id, or proves an unproven send (the driver called, the outcome not recorded)."""
        ...

    def direct_counters(self, account_id: str) -> dict[str, int]:
        """The account's direct (non-campaign) messages by counter bucket (total, queued, sent...)."""
        ...


class SenderRepository(Protocol):
    def create(self, sender: Sender) -> None: ...

    def get(self, account_id: str, sender_id: str) -> Sender | None: ...

    def list_for_account(self, account_id: str) -> list[Sender]: ...

    def list_all(self) -> list[Sender]: ...

    def save_config(self, sender: Sender) -> None:
        """Write only the configuration fields (phone, display name, drivers, pacing): the API's part.
        Raises NotFound if the sender does not exist."""
        ...

    def save_state(self, sender: Sender) -> None:
        """Write only the session-state fields (state, since, last error, QR, pairing code, driver
        sessions): the session host's part. Raises NotFound if the sender does not exist."""
        ...

    def save_cooling(
        self, account_id: str, sender_id: str, cooling: Cooling | None, expected_since: datetime | None
    ) -> None:
        """Set (or clear, with None) the governor's cooling, if the one the sender holds started at
        `expected_since` (None: none). Raises StaleState if it changed meanwhile, NotFound if no sender."""
        ...

    def delete(self, account_id: str, sender_id: str) -> bool:
        """Delete the sender. False when it did not exist."""
        ...


class AccountRepository(Protocol):
    def create_with_owner(self, account: Account, owner: User) -> None:
        """Create the account and its first user at once. Raises Conflict if the email is taken."""
        ...

    def get(self, account_id: str) -> Account | None: ...

    def save(self, account: Account) -> None: ...

    def save_settings(self, account_id: str, settings: AccountSettings) -> None:
        """Write only the settings of an existing account. Raises NotFound if there is none."""
        ...

    def add_user(self, user: User) -> None:
        """Add a user to an existing account. Raises Conflict if the email is taken."""
        ...

    def get_user_by_email(self, email: str) -> User | None: ...

    def get_user(self, account_id: str, user_id: str) -> User | None: ...


class CampaignRepository(Protocol):
    """Campaign items. Lifecycle changes are conditional on the status they start from."""

    def create(self, campaign: Campaign) -> None: ...

    def get(self, account_id: str, campaign_id: str) -> Campaign | None: ...

    def list_for_account(
        self, account_id: str, *, limit: int = 50, cursor: str | None = None
    ) -> tuple[list[Campaign], str | None]: ...

    def save_definition(self, campaign: Campaign, allowed: Iterable[CampaignStatus]) -> None: ...

    def delete(self, account_id: str, campaign_id: str, allowed: Iterable[CampaignStatus]) -> None: ...

    def transition(
        self,
        account_id: str,
        campaign_id: str,
        allowed: Iterable[CampaignStatus],
        to: CampaignStatus,
        now: datetime,
        **changes: Any,
    ) -> Campaign: ...

    def advance_dispatch(
        self, campaign: Campaign, expected_seq: int, state: DispatchState, now: datetime, dispatched: int = 0
    ) -> bool:
        """Record dispatch progress if the job still owns it, adding the window's `dispatched` messages to
        the campaign's count in the same conditional write."""
        ...


class AudienceIdStore(Protocol):
    """The contact ids of campaign audiences, kept apart from the campaigns (`domain.campaigns.StoredContactIds`)."""

    def contact_ids(
        self, account_id: str, stored: StoredContactIds, offset: int = 0, limit: int | None = None
    ) -> list[str]:
        """The ids from `offset` (up to `limit` of them; None: all), in the order they were given. Reads only
        the chunks that hold them. Raises Unavailable if a chunk is missing (never a partial list)."""
        ...


class ApiKeyRepository(Protocol):
    """API keys, found by the sha256 of the key (the key itself is never stored)."""

    def create(self, key: ApiKey) -> None: ...

    def find_by_hash(self, key_hash: str) -> ApiKey | None:
        """The key with this hash, read consistently: a revoked key is gone at once."""
        ...

    def list_for_account(self, account_id: str) -> list[ApiKey]: ...

    def revoke(self, account_id: str, key_id: str) -> bool:
        """Delete the key. False if the account has no such key."""
        ...


class LoginAttempts(Protocol):
    """Failed sign-ins per email, counted atomically in a window that expires by itself."""

    def reserve(self, email: str, now: datetime) -> float:
        """Count one attempt. Returns 0 when allowed, else the seconds until attempts are allowed again."""
        ...

    def clear(self, email: str, now: datetime) -> None:
        """Forget the attempts of the current window (a sign-in succeeded)."""
        ...


class OptOutRepository(Protocol):
    """The opt-out list of an account, keyed by E.164 phone: the one source of truth for "may we send to
    this phone". Every send path consults it. The contact of that phone, when there is one, mirrors it:
    `opt_out` and `opt_in` change both in one transaction."""

    def is_opted_out(self, account_id: str, phone: str) -> bool: ...

    def opted_out_among(self, account_id: str, phones: Sequence[str]) -> set[str]:
        """The phones of `phones` that opted out (BatchGet, 100 a call)."""
        ...

    def find_many(self, account_id: str, phones: Sequence[str]) -> dict[str, OptOut]:
        """The opt-outs of `phones`, by phone (BatchGet)."""
        ...

    def opt_out(self, account_id: str, phone: str, source: str, at: datetime) -> bool:
        """Record the opt-out and mark the contact of that phone. True if there was a contact."""
        ...

    def opt_in(self, account_id: str, phone: str, at: datetime) -> bool:
        """Remove the opt-out and unmark the contact of that phone. True if there was a contact."""
        ...

    def add_many(self, account_id: str, opt_outs: Sequence[OptOut]) -> None:
        """Record opt-outs without touching contacts (an import writes its contacts after). Idempotent."""
        ...


class ContactRepository(Protocol):
    """Contacts, read by what a campaign audience is: everyone, a tag, an import batch, or a list of ids."""

    def get(self, account_id: str, contact_id: str) -> Contact | None: ...

    def page(
        self,
        account_id: str,
        *,
        tag: str | None = None,
        import_batch: str | None = None,
        contact_ids: Sequence[str] | None = None,
        cursor: str | None = None,
        limit: int = 100,
        consistent: bool = True,
    ) -> tuple[list[Contact], str | None]:
        """Up to `limit` contacts matching every filter given, and the cursor of the next page (None at the
        end). A page may hold fewer than `limit` contacts before the end; keep going until the cursor is None.
        Tags match in any case (they are stored as `domain.contacts.canonical_tag` makes them). With
        `consistent` False the contacts may be read as they were a moment ago."""
        ...

    def count(self, account_id: str, *, tag: str | None = None, import_batch: str | None = None) -> int: ...


class ContactStore(ContactRepository, Protocol):
    """ContactRepository, plus the writes of the contacts API and the CSV import."""

    def create(self, contact: Contact) -> None:
        """Write a new contact. Raises Conflict if that phone is already a contact."""
        ...

    def replace(self, before: Contact, after: Contact) -> None:
        """Write `after` over `before` (tags included) if nothing changed since `before` was read; else StaleState."""
        ...

    def delete(self, account_id: str, contact_id: str) -> bool: ...

    def get_many(self, account_id: str, contact_ids: Sequence[str], *, consistent: bool = True) -> dict[str, Contact]:
        """The stored contacts of `contact_ids`, by id (BatchGet; consistent unless asked)."""
        ...

    def put_many(self, contacts: Sequence[Contact]) -> None:
        """Write contacts and their tags in batches (BatchWrite). Idempotent: a retry completes a crashed write."""
        ...


class TemplateRepository(Protocol):
    """Templates of an account, and the built-in ones every account can read."""

    def get(self, account_id: str, template_id: str) -> Template | None: ...


class TemplateStore(TemplateRepository, Protocol):
    def page(self, account_id: str, *, cursor: str | None = None, limit: int = 50) -> tuple[list[Template], str | None]:
        """The account's own templates, oldest id first, and the next cursor."""
        ...

    def create(self, template: Template) -> None: ...

    def replace(self, template: Template) -> None:
        """Overwrite an existing template. Raises NotFound if it is gone."""
        ...

    def delete(self, account_id: str, template_id: str) -> bool: ...


class CampaignStates(Protocol):
    """What the delivery path needs to know of a campaign: its status (running, paused, cancelled...)."""

    def status_of(self, account_id: str, campaign_id: str) -> CampaignStatus | None: ...

    def mark_failed(self, account_id: str, campaign_id: str, reason: str) -> bool:
        """Set a scheduled, running or paused campaign to failed. False if it was in another status."""
        ...

    def complete_if_done(self, account_id: str, campaign_id: str, now: datetime) -> bool:
        """Complete a running campaign whose dispatch is done, whose dispatched messages are all counted
        created, and whose messages are all settled."""
        ...


class CounterLedger(Protocol):
    """Counter moves applied from the table's stream, with a ledger entry per stream batch."""

    def applied_through(self, batch_id: str) -> int:
        """The last stream sequence number of this batch already applied (0: none)."""
        ...

    def apply(self, batch_id: str, expected: int, through: int, moves: Mapping[CounterKey, Mapping[str, int]]) -> None:
        """In one write: the counter moves, and the batch's ledger entry from `expected` to `through`.
        Raises StaleState when the ledger entry is no longer at `expected` (another attempt moved it).
        Moves of a campaign that no longer exists are dropped."""
        ...


class PacingGuard(Protocol):
    """The last guard of pacing: a send slot per sender, shared by every host, never closer than the
    minimum gap and never above the daily cap."""

    def reserve(self, sender: Sender, now: datetime) -> float:
        """Reserve a slot at `now`. Returns 0 when reserved, else the seconds to wait before asking again."""
        ...


class DriverChain(Protocol):
    """Sends through a sender's drivers: the primary, then the fallback after a transient failure."""

    def is_ready(self, sender: Sender) -> bool: ...

    def lookup(self, sender: Sender, phone: str) -> bool | None:
        """Whether `phone` is on WhatsApp, by a driver's lookup (None: unknown)."""
        ...

    def send(
        self,
        sender: Sender,
        phone: str,
        body: str,
        media_url: str | None = None,
        before_fallback: Callable[[str], bool] | None = None,
    ) -> SendOutcome:
        """`before_fallback(driver)` runs before each fallback attempt; False stops the chain there."""
        ...


class SendGovernor(Protocol):
    """The account-safety governor, as the delivery path sees it (session_host.governor.HostGovernor)."""

    def hold(self, sender: Sender, now: datetime) -> Cooling | None:
        """The cooling that stops this sender from sending now, if any."""
        ...

    def pause_campaign(self, account_id: str, campaign_id: str, cooling: Cooling) -> bool:
        """Pause a running campaign of a cooling sender. True when it is paused (now or before)."""
        ...

    def observe(self, sender: Sender, outcome: SendOutcome, now: datetime) -> None:
        """One driver call's outcome (failures and sends waiting for a receipt are signals)."""
        ...


class NumberCheck(Protocol):
    """Whether a recipient is not on WhatsApp, asked before each send (session_host.lookup.NumberChecker)."""

    def not_on_whatsapp(self, sender: Sender, phone: str, now: datetime) -> bool:
        """True only when a driver's lookup said so; unknown answers False."""
        ...

    def remember(self, phone: str, found: bool, now: datetime) -> None:
        """Keep what a send learnt about the number."""
        ...


class EventPublisher(Protocol):
    """Publishes what happens on WhatsApp (receipts, incoming messages, session state) to the events queue."""

    def publish(self, event: Mapping[str, Any]) -> None: ...


class Scheduler(Protocol):
    """Schedules that put a job on the campaigns queue at a time, or on a cron, in a time zone."""

    def put(
        self, name: str, expression: str, timezone: str, payload: Mapping[str, Any], *, end: datetime | None = None
    ) -> None:
        """Create or replace (names are deterministic, so a retried call never makes two)."""
        ...

    def delete(self, name: str) -> bool: ...

    def exists(self, name: str) -> bool: ...


class ConversationRepository(Protocol):
    """Replies, and the conversations (an account and a phone) they and the messages sent make up."""

    def save_reply(self, reply: Reply) -> bool:
        """Store a reply and bring its conversation's summary up to date. False when it was stored already."""
        ...

    def recent_messages_to(self, account_id: str, phone: str, limit: int = 20) -> list[Message]:
        """The newest messages sent to `phone` by the account (any sender), newest first."""
        ...

    def mark_replied(self, message_id: str, at: datetime) -> bool:
        """Record the first reply to a message. False when it had one already (it is counted once)."""
        ...

    def note_outbound(self, message: Message) -> None:
        """Bring the conversation's summary up to date with a message sent from it (an answer)."""
        ...

    def conversations(
        self, account_id: str, *, cursor: str | None = None, limit: int = 50
    ) -> tuple[list[Conversation], str | None]:
        """The account's conversations, the latest activity first, and the next cursor."""
        ...

    def conversation(self, account_id: str, phone: str) -> Conversation | None: ...

    def entries(
        self, account_id: str, phone: str, *, cursor: str | None = None, limit: int = 50
    ) -> tuple[list[ConversationEntry], str | None]:
        """One conversation's messages both ways, newest first, and the next cursor."""
        ...


@dataclass(frozen=True)
class StoredFile:
    size_bytes: int
    etag: str


class FileStore(Protocol):
    """Files in the files bucket (S3): uploads, reports, exports. URLs are presigned and expire."""

    def upload_url(self, key: str, content_type: str, expires_seconds: int) -> str:
        """A presigned PUT of `key`: the client sends the file with this Content-Type."""
        ...

    def download_url(self, key: str, filename: str, expires_seconds: int) -> str:
        """A presigned GET of `key`, served as an attachment named `filename`."""
        ...

    def stat(self, key: str) -> StoredFile | None:
        """The object's size and ETag; None when there is none."""
        ...

    def read(self, key: str, etag: str | None = None, chunk_bytes: int = 1024 * 1024) -> Iterator[bytes]:
        """The object, chunk by chunk. With `etag`: that version only (Conflict if it was replaced; NotFound if
        it is gone)."""
        ...

    def write(self, key: str, chunks: Iterable[bytes], content_type: str = "text/csv; charset=utf-8") -> int:
        """Write the object from `chunks` (streamed: memory stays at one part); returns its size."""
        ...

    def delete(self, key: str) -> None: ...


class FileJobRepository(Protocol):
    """Import and export jobs. Every save is conditional on the version read (optimistic locking)."""

    def create_import(self, job: ImportJob) -> None: ...

    def get_import(self, account_id: str, job_id: str) -> ImportJob | None: ...

    def save_import(self, job: ImportJob) -> ImportJob:
        """Write `job` if the stored one still has `job.version`; returns it with the next version.
        Raises StaleState otherwise."""
        ...

    def create_export(self, job: ExportJob) -> None: ...

    def get_export(self, account_id: str, job_id: str) -> ExportJob | None: ...

    def save_export(self, job: ExportJob) -> ExportJob:
        """As `save_import`."""
        ...


class WebhookEndpointRepository(Protocol):
    """The account's webhook endpoints (their secrets included: the deliveries are signed with them)."""

    def create(self, endpoint: WebhookEndpoint) -> None: ...

    def get(self, account_id: str, endpoint_id: str) -> WebhookEndpoint | None: ...

    def list_for_account(self, account_id: str) -> list[WebhookEndpoint]: ...

    def save(self, endpoint: WebhookEndpoint) -> None:
        """Write the endpoint's configuration over an existing one (NotFound if it is gone)."""
        ...

    def delete(self, account_id: str, endpoint_id: str) -> bool: ...

    def record_dead(self, account_id: str, endpoint_id: str) -> int:
        """Count one more delivery dead in a row; returns the count."""
        ...

    def record_delivered(self, account_id: str, endpoint_id: str) -> None:
        """A delivery succeeded: no dead deliveries in a row any more."""
        ...

    def disable(self, account_id: str, endpoint_id: str, reason: str, at: datetime) -> bool:
        """Disable an enabled endpoint with a reason. False if it was disabled (or gone) already."""
        ...


class DeliveryLog(Protocol):
    """Each delivery's latest state, per endpoint, newest first (entries expire after a while)."""

    def record(self, delivery: Delivery, event: WebhookEvent) -> None:
        """Write the delivery's latest state, with its event (kept for a replay)."""
        ...

    def get(self, endpoint_id: str, delivery_id: str) -> Delivery | None: ...

    def event_of(self, endpoint_id: str, delivery_id: str) -> WebhookEvent | None: ...

    def page(
        self, endpoint_id: str, *, cursor: str | None = None, limit: int = 50
    ) -> tuple[list[Delivery], str | None]: ...


@dataclass(frozen=True)
class HttpResult:
    """What a webhook request got: a status code, or none and why (network error, timeout, refused address)."""

    status_code: int | None
    latency_ms: int
    error: str | None = None


class WebhookTransport(Protocol):
    """Posts a signed body to an endpoint's URL, never to a private address, with bounded time and size."""

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> HttpResult: ...


class UrlGuard(Protocol):
    """Whether a URL may be an endpoint: its scheme, and every address its host resolves to."""

    def check(self, url: str) -> None:
        """Raises ValidationFailed(field="url") when the URL may not be used."""
        ...
