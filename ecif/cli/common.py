"""What every command shares: one-line errors, the store's engine, the engine
configuration."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

from ecif.settings import load_settings
from matching.exceptions import ECIFError

__all__ = ["command_errors", "store_engine", "engine_config", "first_line", "engine_options",
           "spark_choice"]

F = TypeVar("F", bound=Callable[..., Any])


def first_line(exc: BaseException) -> str:
    """An exception's message in one line (a driver's error without SQLAlchemy's
    background link)."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def command_errors(func: F) -> F:
    """Turn any failure into one line on stderr and a non-zero exit."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ECIFError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        except OSError as exc:
            click.echo(f"error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), err=True)
            sys.exit(1)
        except (ArgumentError, NoSuchModuleError) as exc:
            click.echo(f"error: not a usable database URL: {first_line(exc)}", err=True)
            sys.exit(1)
        except DBAPIError as exc:  # the database refused: read-only, unreachable, locked...
            click.echo(f"error: database: {first_line(exc)}", err=True)
            sys.exit(1)
        except SQLAlchemyError as exc:
            click.echo(f"error: database: {first_line(exc)}", err=True)
            sys.exit(1)
        except Exception as exc:  # a bug: still one line, traceback on request
            if os.environ.get("ECIF_DEBUG"):
                raise
            click.echo(
                f"error: internal error {type(exc).__name__}: {exc} "
                "(set ECIF_DEBUG=1 for the traceback)",
                err=True,
            )
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


@contextmanager
def store_engine(url: str | None = None) -> Iterator[Any]:
    """The store's engine for one command, its connections closed at the end."""
    from models.db import make_engine

    engine = make_engine(url or load_settings().database_url)
    try:
        yield engine
    finally:
        engine.dispose()


def engine_config(model_dir: Path | None = None) -> Any:
    """The engine configuration (config/matching.yaml); model files (the file
    workflows) live in ``model_dir``, by default ``<data dir>/models``."""
    from matching.engine.config import load_engine_config

    settings = load_settings()
    config = load_engine_config(settings.config_dir)
    return replace(config, model_dir=model_dir or settings.data_dir / "models")


def engine_options(func: F) -> F:
    """``--engine duckdb|spark`` and ``--spark-master URL`` (defaults: the
    settings ``ECIF_ENGINE`` and ``ECIF_SPARK_MASTER``)."""
    func = click.option("--spark-master", "spark_master", default=None, metavar="URL",
                        help="With --engine spark: local[N] (default local[2], or "
                        "ECIF_SPARK_MASTER) or a cluster URL (yarn, k8s://..., spark://...).")(func)
    return click.option("--engine", "engine_name", default=None,
                        type=click.Choice(["duckdb", "spark"]),
                        help="Where matching runs: duckdb (default, or ECIF_ENGINE) or spark "
                        "(pip install 'ecif[spark]'; needs Java 17+).")(func)


def spark_choice(engine_name: str | None, spark_master: str | None) -> Any:
    """The Spark settings for the options and the environment, or None for DuckDB."""
    from matching.engine.engines import engine_settings
    from matching.engine.spark import check_java, check_pyspark

    settings = load_settings()
    choice = engine_settings(engine_name or settings.engine,
                             spark_master or settings.spark_master,
                             staging_dir=settings.spark_staging,
                             checkpoint_dir=settings.spark_checkpoint_dir)
    if choice is not None:  # fail before any work, with what to install
        check_pyspark()
        check_java()
    return choice
