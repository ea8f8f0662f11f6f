"""The ``ecif`` command line (CONTRACT.md §3).

Commands print a short summary on success; on failure they print one line,
``error: <reason>``, to stderr and exit non-zero. Commands parse their
arguments and call the services in :mod:`ecif`; none writes a table itself.

| module | commands |
|---|---|
| ``files`` | ``standardise``, ``generate``, ``train``, ``match``, ``eval`` |
| ``store`` | ``init``, ``ingest``, ``batch``, ``export``, ``model`` |
| ``app`` | ``serve``, ``demo`` |
| ``users`` | ``user create``, ``disable``, ``enable``, ``reset-password``, ``list`` |
| ``keys`` | ``apikey create``, ``apikey list``, ``apikey revoke`` |
| ``qa`` | ``qa sample``, ``qa report`` |
"""

from __future__ import annotations

import logging

import click

from ecif.cli.common import command_errors, engine_config, store_engine

__all__ = ["main", "command_errors", "engine_config", "store_engine"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log progress to stderr.")
def main(verbose: bool) -> None:
    """ECIF: customer identification and merge (客户识别与归并)."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Splink reports untrainable levels and similar at WARNING: detail, not news.
    logging.getLogger("splink").setLevel(logging.INFO if verbose else logging.ERROR)


from ecif.cli import app, files, keys, qa, store, users  # noqa: E402  (registers the commands)

for _module in (files, store, app, users, keys, qa):
    _module.register(main)
