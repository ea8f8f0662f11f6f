"""``ecif apikey create NAME [--scope S,...] | list | revoke NAME``: integrators' keys
(CONTRACT.md §4). ``create`` prints the key alone on its last line, once."""

from __future__ import annotations

import click

from ecif.cli.common import command_errors, store_engine
from ecif.services.apikeys import ALL_SCOPES, create_key, list_keys, parse_scopes, revoke_key
from ecif.services.base import Actor, unit_of_work
from matching.vocabulary import Role

#: Who the command line acts as in the audit log.
_OPERATOR = Actor("cli", Role.ADMIN, system=True)


def register(main: click.Group) -> None:
    main.add_command(apikey)


@click.group()
def apikey() -> None:
    """Integrators' API keys: create (shown once), list, revoke."""


@apikey.command("create")
@click.argument("name")
@click.option("--scope", "scope", default=",".join(ALL_SCOPES), show_default=True,
              help="Comma-separated scopes: match, register, read, pii.")
@click.option("--rate-limit", type=click.IntRange(1, 1_000_000), default=None,
              help="Requests per minute for this key (default: the app's).")
@command_errors
def create(name: str, scope: str, rate_limit: int | None) -> None:
    """Make a key; it is printed once, alone on the last line."""
    with store_engine() as engine, unit_of_work(engine, "creating an API key") as conn:
        new = create_key(conn, name, scopes=parse_scopes(scope), rate_limit=rate_limit,
                         actor=_OPERATOR)
    click.echo(f"API key #{new.id} {new.name!r} (prefix {new.prefix}, scopes "
               f"{','.join(new.scopes)}); shown once, store it now:")
    click.echo(new.key)


@apikey.command("list")
@command_errors
def list_() -> None:
    """The keys: id, name, prefix, scopes, created, revoked."""
    with store_engine() as engine, engine.connect() as conn:
        frame = list_keys(conn)
    for row in frame.to_dict("records"):
        revoked = f" revoked {row['revoked_at']:%Y-%m-%d %H:%M}" if row["revoked_at"] else ""
        scopes = str(row["scopes"]).replace(" ", ",")
        click.echo(f"{row['id']}\t{row['name']}\t{row['prefix']}\t{scopes}\t"
                   f"created {row['created_at']:%Y-%m-%d %H:%M}{revoked}")


@apikey.command("revoke")
@click.argument("which")
@command_errors
def revoke(which: str) -> None:
    """Revoke a key by name, prefix or id (at once: its next call gets 401)."""
    with store_engine() as engine, unit_of_work(engine, "revoking an API key") as conn:
        key_id = revoke_key(conn, which, actor=_OPERATOR)
    click.echo(f"API key #{key_id} revoked")
