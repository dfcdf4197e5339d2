"""The phonebook command: serve, migrate, accounts, keys, demo, seed, audit, restore."""

from __future__ import annotations

import os
import sys
from typing import Any

import click
import orjson
from sqlalchemy.exc import SQLAlchemyError

from phonebook.errors import ApiError
from phonebook.service import accounts, audit, demo, maintenance, phone_numbers
from phonebook.service import constituents as constituent_service
from phonebook.service import seed as seeding
from phonebook.service.context import Caller, ServiceContext
from phonebook.settings import Settings, as_environ, load_settings
from phonebook.store import migrate as migrations
from phonebook.store.connections import SQLITE_WORKERS_REFUSED, sqlite_safe_for_many_writers
from phonebook.store.database import Database


class _Phonebook(click.Group):
    """Turns every expected failure into one line on stderr and a non-zero exit."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ApiError as exc:
            raise click.ClickException(exc.description) from None
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
            raise click.ClickException(f"database error: {reason}") from None
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None


def _settings(ctx: click.Context) -> Settings:
    settings: Settings = ctx.find_root().obj
    return settings


def _use_database(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        root = ctx.find_root()
        root.obj = _settings(ctx).with_overrides(database_url=value)


# Every command also takes --database after its name (`phonebook serve --database URL`),
# as well as before it (`phonebook --database URL serve`).
database_option = click.option(
    "--database",
    metavar="URL",
    expose_value=False,
    is_eager=True,
    callback=_use_database,
    help="SQLAlchemy URL; default $PHONEBOOK_DATABASE_URL, else sqlite:///phonebook.db.",
)


def _database(ctx: click.Context) -> Database:
    return Database.from_settings(_settings(ctx))


@click.group(cls=_Phonebook)
@click.option(
    "--database",
    metavar="URL",
    help="SQLAlchemy URL; default $PHONEBOOK_DATABASE_URL, else sqlite:///phonebook.db.",
)
@click.pass_context
def cli(ctx: click.Context, database: str | None) -> None:
    """Phonebook: the LGL phone-number API, self-hosted."""
    ctx.obj = load_settings(database_url=database)


@cli.command()
@click.option("--host", help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (default 8000).")
@click.option("--workers", type=click.IntRange(min=1), help="Server processes (default 1).")
@click.option("--access-log/--no-access-log", default=None, help="Log each request (default on).")
@database_option
@click.pass_context
def serve(
    ctx: click.Context,
    host: str | None,
    port: int | None,
    workers: int | None,
    access_log: bool | None,
) -> None:
    """Migrate the database to the current schema, then serve HTTP.

    Migration runs once, here, before any worker starts; SIGTERM stops
    accepting, lets in-flight requests finish, then exits.
    """
    import uvicorn

    from phonebook.app import build_app, serve_app

    settings = _settings(ctx).with_overrides(
        host=host, port=port, workers=workers, access_log=access_log
    )
    database = _database(ctx)
    if settings.workers > 1 and database.is_sqlite and not sqlite_safe_for_many_writers():
        raise click.ClickException(SQLITE_WORKERS_REFUSED)
    migrations.upgrade(database)
    click.echo(
        f"Phonebook serving {database.url.render_as_string(hide_password=True)} "
        f"on http://{settings.host}:{settings.port} with {settings.workers} worker(s)"
    )
    if settings.workers == 1:
        serve_app(build_app(settings, database), settings)
        return
    database.dispose()
    # Workers are fresh processes: they rebuild these settings from the environment.
    os.environ.update(as_environ(settings))
    uvicorn.run(
        "phonebook.app:app_from_environment",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level="info",
        access_log=settings.access_log,
    )


@cli.command()
@database_option
@click.pass_context
def migrate(ctx: click.Context) -> None:
    """Bring the database schema to the current revision."""
    database = _database(ctx)
    migrations.upgrade(database)
    click.echo(f"schema at revision {migrations.current_revision(database)}")


@cli.group("accounts")
def accounts_group() -> None:
    """Manage accounts."""


@accounts_group.command("create")
@click.argument("name")
@database_option
@click.pass_context
def accounts_create(ctx: click.Context, name: str) -> None:
    """Create an account; prints its id as the last line."""
    account_id = accounts.create_account(_database(ctx), name)
    click.echo(f"created account {name!r}")
    click.echo(account_id)


@cli.group("keys")
def keys_group() -> None:
    """Manage API keys."""


@keys_group.command("create")
@click.argument("account_id", type=int)
@click.option("--read-only", is_flag=True, help="The key may only read.")
@click.option("--label", default="", help="A note to tell keys apart.")
@database_option
@click.pass_context
def keys_create(ctx: click.Context, account_id: int, read_only: bool, label: str) -> None:
    """Create an API key; prints it as the last line. It is shown only once."""
    key = accounts.create_key(_database(ctx), account_id, read_only=read_only, label=label)
    kind = "read-only" if read_only else "read-write"
    click.echo(
        f"created a {kind} key for account {account_id}; store it now, it is not shown again"
    )
    click.echo(key)


@keys_group.command("revoke")
@click.argument("key")
@database_option
@click.pass_context
def keys_revoke(ctx: click.Context, key: str) -> None:
    """Revoke an API key."""
    if not accounts.revoke_key(_database(ctx), key):
        raise click.ClickException("no active key matches")
    click.echo("revoked")


@cli.command("demo")
@click.option("--base-url", default="http://127.0.0.1:8000", help="Where the server will listen.")
@database_option
@click.pass_context
def demo_command(ctx: click.Context, base_url: str) -> None:
    """Ensure a demo account and constituent; print a fresh demo key and a curl line."""
    database = _database(ctx)
    migrations.upgrade(database)
    found = demo.prepare(database)
    base = base_url.rstrip("/")
    click.echo(f"Phonebook URL: {base}  (docs: {base}/docs)")
    click.echo(f"Demo API key (read-write, account {found.account_id}): {found.key}")
    click.echo(
        f'Try: curl -H "Authorization: Bearer {found.key}" '
        f"{base}/api/v1/constituents/{found.constituent_id}/phone_numbers"
    )


@cli.command("seed")
@click.option("--constituents", type=click.IntRange(min=0), default=10_000, show_default=True)
@click.option("--numbers", type=click.IntRange(min=0), default=30_000, show_default=True)
@click.option("--account", "account_name", default="Seed", show_default=True)
@database_option
@click.pass_context
def seed_command(ctx: click.Context, constituents: int, numbers: int, account_name: str) -> None:
    """Load a realistic data set into a new account; prints its id as the last line."""
    database = _database(ctx)
    migrations.upgrade(database)
    if numbers and not constituents:
        raise click.ClickException("--numbers needs at least one constituent")

    with click.progressbar(length=numbers, label="numbers", file=sys.stderr) as bar:
        result = seeding.seed(database, account_name, constituents, numbers, bar.update)
    click.echo(
        f"seeded account {result.account_id}: constituents {result.first_constituent_id}.."
        f"{result.first_constituent_id + result.constituents - 1}, numbers "
        f"{result.first_number_id}..{result.first_number_id + result.numbers - 1}"
    )
    click.echo(result.account_id)


@cli.command("optimize")
@database_option
@click.pass_context
def optimize_command(ctx: click.Context) -> None:
    """Merge the reverse-lookup index and refresh planner statistics.

    Lookups slow down as many small writes fragment the index; run this after
    large imports, or nightly. It writes, so other writers wait while it runs.
    """
    maintenance.optimize(_database(ctx))
    click.echo("optimized")


# Stored times are naive UTC; say so on output (2026-11-27T08:11:18.493326Z).
_UTC = orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z


@cli.command("audit")
@click.option("--account", "account_id", type=int, help="Only this account's events.")
@click.option("--number", "number_id", type=int, help="Only this phone number's events.")
@click.option("--constituent", "constituent_id", type=int, help="Only this constituent's events.")
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True)
@database_option
@click.pass_context
def audit_command(
    ctx: click.Context,
    account_id: int | None,
    number_id: int | None,
    constituent_id: int | None,
    limit: int,
) -> None:
    """Print the latest audit events, oldest first, one JSON object per line (times UTC)."""
    if number_id is not None and constituent_id is not None:
        raise click.UsageError("give --number or --constituent, not both")
    entity, entity_id = None, None
    if number_id is not None:
        entity, entity_id = audit.PHONE_NUMBER, number_id
    elif constituent_id is not None:
        entity, entity_id = audit.CONSTITUENT, constituent_id
    events = audit.recent(
        _database(ctx), account_id=account_id, entity=entity, entity_id=entity_id, limit=limit
    )
    for event in events:
        click.echo(orjson.dumps(audit.as_record(event), option=_UTC).decode())


@cli.command("restore")
@click.argument("object_id", metavar="ID", type=int)
@click.option("--account", "account_id", type=int, required=True, help="The object's account.")
@click.option(
    "--constituent",
    "is_constituent",
    is_flag=True,
    help="ID is a constituent's: it comes back with the numbers deleted with it.",
)
@database_option
@click.pass_context
def restore_command(
    ctx: click.Context, object_id: int, account_id: int, is_constituent: bool
) -> None:
    """Restore a deleted phone number (or constituent) from the audit trail, with its id."""
    context = ServiceContext.open(_database(ctx))
    operator = Caller.operator(account_id)
    if is_constituent:
        view = constituent_service.restore(context, operator, object_id)
        click.echo(f"restored constituent {view.row.id} with {len(view.numbers or [])} number(s)")
        return
    restored = phone_numbers.restore(context, operator, object_id)
    click.echo(f"restored phone number {restored.id} of constituent {restored.constituent_id}")


def main() -> None:
    cli(prog_name="phonebook")
