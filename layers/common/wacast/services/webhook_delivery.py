"""The webhooks function's two jobs.

`WebhookFanout`: the events the table's changes mean (domain/webhook_events.py) become one delivery job per
endpoint that wants them, on the webhooks queue (10 per SQS request). Which endpoints an account has is
cached per process for `cache_seconds`, so most stream batches cost no read at all.

`WebhookDelivery`: one job, one try: sign, post, log. The verdict says what the queue does with the job:
delete it (delivered, given up, dead after the last try) or make it visible again after the retry policy's
wait (the caller changes the message's visibility: SQS holds the job meanwhile, nothing sleeps).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from wacast import observability as obs
from wacast.domain.webhook_events import events_of
from wacast.domain.webhooks import (
    Delivery,
    DeliveryJob,
    DeliveryStatus,
    EventType,
    RetryPolicy,
    Verdict,
    WebhookEndpoint,
    WebhookEvent,
    delivery_id,
    event_id,
    signature_header,
    verdict,
)
from wacast.observability import logger
from wacast.ports import Clock, DeliveryLog, Queue, QueueMessage, WebhookEndpointRepository, WebhookTransport

#: Requests of one batch made at once (a batch is at most 10 jobs: a stalled endpoint does not hold the rest).
PARALLEL_REQUESTS = 10


class RetryLater(Exception):
    """A delivery to try again: its message stays on the queue, visible again after the policy's wait."""


class WebhookFanout:
    """Turns events into delivery jobs for the endpoints that want them."""

    def __init__(
        self, endpoints: WebhookEndpointRepository, queue: Queue, clock: Clock, cache_seconds: float = 30.0
    ) -> None:
        self.endpoints = endpoints
        self.queue = queue
        self.clock = clock
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[datetime, list[WebhookEndpoint]]] = {}

    def publish_changes(self, records: Sequence[dict[str, Any]]) -> int:
        """Queue the jobs of the events a batch of the table's stream records means. A record that cannot be
        read is logged and skipped (retrying the batch would not read it better, and would hold the others)."""
        events: list[WebhookEvent] = []
        for record in records:
            try:
                events += events_of(record)
            except (KeyError, TypeError, ValueError):
                logger.exception("stream record not read as an event; skipped", event_id=record.get("eventID"))
        return self.publish(events)

    def publish(self, events: Sequence[WebhookEvent]) -> int:
        """Queue a job per (event, endpoint that wants it). Returns how many were queued."""
        made = (job_for(event, endpoint) for event in events for endpoint in self._of(event.account_id))
        jobs = [job for job in made if job is not None]
        if jobs:
            self.queue.send_batch([(job.model_dump(mode="json"), 0) for job in jobs])
        return len(jobs)

    def _of(self, account_id: str) -> list[WebhookEndpoint]:
        now = self.clock.now()
        held = self._cache.get(account_id)
        if held is not None and now - held[0] < timedelta(seconds=self.cache_seconds):
            return held[1]
        endpoints = [e for e in self.endpoints.list_for_account(account_id) if e.enabled]
        self._cache[account_id] = (now, endpoints)
        return endpoints


def job_for(event: WebhookEvent, endpoint: WebhookEndpoint) -> DeliveryJob | None:
    if not endpoint.wants(event.type):
        return None
    return DeliveryJob(
        delivery_id=delivery_id(event, endpoint.id), account_id=event.account_id, endpoint_id=endpoint.id, event=event
    )


@dataclass(frozen=True)
class Attempted:
    """What the queue does with the job: retry it after `retry_after` seconds, or (None) delete it."""

    delivery: Delivery
    retry_after: int | None = None


class WebhookDelivery:
    """Delivers one job per call; disables an endpoint whose deliveries keep dying."""

    def __init__(
        self,
        endpoints: WebhookEndpointRepository,
        log: DeliveryLog,
        transport: WebhookTransport,
        queue: Queue,
        clock: Clock,
        policy: RetryPolicy,
        *,
        disable_after_dead: int = 5,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.endpoints = endpoints
        self.log = log
        self.transport = transport
        self.queue = queue
        self.clock = clock
        self.policy = policy
        self.disable_after_dead = disable_after_dead
        self.jitter = jitter

    def attempt_batch(self, items: Sequence[tuple[DeliveryJob, int, QueueMessage]]) -> list[Exception | None]:
        """Try each (job, attempt, its queue message) once, at the same time. A job to retry gets its
        message's visibility set to the wait (one request for the batch) and a RetryLater as its failure, so
        the queue keeps it; the others are done (None)."""
        if not items:
            return []
        with ThreadPoolExecutor(max_workers=min(PARALLEL_REQUESTS, len(items))) as pool:
            outcomes = list(pool.map(lambda item: self._attempt_safely(item[0], item[1]), items))
        retries = [
            (message, o.retry_after)
            for (_, _, message), o in zip(items, outcomes, strict=True)
            if isinstance(o, Attempted) and o.retry_after is not None
        ]
        if retries:
            self.queue.change_visibility_batch([(m, after) for m, after in retries if after is not None])
        return [o if isinstance(o, Exception) else (RetryLater(o.delivery.id) if _later(o) else None) for o in outcomes]

    def _attempt_safely(self, job: DeliveryJob, attempt: int) -> Attempted | Exception:
        try:
            return self.attempt(job, attempt)
        except Exception as exc:  # that job's message is retried by the queue (and dead-lettered at the end)
            logger.exception("webhook delivery failed", delivery_id=job.delivery_id)
            return exc

    def attempt(self, job: DeliveryJob, attempt: int) -> Attempted:
        """Try the job once (`attempt`: 1 for the first try of its series)."""
        now = self.clock.now()
        endpoint = self.endpoints.get(job.account_id, job.endpoint_id)
        base = Delivery(
            id=job.delivery_id,
            account_id=job.account_id,
            endpoint_id=job.endpoint_id,
            event_id=job.event.id,
            event_type=job.event.type,
            status=DeliveryStatus.PENDING,
            attempts=attempt,
            replay=job.replay,
            created_at=job.event.created_at,
            updated_at=now,
        )
        if endpoint is None:
            return Attempted(base.model_copy(update={"status": DeliveryStatus.DEAD, "error": "endpoint deleted"}))
        if not endpoint.enabled and job.event.type is not EventType.WEBHOOK_TEST:
            dead = base.model_copy(update={"status": DeliveryStatus.DEAD, "error": "endpoint disabled"})
            self.log.record(dead, job.event)
            return Attempted(dead)
        body = job.event.body()
        stamp = int(now.timestamp())
        headers = {
            "Wacast-Signature": signature_header(endpoint.secrets_at(now), stamp, body),
            "Wacast-Event-Id": job.event.id,
            "Wacast-Event-Type": job.event.type.value,
            "Wacast-Delivery-Id": job.delivery_id,
            "Wacast-Attempt": str(attempt),
            "User-Agent": "wacast-webhooks/1",
        }
        result = self.transport.post(endpoint.url, body, headers)
        seen = base.model_copy(
            update={
                "response_code": result.status_code,
                "latency_ms": result.latency_ms,
                "error": result.error or (f"HTTP {result.status_code}" if result.status_code else None),
            }
        )
        decided = verdict(result.status_code)
        if decided is Verdict.DELIVERED:
            done = seen.model_copy(update={"status": DeliveryStatus.DELIVERED, "error": None})
            self.log.record(done, job.event)
            if endpoint.consecutive_dead:
                self.endpoints.record_delivered(endpoint.account_id, endpoint.id)
            obs.emit(obs.WEBHOOK_DELIVERIES, Outcome="delivered")
            return Attempted(done)
        if decided is Verdict.RETRY and attempt < self.policy.max_attempts:
            wait = self.policy.wait_after(attempt, self.jitter())
            retrying = seen.model_copy(
                update={"status": DeliveryStatus.RETRYING, "next_attempt_at": now + timedelta(seconds=wait)}
            )
            self.log.record(retrying, job.event)
            obs.emit(obs.WEBHOOK_DELIVERIES, Outcome="retried")
            return Attempted(retrying, retry_after=wait)
        dead = seen.model_copy(update={"status": DeliveryStatus.DEAD})
        self.log.record(dead, job.event)
        obs.emit(obs.WEBHOOK_DELIVERIES, Outcome="dead" if decided is Verdict.RETRY else "refused")
        logger.warning("webhook delivery dead", delivery_id=dead.id, endpoint_id=endpoint.id, error=dead.error)
        if job.event.type is not EventType.WEBHOOK_TEST:
            self._count_dead(endpoint, dead, now)
        return Attempted(dead)

    def _count_dead(self, endpoint: WebhookEndpoint, dead: Delivery, now: datetime) -> None:
        in_a_row = self.endpoints.record_dead(endpoint.account_id, endpoint.id)
        if in_a_row < self.disable_after_dead:
            return
        reason = f"{in_a_row} deliveries in a row failed after every retry; the last: {dead.error}"
        if not self.endpoints.disable(endpoint.account_id, endpoint.id, reason, now):
            return
        logger.warning("webhook endpoint disabled", endpoint_id=endpoint.id, reason=reason)
        notice = WebhookEvent(
            id=event_id(EventType.WEBHOOK_DISABLED, endpoint.id, now.isoformat()),
            type=EventType.WEBHOOK_DISABLED,
            account_id=endpoint.account_id,
            created_at=now,
            data={"endpoint_id": endpoint.id, "url": endpoint.url, "reason": reason},
        )
        others = [e for e in self.endpoints.list_for_account(endpoint.account_id) if e.id != endpoint.id]
        jobs = [j for j in (job_for(notice, e) for e in others) if j is not None]
        if jobs:
            self.queue.send_batch([(j.model_dump(mode="json"), 0) for j in jobs])


def _later(outcome: Attempted | Exception) -> bool:
    return isinstance(outcome, Attempted) and outcome.retry_after is not None
