"""The neonize (whatsmeow) driver: one client per sender, each on its own session store.

Safety rules that keep the process alive and every send classified exactly:
- nothing but `connect` and `stop` is called on a client outside its session's gate, and `get_me()`
  only after the client reported itself connected (before that it dereferences a nil Go pointer);
- a connect attempt that shows no sign of life within `connect_timeout` has failed, and its client is
  stopped off-thread (neonize waits 60 s on a black-holed connection and its `stop()` does not cut it);
- every send is bounded in time; anything that may have reached WhatsApp is UNKNOWN, never retried.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass
from pathlib import Path

from session_host.drivers.base import DriverEvents
from session_host.drivers.media import HttpMediaFetcher, MediaFetcher, MediaUnavailable
from session_host.drivers.neonize_client import MediaUploadFailed, NeonizeFactory, prepare_store, store_for
from session_host.drivers.neonize_errors import classify_send_error
from session_host.drivers.neonize_events import phone_of
from session_host.drivers.neonize_session import Bounded, NeonizeSession
from session_host.drivers.neonize_subscriptions import subscribe
from session_host.timers import Timers
from wacast.domain.outcomes import SendCode, SendOutcome
from wacast.domain.senders import Sender, SenderState
from wacast.observability import logger
from wacast.ports import Clock
from wacast.settings import session_host_default

NAME = "neonize"


@dataclass
class NeonizeConfig:
    store_root: str
    proxy: str | None = None
    connect_timeout: float = session_host_default("connect_timeout_seconds")
    send_timeout: float = session_host_default("send_timeout_seconds")
    lookup_timeout: float = 15.0
    gate_wait: float = 5.0


class NeonizeDriver:
    """A Driver (and SessionDriver) over neonize."""

    name = NAME

    def __init__(
        self,
        events: DriverEvents,
        clock: Clock,
        timers: Timers,
        factory: NeonizeFactory,
        config: NeonizeConfig,
        media: MediaFetcher | None = None,
    ) -> None:
        self.events = events
        self.clock = clock
        self.timers = timers
        self.factory = factory
        self.config = config
        self.media = media or HttpMediaFetcher()
        self._sessions: dict[str, NeonizeSession] = {}
        self._lock = threading.Lock()
        self._generations = itertools.count(1)

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self, sender: Sender) -> None:
        """Open the sender's session (resume its linked device, or show QR codes). Returns at once."""
        with self._lock:
            current = self._sessions.get(sender.id)
            if current is not None and not current.ended:
                return
            store = store_for(self.config.store_root, sender.id)
            try:
                prepare_store(store)
            except OSError as exc:
                self._report(sender, SenderState.FAILED, f"session_store: {exc}")
                return
            generation = next(self._generations)
            client = self.factory.new_client(store, f"{sender.id}#{generation}", self._device_user(sender, store))
            session = NeonizeSession(sender=sender, client=client, generation=generation)
            subscribe(session, self)
            self._sessions[sender.id] = session
        threading.Thread(target=self._run, args=(session,), name=f"neonize-{sender.id}", daemon=True).start()
        self.timers.call_later(self.config.connect_timeout, lambda: self._watchdog(session))

    def _run(self, session: NeonizeSession) -> None:
        error = "connection_closed: the session ended"
        try:
            session.client.connect(self.config.proxy)
        except Exception as exc:
            error = f"connect_failed: {exc}"[:400]
        session.signalled.set()
        self.end(session, SenderState.DISCONNECTED, error)

    def _watchdog(self, session: NeonizeSession) -> None:
        if not session.signalled.is_set():
            timeout = self.config.connect_timeout
            self.end(session, SenderState.DISCONNECTED, f"connect_timeout: no answer from WhatsApp within {timeout:g}s")

    def end(self, session: NeonizeSession, state: SenderState, error: str | None) -> None:
        """The session is over (dropped, logged out, failed): stop its client and say so, once."""
        with self._lock:
            if session.ended or self._sessions.get(session.sender.id) is not session:
                return
            session.shut(self.config.gate_wait)
        if not session.closing:
            self._report(session.sender, state, error)

    def close(self, sender_id: str) -> None:
        """Close the session without reporting it (stopping, reconnecting, or the sender is gone)."""
        with self._lock:
            session = self._sessions.pop(sender_id, None)
        if session is not None and not session.ended:
            session.closing = True
            session.shut(self.config.gate_wait)

    def stop(self) -> None:
        for sender_id in list(self._sessions):
            self.close(sender_id)

    def current(self, sender_id: str) -> NeonizeSession | None:
        session = self._sessions.get(sender_id)
        return session if session is not None and not session.ended else None

    # -- state ------------------------------------------------------------------------------------

    def is_connected(self, sender_id: str) -> bool:
        session = self.current(sender_id)
        if session is None or not session.connected or session.suspect:
            return False
        answer = session.call(lambda c: c.is_connected, self.config.lookup_timeout)
        return answer.kind == "ok" and bool(answer.value)

    def is_linked(self, sender: Sender) -> bool:
        store = store_for(self.config.store_root, sender.id)
        users = self.factory.linked_users(store)
        device = self._device_user(sender, store)
        return bool(users) if device is None else device in users

    def probe(self, sender_id: str, timeout: float) -> bool:
        """A round trip to WhatsApp (a contact lookup of the sender's own number), bounded in time."""
        session = self.current(sender_id)
        if session is None or not session.connected:
            return False
        number = (session.own_phone or session.sender.phone or "").lstrip("+")
        if not number:
            return self.is_connected(sender_id)
        return session.call(lambda c: c.is_on_whatsapp(number), timeout).kind == "ok"

    def is_on_whatsapp(self, sender: Sender, phone: str) -> bool | None:
        """neonize's is-on-WhatsApp query for one number (None: not connected, or no answer in time)."""
        session = self.current(sender.id)
        if session is None or not session.connected or session.suspect:
            return None
        lookup = session.call(lambda c: c.is_on_whatsapp(phone.lstrip("+")), self.config.lookup_timeout)
        if lookup.kind != "ok":
            return None
        return any(r.IsIn for r in lookup.value)

    # -- sending ----------------------------------------------------------------------------------

    def send(self, sender: Sender, phone: str, body: str, media_url: str | None = None) -> SendOutcome:
        session = self.current(sender.id)
        if session is None or not session.connected or session.suspect:
            return SendOutcome.transient(NAME, SendCode.NOT_CONNECTED, "the neonize session is not connected")
        lookup = session.call(lambda c: c.is_on_whatsapp(phone.lstrip("+")), self.config.lookup_timeout)
        if lookup.kind != "ok":
            why = lookup.error or lookup.kind
            return SendOutcome.transient(NAME, SendCode.LOOKUP_FAILED, f"could not check the number ({why})")
        found = next((r for r in lookup.value if r.IsIn), None)
        if found is None:
            return SendOutcome.permanent(NAME, SendCode.NOT_ON_WHATSAPP, f"{phone} is not on WhatsApp")
        try:
            media = self.media.fetch(media_url) if media_url else None
        except MediaUnavailable as exc:
            kind = SendOutcome.permanent if exc.permanent else SendOutcome.transient
            return kind(NAME, SendCode.MEDIA, exc.reason)
        jid = found.JID
        if media is None:
            sent = session.call(lambda c: c.send_message(jid, body), self.config.send_timeout)
        elif media.is_image:
            sent = session.call(lambda c: c.send_image(jid, media.data, caption=body or None), self.config.send_timeout)
        else:
            sent = session.call(
                lambda c: c.send_document(jid, media.data, caption=body or None, filename=media.filename),
                self.config.send_timeout,
            )
        return self._outcome(sent)

    def _outcome(self, sent: Bounded) -> SendOutcome:
        if sent.kind == "ok":
            return SendOutcome.sent(NAME, str(sent.value.ID))
        if sent.kind == "closed":
            return SendOutcome.transient(NAME, SendCode.NOT_CONNECTED, "the session closed before the send")
        if sent.kind == "timeout":
            return SendOutcome.unknown(NAME, SendCode.TIMEOUT, f"no answer within {self.config.send_timeout:g}s")
        if isinstance(sent.error, MediaUploadFailed):
            return SendOutcome.transient(NAME, SendCode.UPLOAD, str(sent.error))
        return classify_send_error(str(sent.error))

    # -- linking and logging out ------------------------------------------------------------------

    def request_pairing_code(self, sender: Sender, phone: str) -> None:
        """Link with a code instead of a QR: needs a session that is waiting to be linked."""
        self.start(sender)
        session = self.current(sender.id)
        if session is None or not session.signalled.wait(self.config.connect_timeout):
            return  # the connect attempt failed and was reported
        if session.connected:
            logger.info("pairing code not needed: the session is connected", sender_id=sender.id)
            return
        answer = session.call(lambda c: c.pair_phone(phone.lstrip("+")), self.config.lookup_timeout)
        if answer.kind == "ok":
            self.events.on_pairing_code(sender, str(answer.value), self.clock.now())
        else:
            self._report(sender, SenderState.LINKING, f"pair_failed: {answer.error or answer.kind}")

    def logout(self, sender: Sender) -> None:
        """Unlink the device from the phone (when connected), close the session, forget its store."""
        session = self.current(sender.id)
        if session is not None and session.connected:
            answer = session.call(lambda c: c.logout(), self.config.lookup_timeout)
            if answer.kind != "ok":
                logger.warning("neonize logout failed; forgetting the session here", sender_id=sender.id)
        self.forget(sender)
        self._report(sender, SenderState.LOGGED_OUT, None)

    def forget(self, sender: Sender) -> None:
        """Close the session and delete its store (a postgres store keeps the device row)."""
        self.close(sender.id)
        store = store_for(self.config.store_root, sender.id)
        if not store.startswith(("postgres://", "postgresql://")):
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(store + suffix).unlink(missing_ok=True)

    # -- helpers ----------------------------------------------------------------------------------

    def learn_own_number(self, session: NeonizeSession) -> str | None:
        """The linked account's number. Only from a connected session: get_me() before that crashes."""
        if not session.connected or session.ended:
            return None
        answer = session.call(lambda c: c.get_me(), self.config.lookup_timeout)
        return phone_of(answer.value.JID) if answer.kind == "ok" and answer.value is not None else None

    def _device_user(self, sender: Sender, store: str) -> str | None:
        shared = store.startswith(("postgres://", "postgresql://"))
        return sender.phone.lstrip("+") if shared and sender.phone else None

    def _report(self, sender: Sender, state: SenderState, error: str | None) -> None:
        self.events.on_state(sender, state, error, self.clock.now())
