"""The command line's side of a job: its dry run in words, and following it to the end.

`clienteling-setup stores onboard` starts the job in the database like the API does, then
follows it; while it follows, it also works on it (a runner restricted to that job, sharing
the items with the servers' runners), so the job finishes with or without a server running.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from clienteling_setup.jobs import service
from clienteling_setup.jobs.models import CANCELLED, FAILED, FINISHED
from clienteling_setup.jobs.runner import JobRunner, RunnerSettings
from clienteling_setup.jobs.schemas import OnboardingJobCreate
from clienteling_setup.jobs.service import JobView
from clienteling_setup.jobs.work import JobPorts

POLL_SECONDS = 0.5


def dry_run_lines(ports: JobPorts, tenant_id: str, body: OnboardingJobCreate) -> list[str]:
    plan = service.plan_job(ports.uows, ports.gateway, ports.list_cache, tenant_id, body)
    lines = []
    for planned in plan.countries:
        country, stores, to_buy = planned.plan, planned.stores, planned.to_buy
        if country.problem is not None:
            how = f"fails: {country.problem}"
        elif country.bundle_sid is not None:
            how = f"with bundle {country.bundle_sid} and address {country.address_sid}"
        else:
            how = "no bundle needed"
        lines.append(
            f"{country.country}: {stores} store(s), {to_buy} {country.number_type or ''} "
            f"number(s) to buy; {how}"
        )
    already = sum(1 for s in plan.stores if s.action == "already_onboarded")
    if already:
        lines.append(f"{already} store(s) already onboarded: nothing to buy for them.")
    lines.append(f"Would buy {plan.count} number(s). Nothing was bought (dry run).")
    cost = plan.monthly_cost
    if cost is not None:
        lines.append(f"They would cost {cost.amount} {cost.currency} a month.")
    if plan.price_note is not None:
        lines.append(plan.price_note)
    return lines


def follow(
    ports: JobPorts,
    runner_settings: RunnerSettings,
    tenant_id: str,
    job_id: str,
    advance: Callable[[int], None],
) -> JobView:
    """Until the job ends, this process works on it too; `advance` is told how many more
    stores finished at each look."""
    runner = JobRunner(ports, runner_settings, only_job=job_id).start()
    told = 0
    try:
        while True:
            view = service.get_job(ports.uows, tenant_id, job_id, with_stores=False)
            finished = view.job.total - view.counts["pending"] - view.counts["in_progress"]
            advance(finished - told)
            told = finished
            if view.job.status in (FINISHED, CANCELLED):
                break
            time.sleep(POLL_SECONDS)
    finally:
        runner.stop()
    return service.get_job(ports.uows, tenant_id, job_id, with_stores=True)


def summary_lines(view: JobView) -> list[str]:
    counts = view.counts
    parts = ", ".join(
        f"{counts[k]} {k.replace('_', ' ')}"
        for k in ("onboarded", "already_onboarded", "failed", "cancelled")
        if counts[k]
    )
    lines = [f"Job {view.job.id} {view.job.status}: {parts or 'no store'}."]
    lines += [
        f"failed: {item.store_id}: {item.message}"
        for item in view.items or []
        if item.outcome == FAILED
    ]
    return lines
