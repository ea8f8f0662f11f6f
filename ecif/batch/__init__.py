"""``ecif batch``: the nightly run, stage by stage (models.batch.STAGES)."""

from ecif.batch.run import BatchSummary, run_batch

__all__ = ["BatchSummary", "run_batch"]
