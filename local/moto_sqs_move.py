"""SQS message move tasks (DLQ redrive) for moto, which does not implement them (5.2.5).

Adds StartMessageMoveTask, ListMessageMoveTasks and CancelMessageMoveTask to moto's SQS backend and
to its JSON/query response class, following AWS's documented behaviour:

- The source must be a dead-letter queue: a queue some queue's RedrivePolicy targets.
- A task runs in a background thread (as in AWS, the call returns at once with a TaskHandle; poll
  ListMessageMoveTasks for the outcome). It moves the messages that were visible in the DLQ when it
  started (ApproximateNumberOfMessagesToMove); one received by a consumer meanwhile is moved once it
  is visible again, one deleted meanwhile is skipped. Messages arriving after the start stay.
- Each moved message is deleted from the DLQ and sent to the destination as a new message (new
  MessageId, receive count 0, no delay) with the same body, message attributes, AWSTraceHeader and,
  for FIFO queues, the same group and deduplication ids: it is receivable at once.
- Without DestinationArn, each message goes back to the queue that dead-lettered it. moto does not
  record that, so `_receive_recording_dlq_sources` tags every message moto dead-letters with its
  source queue's ARN. A message without one (sent straight to the DLQ) fails the task with
  FailureReason CouldNotDetermineMessageSource, as AWS does; redrive those to an explicit destination.
- One active (RUNNING or CANCELLING) task per source queue; another start is refused with AWS's error:
  InvalidParameterValue "There is already a task running. ...".
- MaxNumberOfMessagesPerSecond (1..500) paces the move; without it, messages move as fast as they can.
- CancelMessageMoveTask stops a RUNNING task (moved messages stay moved): CANCELLING, then CANCELLED.
- ListMessageMoveTasks: the source's tasks, newest first, MaxResults 1 (default) to 10; TaskHandle
  only on RUNNING tasks, FailureReason only on FAILED ones. The ten most recent tasks are kept.
"""

from __future__ import annotations

import base64
import binascii
import json
import string
import threading
import time
from collections import deque
from copy import deepcopy
from dataclasses import dataclass, field
from typing import Any

from moto.core.responses import ActionResult
from moto.moto_api._internal import mock_random as random
from moto.sqs.exceptions import InvalidParameterValue, SQSException
from moto.sqs.models import Message, Queue, SQSBackend, sqs_backends
from moto.sqs.responses import SQSResponse

RUNNING, CANCELLING, CANCELLED, COMPLETED, FAILED = "RUNNING", "CANCELLING", "CANCELLED", "COMPLETED", "FAILED"
ACTIVE = (RUNNING, CANCELLING)
MAX_RATE = 500  # AWS's limit on MaxNumberOfMessagesPerSecond
MAX_RESULTS = 10  # AWS lists (and keeps) the ten most recent tasks of a source
ALREADY_RUNNING = (
    "There is already a task running. Only one active task is allowed for a source queue arn at a given time."
)
SOURCE_ATTR = "dead_letter_queue_source_arn"  # set on moto Messages that moto dead-lettered

_LOCK = threading.RLock()  # guards every backend's task table
_receiving = threading.local()  # the queue whose receive_message runs on this thread, if any


class ResourceNotFound(SQSException):
    def __init__(self, message: str) -> None:
        super().__init__("ResourceNotFoundException", message)


@dataclass
class MoveTask:
    task_id: str
    source_arn: str
    destination_arn: str | None
    max_per_second: int | None
    to_move: int
    started_ms: int
    status: str = RUNNING
    moved: int = 0
    failure_reason: str | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    @property
    def handle(self) -> str:
        raw = json.dumps({"taskId": self.task_id, "sourceArn": self.source_arn}, separators=(",", ":"))
        return base64.b64encode(raw.encode()).decode()

    def entry(self) -> dict[str, Any]:
        """The task as a ListMessageMoveTasksResultEntry."""
        result: dict[str, Any] = {
            "Status": self.status,
            "SourceArn": self.source_arn,
            "ApproximateNumberOfMessagesMoved": self.moved,
            "ApproximateNumberOfMessagesToMove": self.to_move,
            "StartedTimestamp": self.started_ms,
        }
        if self.status == RUNNING:
            result["TaskHandle"] = self.handle
        if self.destination_arn:
            result["DestinationArn"] = self.destination_arn
        if self.max_per_second is not None:
            result["MaxNumberOfMessagesPerSecond"] = self.max_per_second
        if self.status == FAILED and self.failure_reason:
            result["FailureReason"] = self.failure_reason
        return result


# ---------------------------------------------------------------------------------------------------------------------
# Queues by ARN, and the task table of a backend


def _split_arn(arn: Any, parameter: str) -> tuple[str, str, str]:
    parts = arn.split(":") if isinstance(arn, str) else []
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "sqs" or not all(parts[3:]):
        raise InvalidParameterValue(
            f"You must use this format to specify the {parameter}: "
            "arn:<partition>:<service>:<region>:<account-id>:<resource-id>"
        )
    return parts[3], parts[4], parts[5]  # region, account, queue name


def _backend_of(arn: str, parameter: str) -> SQSBackend:
    region, account, _ = _split_arn(arn, parameter)
    return sqs_backends[account][region]


def _queue_by_arn(arn: str, parameter: str) -> Queue:
    region, account, name = _split_arn(arn, parameter)
    queue = sqs_backends[account][region].queues.get(name)
    if queue is None:
        raise ResourceNotFound(f"The resource that you specified for the {parameter} parameter doesn't exist.")
    return queue


def _tasks(backend: SQSBackend) -> dict[str, MoveTask]:
    """The backend's move tasks by id (kept on the backend, so a moto reset forgets them too)."""
    tasks: dict[str, MoveTask] = backend.__dict__.setdefault("_message_move_tasks", {})
    return tasks


def _tasks_of_source(backend: SQSBackend, source_arn: str) -> list[MoveTask]:
    """Newest first."""
    found = [t for t in _tasks(backend).values() if t.source_arn == source_arn]
    return sorted(found, key=lambda t: t.started_ms, reverse=True)


def _is_dead_letter_queue(queue: Queue) -> bool:
    backend = sqs_backends[queue.account_id][queue.region]
    return any(
        (q.redrive_policy or {}).get("deadLetterTargetArn") == queue.queue_arn for q in list(backend.queues.values())
    )


# ---------------------------------------------------------------------------------------------------------------------
# Remembering which queue dead-lettered a message


_original_receive = SQSBackend.receive_message
_original_add_message = Queue.add_message


def _receive_recording_dlq_sources(self: SQSBackend, queue_name: str, *args: Any, **kwargs: Any) -> Any:
    previous = getattr(_receiving, "queue", None)
    _receiving.queue = self.queues.get(queue_name)
    try:
        return _original_receive(self, queue_name, *args, **kwargs)
    finally:
        _receiving.queue = previous


def _add_message_recording_dlq_source(self: Queue, message: Message) -> None:
    # moto dead-letters inside receive_message, by adding the message to the receiving queue's DLQ.
    source = getattr(_receiving, "queue", None)
    if source is not None and source.dead_letter_queue is self:
        setattr(message, SOURCE_ATTR, source.queue_arn)
    _original_add_message(self, message)


# ---------------------------------------------------------------------------------------------------------------------
# The move itself, in a thread of its own


def _in_queue(queue: Queue, message: Message) -> bool:
    return any(m is message for m in queue._messages)


def _take(queue: Queue, message: Message) -> bool:
    """Remove `message` from `queue` as DeleteMessage would; False if it is no longer there."""
    with queue._messages_lock:
        kept = [m for m in queue._messages if m is not message]
        if len(kept) == len(queue._messages):
            return False
        queue._messages = kept
        queue.pending_messages.discard(message)
        queue.deleted_messages.update(h for h in message.all_receipt_handles if h)
        return True


def _resend(destination: Queue, old: Message) -> None:
    """`old` as a new message on `destination`: same body and attributes, receivable at once."""
    new = Message(str(random.uuid4()), old.body, deepcopy(old.system_attributes))
    new.message_attributes = deepcopy(old.message_attributes)
    if destination.fifo_queue:
        new.group_id = old.group_id
        new.deduplication_id = old.deduplication_id
        new.sequence_number = "".join(random.choice(string.digits) for _ in range(20))
    new.mark_sent(delay_seconds=0)
    destination.add_message(new)


def _destination(task: MoveTask, message: Message) -> Queue:
    arn = task.destination_arn or getattr(message, SOURCE_ATTR, None)
    if arn is None:
        raise _TaskFailed("CouldNotDetermineMessageSource")
    try:
        return _queue_by_arn(arn, "DestinationArn")
    except SQSException as exc:
        raise _TaskFailed("AWS.SimpleQueueService.NonExistentQueue") from exc


class _TaskFailed(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _move_next(task: MoveTask, source: Queue, pending: deque[Message]) -> None:
    message = pending.popleft()
    if not _in_queue(source, message):
        return  # deleted, purged or expired meanwhile
    if not message.visible:  # a consumer holds it: move it once it is visible again
        pending.append(message)
        if all(not m.visible for m in pending):
            task.cancel.wait(0.05)
        return
    destination = _destination(task, message)
    if _take(source, message):
        _resend(destination, message)
        task.moved += 1
        if task.max_per_second:
            task.cancel.wait(1 / task.max_per_second)


def _run(task: MoveTask, source: Queue, snapshot: list[Message]) -> None:
    pending = deque(snapshot)
    try:
        while pending and not task.cancel.is_set():
            _move_next(task, source, pending)
    except _TaskFailed as failure:
        task.failure_reason = failure.reason
    except Exception as exc:  # a task fails; the server lives on
        task.failure_reason = type(exc).__name__
    with _LOCK:
        if task.failure_reason:
            task.status = FAILED
        elif task.cancel.is_set():
            task.status = CANCELLED
        else:
            task.status = COMPLETED


# ---------------------------------------------------------------------------------------------------------------------
# Backend operations


def _validate_rate(rate: Any) -> int | None:
    if rate is None:
        return None
    if not isinstance(rate, int) or not 1 <= rate <= MAX_RATE:
        raise InvalidParameterValue(
            f"Value {rate} for parameter MaxNumberOfMessagesPerSecond is invalid. "
            f"Reason: You must enter a number that's between 1 and {MAX_RATE}."
        )
    return rate


def _check_destination(source: Queue, destination_arn: str | None) -> None:
    if not destination_arn:
        return
    destination = _queue_by_arn(destination_arn, "DestinationArn")
    if destination is source:
        raise InvalidParameterValue("The source queue and destination queue must be different.")
    if destination.fifo_queue != source.fifo_queue:
        raise InvalidParameterValue("The source queue and destination queue must be of the same queue type.")


def start_message_move_task(
    self: SQSBackend, source_arn: str, destination_arn: str | None = None, max_per_second: int | None = None
) -> str:
    source = _queue_by_arn(source_arn, "SourceArn")
    if not _is_dead_letter_queue(source):
        raise InvalidParameterValue("Source queue must be configured as a Dead Letter Queue.")
    _check_destination(source, destination_arn)
    rate = _validate_rate(max_per_second)
    backend = _backend_of(source_arn, "SourceArn")
    with _LOCK:
        history = _tasks_of_source(backend, source_arn)
        if any(t.status in ACTIVE for t in history):
            raise InvalidParameterValue(ALREADY_RUNNING)
        for old in history[MAX_RESULTS - 1 :]:
            _tasks(backend).pop(old.task_id, None)
        snapshot = [m for m in list(source._messages) if m.visible and not m.delayed]
        task = MoveTask(
            task_id=str(random.uuid4()),
            source_arn=source_arn,
            destination_arn=destination_arn or None,
            max_per_second=rate,
            to_move=len(snapshot),
            started_ms=int(time.time() * 1000),
        )
        _tasks(backend)[task.task_id] = task
        task.thread = threading.Thread(
            target=_run, args=(task, source, snapshot), name=f"sqs-move-{task.task_id[:8]}", daemon=True
        )
        task.thread.start()
    return task.handle


def list_message_move_tasks(self: SQSBackend, source_arn: str, max_results: int | None = None) -> list[dict[str, Any]]:
    limit = 1 if max_results is None else max_results
    if not isinstance(limit, int) or not 1 <= limit <= MAX_RESULTS:
        raise InvalidParameterValue(
            f"Value {max_results} for parameter MaxResults is invalid. "
            f"Reason: You must enter a number that's between 1 and {MAX_RESULTS}."
        )
    _queue_by_arn(source_arn, "SourceArn")
    with _LOCK:
        return [t.entry() for t in _tasks_of_source(_backend_of(source_arn, "SourceArn"), source_arn)[:limit]]


def _decode_handle(handle: Any) -> tuple[str, str]:
    try:
        decoded = json.loads(base64.b64decode(str(handle), validate=True))
        return str(decoded["taskId"]), str(decoded["sourceArn"])
    except (binascii.Error, ValueError, TypeError, KeyError) as exc:
        raise InvalidParameterValue("Value for parameter TaskHandle is invalid.") from exc


def cancel_message_move_task(self: SQSBackend, task_handle: str) -> int:
    task_id, source_arn = _decode_handle(task_handle)
    _queue_by_arn(source_arn, "SourceArn")
    with _LOCK:
        task = _tasks(_backend_of(source_arn, "SourceArn")).get(task_id)
        if task is None:
            raise ResourceNotFound("Task does not exist.")
        if task.status not in ACTIVE:
            raise InvalidParameterValue(f"Only a RUNNING task can be cancelled; this one is {task.status}.")
        task.status = CANCELLING
        task.cancel.set()
        thread = task.thread
    if thread is not None:
        thread.join(timeout=2)  # a move of one message is quick: usually CANCELLED on return
    return task.moved


# ---------------------------------------------------------------------------------------------------------------------
# Response methods (the JSON protocol's X-Amz-Target AmazonSQS.<Action>, and the query protocol's Action=)


def _respond_start(self: SQSResponse) -> ActionResult:
    handle = start_message_move_task(
        self.sqs_backend,
        self._get_param("SourceArn"),
        self._get_param("DestinationArn"),
        self._get_param("MaxNumberOfMessagesPerSecond"),
    )
    return ActionResult({"TaskHandle": handle})


def _respond_list(self: SQSResponse) -> ActionResult:
    results = list_message_move_tasks(self.sqs_backend, self._get_param("SourceArn"), self._get_param("MaxResults"))
    return ActionResult({"Results": results})


def _respond_cancel(self: SQSResponse) -> ActionResult:
    moved = cancel_message_move_task(self.sqs_backend, self._get_param("TaskHandle"))
    return ActionResult({"ApproximateNumberOfMessagesMoved": moved})


def patch() -> None:
    SQSBackend.receive_message = _receive_recording_dlq_sources  # type: ignore[method-assign]
    Queue.add_message = _add_message_recording_dlq_source  # type: ignore[method-assign]
    SQSBackend.start_message_move_task = start_message_move_task  # type: ignore[attr-defined]
    SQSBackend.list_message_move_tasks = list_message_move_tasks  # type: ignore[attr-defined]
    SQSBackend.cancel_message_move_task = cancel_message_move_task  # type: ignore[attr-defined]
    SQSResponse.start_message_move_task = _respond_start  # type: ignore[attr-defined]
    SQSResponse.list_message_move_tasks = _respond_list  # type: ignore[attr-defined]
    SQSResponse.cancel_message_move_task = _respond_cancel  # type: ignore[attr-defined]
