"""What ``match_pair`` keeps (run at the end of every batch).

Kept: the newest row of each record pair that is

- behind a merge (its two records belong to one customer now: the "why" of
  the customer page),
- in question (either record is a member of an open review task: the task
  page's "why"), or
- judged (a live steward decision names the two records).

Pruned: older rows of a pair scored again, and pairs whose records ended in
different customers with no open task and no decision about them (a task
that was answered, a machine pair refused and never asked about).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, text

from ecif.bulk import table_of
from matching.vocabulary import RunStatus, TaskStatus
from models.batch import BatchRun
from models.customer import Link

__all__ = ["prune_pairs", "previous_run_start"]


def prune_pairs(conn: Connection, run_id: int | None = None) -> int:
    """Delete what is not kept; return how many rows went.

    With ``run_id`` (the batch's own call at the end of its run), only what may
    have changed since the previous prune is looked at; every run ends here, so
    each pair was kept or pruned by the previous run's prune and stays so until
    this run writes it again or one of its records changes. Older rows are looked
    for only behind the pairs this run wrote (a pair has older rows only when
    this run scored it again, or wrote it twice: a rule pair also scored). Pairs
    left apart are looked for among this run's pairs and the pairs of records
    touched since the previous prune (:data:`_TOUCHED`): linked anew or moved
    to another customer, a member of a task closed, named by a decision
    withdrawn. With no finished run before (a first night), and
    without ``run_id``, the whole table is looked at. That is an index walk
    from a night's rows instead of a probe for every row of the table (a
    million-record store keeps over a million pairs, a night writes thousands)."""
    if run_id is None:
        older = conn.execute(text(
            "DELETE FROM match_pair WHERE EXISTS (SELECT 1 FROM match_pair q "
            "WHERE q.left_key = match_pair.left_key AND q.right_key = match_pair.right_key "
            "AND q.id > match_pair.id)")).rowcount or 0
    else:
        older = conn.execute(text(
            "DELETE FROM match_pair WHERE id IN (SELECT o.id FROM match_pair n "
            "JOIN match_pair o ON o.left_key = n.left_key AND o.right_key = n.right_key "
            "AND o.id < n.id WHERE n.run_id = :run)"), {"run": run_id}).rowcount or 0
    since = previous_run_start(conn, run_id) if run_id is not None else None
    params: dict[str, Any] = {"task_status": TaskStatus.OPEN}
    if since is None:
        apart = text(_APART.format(touched="", pairs="match_pair p", scope=""))
    else:
        # SQLite: the night's pairs the outer loop (CROSS JOIN keeps the order)
        apart = text(_APART.format(
            touched=_TOUCHED, pairs=("(SELECT id FROM match_pair WHERE run_id = :run "
                   "UNION SELECT q.id FROM touched t JOIN match_pair q ON q.left_key = t.k "
                   "UNION SELECT q.id FROM touched t JOIN match_pair q ON q.right_key = t.k) c "
                   "CROSS JOIN match_pair p"),
            scope="p.id = c.id AND ")).bindparams(
            bindparam("since", type_=table_of(Link).c.since.type))
        params |= {"run": run_id, "since": since - SINCE_MARGIN}
    gone = conn.execute(apart, params).rowcount or 0
    return int(older) + int(gone)


#: Clocks of the hosts that write may differ: what changed up to this long before the
#: previous run started is looked at again (a superset: only more pairs are checked).
SINCE_MARGIN = timedelta(hours=1)


def previous_run_start(conn: Connection, run_id: int) -> datetime | None:
    """When the last finished run before ``run_id`` started (None: there is none)."""
    got = conn.execute(select(func.max(BatchRun.started_at)).where(
        BatchRun.status == RunStatus.DONE, BatchRun.id < run_id)).scalar()
    return got if isinstance(got, datetime) else None


#: Record keys whose pairs may have become apart since the previous prune: records
#: linked anew or moved by this run, or by a steward or the API since ``:since``
#: (every link write sets ``run_id`` and ``since``: ecif.services.clusters; an earlier
#: run's own moves were looked at by its own prune), members of a task closed, the
#: two records of a decision withdrawn.
_TOUCHED = (
    "WITH touched (k) AS (SELECT s.record_key FROM link l "
    "JOIN source_record s ON s.id = l.record_id "
    "WHERE l.run_id = :run OR (l.run_id IS NULL AND l.since >= :since) "
    "UNION SELECT s.record_key FROM review_task t JOIN task_member m ON m.task_id = t.id "
    "JOIN source_record s ON s.id = m.record_id WHERE t.closed_at >= :since "
    "UNION SELECT left_key FROM decision WHERE deleted_at >= :since "
    "UNION SELECT right_key FROM decision WHERE deleted_at >= :since) ")
#: Pairs whose records are linked to different customers, with neither in an open task
#: and no live decision about the pair.
_APART = (
    # (the WITH inside: Python's sqlite3 counts no rows for a statement starting with it)
    "DELETE FROM match_pair WHERE id IN ({touched}SELECT p.id FROM {pairs} "
    "JOIN source_record a ON a.record_key = p.left_key "
    "JOIN source_record b ON b.record_key = p.right_key "
    "JOIN link la ON la.record_id = a.id JOIN link lb ON lb.record_id = b.id "
    "WHERE {scope}la.customer_no <> lb.customer_no "
    # the records in open tasks, found once (a correlated subquery here had SQLite
    # walk every open task for every pair: hours at a million records)
    "AND a.id NOT IN (SELECT m.record_id FROM task_member m "
    "  JOIN review_task t ON t.id = m.task_id WHERE t.status = :task_status) "
    "AND b.id NOT IN (SELECT m.record_id FROM task_member m "
    "  JOIN review_task t ON t.id = m.task_id WHERE t.status = :task_status) "
    "AND NOT EXISTS (SELECT 1 FROM decision d WHERE d.deleted_at IS NULL "
    "  AND d.left_key = p.left_key AND d.right_key = p.right_key))")
