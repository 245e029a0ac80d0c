"""Runs one job of the campaigns queue: the one place that tells the kinds of job apart."""

from __future__ import annotations

from typing import assert_never

from wacast.domain.campaign_jobs import CampaignJob, DispatchJob, FireJob, RequeueJob, SweepJob
from wacast.services.dispatch import DispatchService
from wacast.services.schedules import ScheduleService


class CampaignJobRunner:
    """Hands each job to the service that does it: a firing to the schedules, the rest to the dispatcher."""

    def __init__(self, dispatch: DispatchService, schedules: ScheduleService) -> None:
        self.dispatch = dispatch
        self.schedules = schedules

    def run(self, job: CampaignJob, receive_count: int = 1) -> None:
        """`receive_count` is SQS's: a dispatch job received again may have to hand on again."""
        match job:
            case FireJob():
                self.schedules.fire(job)
            case DispatchJob():
                self.dispatch.on_dispatch(job, receive_count)
            case SweepJob():
                self.dispatch.on_sweep(job)
            case RequeueJob():
                self.dispatch.on_requeue(job)
            case _:
                assert_never(job)
