"""ECIF operational store: SQLAlchemy models split by aggregate, Alembic
migrations (``models/migrations``), engine and lock helpers (``models.db``).

Importing this package registers every table on ``Base.metadata``.
"""

from models import (
    auth,
    batch,
    customer,
    decision,
    event,
    qa,
    realtime,
    source_record,
    task,
    trained_model,
)
from models.base import Base

__all__ = ["Base", "auth", "batch", "customer", "decision", "event", "qa", "realtime",
           "source_record", "task", "trained_model"]
