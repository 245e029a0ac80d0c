"""Sign-in attempts per email: pk LOGIN#{email}, sk WINDOW#{window number}, a counter moved by a
conditional ADD (so parallel attempts cannot slip past the limit) and a TTL that removes the item."""

from __future__ import annotations

from datetime import datetime

from pynamodb.attributes import NumberAttribute
from pynamodb.exceptions import DeleteError, UpdateError

from wacast.adapters.dynamo.table import TableModel, is_condition_failure
from wacast.domain.errors import Unavailable


class LoginWindowModel(TableModel):
    attempts = NumberAttribute(default=0)


class DynamoLoginAttempts:
    """At most `max_attempts` sign-in attempts per email in each fixed window of `window_seconds`."""

    def __init__(self, max_attempts: int, window_seconds: int) -> None:
        self.max_attempts = max_attempts
        self.window_seconds = window_seconds

    def _window(self, email: str, now: datetime) -> tuple[LoginWindowModel, int]:
        number = int(now.timestamp()) // self.window_seconds
        ends = (number + 1) * self.window_seconds
        return LoginWindowModel(f"LOGIN#{email}", f"WINDOW#{number}"), ends

    def reserve(self, email: str, now: datetime) -> float:
        item, ends = self._window(email, now)
        try:
            item.update(
                actions=[LoginWindowModel.attempts.add(1), LoginWindowModel.expires_at.set(ends + 3600)],
                condition=LoginWindowModel.attempts.does_not_exist() | (LoginWindowModel.attempts < self.max_attempts),
            )
        except UpdateError as exc:
            if is_condition_failure(exc):
                return max(1.0, ends - now.timestamp())
            raise Unavailable("could not count the sign-in attempt") from exc
        return 0.0

    def clear(self, email: str, now: datetime) -> None:
        item, _ = self._window(email, now)
        try:
            item.delete()
        except DeleteError as exc:
            raise Unavailable("could not reset the sign-in attempts") from exc
