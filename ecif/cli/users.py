"""Accounts of the stewards' app: ``ecif user create|disable|enable|reset-password|list``
(contract §5). The CLI acts as an administrator of the store it is pointed at."""

from __future__ import annotations

import getpass
import sys

import click

from ecif.cli.common import command_errors, store_engine
from ecif.services.base import Actor
from matching.vocabulary import Role


def register(main: click.Group) -> None:
    main.add_command(user)


def _cli_actor() -> Actor:
    try:
        who = getpass.getuser()
    except Exception:  # no user name in a bare container
        who = "unknown"
    return Actor(f"cli:{who}", Role.ADMIN, system=True)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("password", hide_input=True, confirmation_prompt=True))


@click.group()
def user() -> None:
    """Accounts of the review app (roles: viewer, steward, approver, admin)."""


@user.command("create")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of standard input.")
@command_errors
def create(name: str, role: str, password_stdin: bool) -> None:
    """Create an account (the password is prompted for, or read from stdin)."""
    from ecif.services.base import unit_of_work
    from ecif.services.users import create_user

    password = _read_password(password_stdin)
    with store_engine() as engine, unit_of_work(engine, "a user account") as conn:
        made = create_user(conn, name, role, password, actor=_cli_actor())
    click.echo(f"user {made.username} created with role {made.role}")


def _set_active(name: str, active: bool) -> None:
    from ecif.services.base import unit_of_work
    from ecif.services.users import set_active

    with store_engine() as engine, unit_of_work(engine, "a user account") as conn:
        set_active(conn, name, active, actor=_cli_actor())
    click.echo(f"user {name} {'enabled' if active else 'disabled'}")


@user.command("disable")
@click.argument("name")
@command_errors
def disable(name: str) -> None:
    """Disable an account: no more logins, open sessions end."""
    _set_active(name, False)


@user.command("enable")
@click.argument("name")
@command_errors
def enable(name: str) -> None:
    """Enable a disabled account."""
    _set_active(name, True)


@user.command("reset-password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True,
              help="Read the new password from the first line of standard input.")
@command_errors
def reset(name: str, password_stdin: bool) -> None:
    """Set a new password (ends the user's open sessions)."""
    from ecif.services.base import unit_of_work
    from ecif.services.users import reset_password

    password = _read_password(password_stdin)
    with store_engine() as engine, unit_of_work(engine, "a user account") as conn:
        reset_password(conn, name, password, actor=_cli_actor())
    click.echo(f"password of {name} reset")


@user.command("list")
@command_errors
def list_() -> None:
    """The accounts: name, role, active, last login."""
    from ecif.services.users import list_users

    with store_engine() as engine, engine.connect() as conn:
        rows = list_users(conn)
    for u in rows:
        last = f"{u.last_login_at:%Y-%m-%d %H:%M}" if u.last_login_at else "-"
        click.echo(f"{u.username}\t{u.role}\t{'active' if u.active else 'disabled'}\t{last}")
