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

from sqlalchemy import Connection, text

from matching.vocabulary import TaskStatus

__all__ = ["prune_pairs"]


def prune_pairs(conn: Connection, run_id: int | None = None) -> int:
    """Delete what is not kept; return how many rows went.

    With ``run_id`` (the batch's own call at the end of its run), older rows are
    looked for only behind the pairs that run wrote: only the match stage writes
    pairs and every run ends here, so a pair has older rows only when this run
    scored it again (or wrote it twice: a rule pair also scored). That is an index
    walk from the run's rows instead of a probe for every row of the table (a
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
    apart = conn.execute(text(
        "DELETE FROM match_pair WHERE id IN (SELECT p.id FROM match_pair p "
        "JOIN source_record a ON a.record_key = p.left_key "
        "JOIN source_record b ON b.record_key = p.right_key "
        "JOIN link la ON la.record_id = a.id JOIN link lb ON lb.record_id = b.id "
        "WHERE la.customer_no <> lb.customer_no "
        # the records in open tasks, found once (a correlated subquery here had SQLite
        # walk every open task for every pair: hours at a million records)
        "AND a.id NOT IN (SELECT m.record_id FROM task_member m "
        "  JOIN review_task t ON t.id = m.task_id WHERE t.status = :task_status) "
        "AND b.id NOT IN (SELECT m.record_id FROM task_member m "
        "  JOIN review_task t ON t.id = m.task_id WHERE t.status = :task_status) "
        "AND NOT EXISTS (SELECT 1 FROM decision d WHERE d.deleted_at IS NULL "
        "  AND d.left_key = p.left_key AND d.right_key = p.right_key))"),
        {"task_status": TaskStatus.OPEN}).rowcount or 0
    return int(older) + int(apart)
