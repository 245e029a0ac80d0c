"""The campaigns queue's messages: a discriminated union on `type`, parsed once by the dispatcher's
record model and run by kind in one place (`services.campaign_jobs.CampaignJobRunner`).

- `fire`: a schedule fired, so start a run. EventBridge Scheduler puts it on the queue: the schedule's
  Input is a FireJob without `scheduled_time`, which Scheduler fills in at each firing.
- `dispatch`: plan the next window of run `run`. Only the job holding the campaign's current `seq` may.
- `sweep`: a cancelled run: its waiting messages become SKIPPED.
- `requeue`: a resumed run: queue again the messages parked while it was paused.

Produced by `services.campaigns` (start, resume, cancel), `services.dispatch` (continuations, long
sweeps) and `services.schedules` (a schedule's payload); consumed by the dispatcher and, once
dead-lettered, by the dlq function.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


class _Job(BaseModel):
    model_config = ConfigDict(frozen=True)

    account_id: str = Field(min_length=1)
    campaign_id: str = Field(min_length=1)
    run: int = 0
    seq: int = 0


class FireJob(_Job):
    type: Literal["fire"] = "fire"
    scheduled_time: str | None = None  # EventBridge Scheduler's <aws.scheduler.scheduled-time>


class DispatchJob(_Job):
    type: Literal["dispatch"] = "dispatch"


class SweepJob(_Job):
    type: Literal["sweep"] = "sweep"


class RequeueJob(_Job):
    type: Literal["requeue"] = "requeue"


#: The jobs of one run (every kind but a firing, which starts a run).
RunJob = DispatchJob | SweepJob | RequeueJob
CampaignJob = Annotated[FireJob | DispatchJob | SweepJob | RequeueJob, Field(discriminator="type")]
#: Validates a campaigns-queue body (a mapping, or JSON text) into its kind of job.
CAMPAIGN_JOB: TypeAdapter[CampaignJob] = TypeAdapter(CampaignJob)
