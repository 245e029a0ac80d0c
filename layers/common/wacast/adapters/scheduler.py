"""EventBridge Scheduler: one schedule per campaign, in the stack's schedule group, whose target is
the campaigns queue."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from wacast.adapters.aws import unavailable_on_aws_failure

if TYPE_CHECKING:
    from mypy_boto3_scheduler import EventBridgeSchedulerClient
    from mypy_boto3_scheduler.type_defs import CreateScheduleInputTypeDef, TargetTypeDef

#: Filled in by EventBridge Scheduler at each firing (the local emulator does the same).
SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"


@dataclass(frozen=True)
class ScheduleTarget:
    """Where schedules put their job (the campaigns queue), the role Scheduler assumes, and its DLQ."""

    arn: str
    role_arn: str
    dlq_arn: str | None = None


class EventBridgeScheduler:
    """Creates, replaces and deletes campaign schedules. Takes its client in the constructor.

    A deployable that only deletes schedules (the dispatcher, once a one-time schedule fired) builds it
    without a target, and needs neither the target queue nor the role it would pass."""

    def __init__(self, client: EventBridgeSchedulerClient, group: str, target: ScheduleTarget | None = None) -> None:
        self.client = client
        self.group = group
        self.target = target

    def put(
        self,
        name: str,
        expression: str,
        timezone: str,
        payload: Mapping[str, Any],
        *,
        end: datetime | None = None,
    ) -> None:
        """Create the schedule, or replace it if one of that name exists (names are deterministic)."""
        if self.target is None:
            raise RuntimeError("this scheduler was built without a target: it can only delete schedules")
        one_time = expression.startswith("at(")
        target: TargetTypeDef = {
            "Arn": self.target.arn,
            "RoleArn": self.target.role_arn,
            "Input": json.dumps({**payload, "scheduled_time": SCHEDULED_TIME}),
            "RetryPolicy": {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 10},
        }
        if self.target.dlq_arn:
            target["DeadLetterConfig"] = {"Arn": self.target.dlq_arn}
        request: CreateScheduleInputTypeDef = {
            "Name": name,
            "GroupName": self.group,
            "ScheduleExpression": expression,
            "ScheduleExpressionTimezone": timezone,
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "State": "ENABLED",
            "Target": target,
            "ActionAfterCompletion": "DELETE" if one_time or end is not None else "NONE",
        }
        if end is not None:
            request["EndDate"] = end
        with unavailable_on_aws_failure("save the schedule", {"schedule": name}):
            try:
                self.client.create_schedule(**request)
            except self.client.exceptions.ConflictException:  # names are deterministic: replace it
                self.client.update_schedule(**request)

    def delete(self, name: str) -> bool:
        """Delete the schedule. False if there was none (already fired and deleted, or never made)."""
        with unavailable_on_aws_failure("delete the schedule", {"schedule": name}):
            try:
                self.client.delete_schedule(Name=name, GroupName=self.group)
            except self.client.exceptions.ResourceNotFoundException:
                return False
        return True

    def exists(self, name: str) -> bool:
        with unavailable_on_aws_failure("read the schedule", {"schedule": name}):
            try:
                self.client.get_schedule(Name=name, GroupName=self.group)
            except self.client.exceptions.ResourceNotFoundException:
                return False
        return True
