"""The `clienteling-setup` command: serve, token, stores import/onboard, numbers orphans,
migrate, sync, twilio-emulator."""

from __future__ import annotations

import multiprocessing
import signal
import sys
from collections import deque
from collections.abc import Iterator
from itertools import islice
from multiprocessing.pool import AsyncResult, Pool
from pathlib import Path
from typing import TYPE_CHECKING

import click
from pydantic import ValidationError

from clienteling_setup.config import Settings
from clienteling_setup.errors import describe_validation_errors
from clienteling_setup.stores.files import (
    RawRow,
    RowProblem,
    StoreFileError,
    check_file,
    read_rows,
)

if TYPE_CHECKING:
    from clienteling_setup.stores.schemas import StoreValues


def _settings() -> Settings:
    return Settings()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Clienteling Setup API: put retailers' stores on SMS and WhatsApp through Twilio."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
def serve(host: str, port: int) -> None:
    """Run the API (embedded default: SQLite, built-in Twilio emulator, local storage)."""
    import uvicorn

    from clienteling_setup import gc_tuning
    from clienteling_setup.app import create_app
    from clienteling_setup.background import background_for
    from clienteling_setup.bootstrap import build_runtime
    from clienteling_setup.logs import configure_logging

    settings = _settings()
    configure_logging(settings.log_level)
    runtime = build_runtime(settings, public_base_url=f"http://{host}:{port}")
    app = create_app(runtime)
    # After the runtime: on the embedded default this process serves the Twilio emulator and
    # the worker process finds it (`embedded_twilio`).
    background = background_for(runtime, settings, runtime.public_base_url)
    background.start()
    embedded = settings.twilio.mode == "emulator" and not settings.twilio.api_base_url
    click.echo(f"Clienteling Setup API on http://{host}:{port}")
    click.echo(f"  API reference: http://{host}:{port}/docs")
    click.echo(f"  database:      {_redact(settings.resolved_database_url())}")
    click.echo(f"  Twilio:        {'built-in emulator' if embedded else 'Twilio REST API'}")
    if runtime.hs256_secret:
        click.echo("  token:         clienteling-setup token --tenant <tenant>")
    # uvicorn re-raises the SIGTERM it caught once it has shut down; turn it into SystemExit
    # so that the cleanup below (which lets go of the embedded emulator's world) still runs.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    gc_tuning.for_serving()  # start-up is over: its objects are never walked again
    try:
        uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)
    finally:
        background.stop()
        runtime.close()


@main.command(hidden=True)
@click.option("--public-base-url", required=True, help="Where the API answers (callbacks).")
@click.option("--parent", type=int, default=None, help="Exit when this process dies.")
def worker(public_base_url: str, parent: int | None) -> None:
    """The job workers and periodic reconciliation of `serve`, in a process of their own
    (started by `serve`; see `clienteling_setup.background`)."""
    import threading

    from clienteling_setup import gc_tuning
    from clienteling_setup.background import InProcess, die_with_parent
    from clienteling_setup.bootstrap import build_runtime
    from clienteling_setup.logs import configure_logging

    die_with_parent(parent)
    settings = _settings()
    configure_logging(settings.log_level)
    # The serving process applied the migrations and serves the embedded emulator, if any.
    runtime = build_runtime(settings, public_base_url=public_base_url, apply_migrations=False)
    background = InProcess(runtime, settings)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    background.start()
    gc_tuning.for_serving()
    try:
        while not stopped.wait(1.0):
            pass
    finally:
        background.stop()
        runtime.close()


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


def _tenant_name(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    """A `--tenant` the API could serve: the rule of the Tenant header."""
    from clienteling_setup.auth.tenant_names import TENANT_PATTERN

    if not TENANT_PATTERN.fullmatch(value):
        raise click.BadParameter(
            f"{value!r} is not a tenant name: it must match {TENANT_PATTERN.pattern} "
            "(lower-case letters, digits and hyphens), as the Tenant header does."
        )
    return value


def _tenant_names(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> tuple[str, ...]:
    return tuple(_tenant_name(ctx, param, value) for value in values)


@main.command()
@click.option(
    "--tenant",
    "tenants",
    required=True,
    multiple=True,
    callback=_tenant_names,
    help="Tenant to grant (repeatable).",
)
@click.option("--hours", default=12, show_default=True, type=int, help="Lifetime of the token.")
def token(tenants: tuple[str, ...], hours: int) -> None:
    """Print a bearer token the running configuration accepts (embedded signing key only)."""
    from datetime import timedelta

    from clienteling_setup.auth.tokens import issue_token
    from clienteling_setup.bootstrap import signing_secret

    settings = _settings()
    secret = signing_secret(settings)
    if secret is None:
        raise click.ClickException(
            f"The service verifies {settings.jwt.algorithm} tokens issued by your identity "
            "provider; it holds no signing key to issue one."
        )
    click.echo(
        issue_token(
            secret,
            list(tenants),
            issuer=settings.jwt.issuer,
            audience=settings.jwt.audience,
            ttl=timedelta(hours=hours),
        )
    )


@main.command()
def migrate() -> None:
    """Apply the database migrations (CLIENTELING_DATABASE_URL, or the embedded SQLite)."""
    from clienteling_setup.db import migrate as migrations

    settings = _settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrations.upgrade(settings.resolved_database_url())
    click.echo("Database is up to date.")


@main.group()
def stores() -> None:
    """Manage the store directory."""


class _InvalidRows(Exception):
    """The file had invalid rows: the import's transaction is rolled back."""


#: Rows a validation worker checks per task, and tasks in flight at once (memory stays bounded).
VALIDATION_BATCH = 500
VALIDATION_AHEAD = 4


def _validate(
    batch: list[tuple[int, RawRow]],
) -> list[tuple[int, StoreValues | None, str | None]]:
    """(line, the row's validated fields or None, the problem or None) of each raw row; runs
    in a worker process, beside the one that reads the file and writes the database."""
    from clienteling_setup.stores.schemas import StoreImportRow

    checked: list[tuple[int, StoreValues | None, str | None]] = []
    for line, raw in batch:
        if isinstance(raw, RowProblem):
            checked.append((line, None, str(raw)))
            continue
        try:
            checked.append((line, StoreImportRow.model_validate(raw).values(), None))
        except ValidationError as exc:
            problem = describe_validation_errors([dict(e) for e in exc.errors()])
            checked.append((line, None, problem))
    return checked


def _validated(
    pool: Pool, rows: Iterator[tuple[int, RawRow]]
) -> Iterator[tuple[int, StoreValues | None, str | None]]:
    """`_validate` over `rows` in `pool`, in file order, a few batches ahead of the reader."""
    ahead: deque[AsyncResult[list[tuple[int, StoreValues | None, str | None]]]] = deque()
    while batch := list(islice(rows, VALIDATION_BATCH)):
        ahead.append(pool.apply_async(_validate, (batch,)))
        if len(ahead) >= VALIDATION_AHEAD:
            yield from ahead.popleft().get()
    while ahead:
        yield from ahead.popleft().get()


@stores.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--tenant",
    required=True,
    callback=_tenant_name,
    help="Tenant whose directory receives the stores (as in the Tenant header).",
)
def import_stores(file: Path, tenant: str) -> None:
    """Load stores from CSV or JSON: every row loads, or none does."""
    from clienteling_setup.crypto import SecretBox
    from clienteling_setup.db import migrate as migrations
    from clienteling_setup.db.session import make_engine, make_sessionmaker
    from clienteling_setup.errors import AppError
    from clienteling_setup.status.fragments import keep_current
    from clienteling_setup.stores.service import import_store_values as load
    from clienteling_setup.unit_of_work import UnitsOfWork

    try:
        check_file(file)
    except StoreFileError as exc:
        raise click.ClickException(str(exc)) from exc
    settings = _settings()
    label = "row" if file.suffix.lower() == ".json" else "line"
    problems: list[str] = []
    seen: dict[str, int] = {}

    def valid(pool: Pool, rows: Iterator[tuple[int, RawRow]]) -> Iterator[StoreValues]:
        """The valid rows, until the first invalid one; the rest is still checked so that
        every problem is reported, and then nothing is written. Rows are validated by a
        worker process while this one reads the file and writes the rows before them."""
        for line, values, problem in _validated(pool, rows):
            if values is None:
                problems.append(f"{label} {line}: {problem}")
                continue
            store_id = values[0]
            first = seen.setdefault(store_id, line)
            if first != line:
                problems.append(f"{label} {line}: id '{store_id}' repeats {label} {first}.")
                continue
            if not problems:
                yield values  # validated by the worker
        if problems:
            raise _InvalidRows

    # The worker is forked first, before this process opens any database connection.
    pool = multiprocessing.get_context("fork").Pool(
        int(__import__("os").environ.get("H18_WORKERS", "1"))
    )
    url = settings.resolved_database_url()
    if url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        migrations.upgrade_sqlite(url)
    engine = make_engine(url)
    count = 0
    try:
        # The directory holds no secret: a throwaway key, and none of the composition root
        # (Twilio SDK, web framework) to import for it.
        sessions = make_sessionmaker(engine)
        keep_current(sessions)  # the imported stores' entries of the onboarding status
        uows = UnitsOfWork(sessions, SecretBox([SecretBox.generate_key()]))
        size = file.stat().st_size
        with click.progressbar(length=size, label="Importing", file=sys.stderr) as bar:
            rows = read_rows(file, bar.update)
            try:
                count = load(uows, tenant, valid(pool, rows))
            except _InvalidRows:
                pass
            except StoreFileError as exc:
                raise click.ClickException(f"{exc} Nothing was imported.") from exc
            except AppError as exc:
                raise click.ClickException(f"{exc.message} Nothing was imported.") from exc
    finally:
        engine.dispose()
        pool.terminate()
        pool.join()
    if problems:
        for problem in problems:
            click.echo(problem, err=True)
        raise click.ClickException(f"{len(problems)} invalid row(s); nothing was imported.")
    click.echo(f"Imported {count} store(s) for tenant '{tenant}'.")


@stores.command("onboard")
@click.option("--tenant", required=True, help="Tenant whose stores to onboard.")
@click.option("--country", default=None, help="Every store of this country not yet onboarded.")
@click.option("--all", "all_stores", is_flag=True, help="Every store not yet onboarded.")
@click.option("--store", "store_ids", multiple=True, help="This store (repeatable).")
@click.option("--dry-run", is_flag=True, help="Say what would be bought; buy nothing.")
@click.option("--enable", is_flag=True, help="Switch each store on for associates too.")
def onboard_stores(
    tenant: str,
    country: str | None,
    all_stores: bool,
    store_ids: tuple[str, ...],
    dry_run: bool,
    enable: bool,
) -> None:
    """Onboard many stores as one job, followed with a progress bar. The job is in the
    database: the servers' workers share it, and so does this command while it follows it."""
    from clienteling_setup.auth.actor import Actor
    from clienteling_setup.bootstrap import build_runtime
    from clienteling_setup.errors import AppError
    from clienteling_setup.jobs import follow
    from clienteling_setup.jobs.runner import runner_settings
    from clienteling_setup.jobs.schemas import OnboardingJobCreate
    from clienteling_setup.jobs.service import start_job

    try:
        body = OnboardingJobCreate(
            store_ids=list(store_ids) or None,
            country=country,
            all=all_stores,
            dry_run=dry_run,
            enable=enable,
        )
    except ValidationError as exc:
        problem = describe_validation_errors([dict(e) for e in exc.errors()])
        raise click.UsageError(problem.replace("store_ids", "--store")) from exc
    settings = _settings()
    # As `sync` does: beside a running `serve` on the embedded default, its Twilio emulator.
    runtime = build_runtime(
        settings,
        public_base_url=settings.public_base_url or "http://127.0.0.1:8000",
        role="sync",
    )
    workers = runner_settings(settings.jobs, settings.resolved_database_url())
    try:
        if dry_run:
            lines = follow.dry_run_lines(runtime, tenant, body)
        else:
            started = start_job(
                runtime.uows, tenant, body, Actor("clienteling-setup stores onboard")
            )
            job_id = started.job.id
            click.echo(f"Started job {job_id}: {started.job.total} store(s).")
            with click.progressbar(
                length=started.job.total, label="Onboarding", file=sys.stderr
            ) as bar:
                lines = follow.summary_lines(
                    follow.follow(runtime, workers, tenant, job_id, bar.update)
                )
    except AppError as exc:
        raise click.ClickException(exc.message) from exc
    except KeyboardInterrupt:
        raise click.ClickException(
            "Stopped following. The job goes on in the servers; cancel it with "
            "DELETE /clienteling/onboarding-jobs/<job id>."
        ) from None
    finally:
        runtime.close()
    for line in lines:
        click.echo(line)
    if not dry_run and any(line.startswith("failed:") for line in lines):
        sys.exit(1)


@main.command()
@click.option("--tenant", default=None, help="Only this tenant (default: every tenant).")
def sync(tenant: str | None) -> None:
    """One reconciliation pass against Twilio."""
    from clienteling_setup.bootstrap import build_runtime
    from clienteling_setup.sync import sync_all

    settings = _settings()
    runtime = build_runtime(
        settings,
        public_base_url=settings.public_base_url or "http://127.0.0.1:8000",
        role="sync",
    )
    try:
        report = sync_all(runtime, only=tenant, progress=True)
    finally:
        runtime.close()
    for line in report.lines():
        click.echo(line)
    if report.failed:
        sys.exit(1)


@main.group()
def numbers() -> None:
    """The phone numbers of a tenant's Twilio account."""


@numbers.command("orphans")
@click.option("--tenant", required=True, help="Tenant whose numbers to look at.")
@click.option("--release", is_flag=True, help="Release every orphan listed (its cost stops).")
def orphan_numbers(tenant: str, release: bool) -> None:
    """List the numbers the tenant's account owns that no store claims and no attempt in
    progress holds (read from Twilio now), with their monthly cost; --release releases each,
    as POST /clienteling/numbers/{number_sid}/release does, and records it in the ledger."""
    from clienteling_setup.auth.actor import Actor
    from clienteling_setup.bootstrap import build_runtime
    from clienteling_setup.errors import AppError
    from clienteling_setup.orphans import report

    settings = _settings()
    runtime = build_runtime(
        settings,
        public_base_url=settings.public_base_url or "http://127.0.0.1:8000",
        role="sync",
    )
    actor = Actor("clienteling-setup numbers orphans --release")
    try:
        lines, failed = report.orphan_lines(
            runtime.uows, runtime.gateway, tenant, release=release, actor=actor
        )
    except AppError as exc:
        raise click.ClickException(exc.message) from exc
    finally:
        runtime.close()
    for line in lines:
        click.echo(line)
    if failed:
        sys.exit(1)


@main.command("twilio-emulator")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8099, show_default=True, type=int)
def twilio_emulator(host: str, port: int) -> None:
    """Run the built-in Twilio emulator on its own; it prints the variables that point the
    service at it."""
    from clienteling_setup.config import twilio_environment
    from twilio_emulator import run_emulator

    run_emulator(host, port, environment=twilio_environment)


if __name__ == "__main__":
    main()
