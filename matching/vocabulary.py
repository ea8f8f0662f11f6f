"""The store's vocabulary, in one place: judgements, link types, task types and
statuses, run statuses, event and change types, pair decisions, roles.

Every module that writes or reads one of these values (``models/``,
``matching/engine``, ``ecif/``, ``review_app/``) imports it from here; no
status or type is spelled as a bare string anywhere else. Each is a
``StrEnum``, so a member *is* its string: it binds to SQL, serialises to JSON
and compares equal to the stored text unchanged.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "Judgement", "DecisionScope", "LinkType", "TaskType", "TaskStatus", "RunStatus",
    "IngestStatus", "BatchStage", "CustomerStatus", "EventType", "ChangeType", "PairDecision",
    "Role", "CustomerType", "RequestStatus", "StewardAction", "ApiScope", "PENDING_LINK",
    "BATCH_ACTOR",
]


class Judgement(StrEnum):
    """A steward's judgement on two records (or customers)."""

    MUST_LINK = "must_link"  # one customer
    CANNOT_LINK = "cannot_link"  # never one customer (a split leaves these too)


class DecisionScope(StrEnum):
    RECORD = "record"  # left/right are record keys "SYS:ID"
    CUSTOMER = "customer"  # left/right are customer numbers


class LinkType(StrEnum):
    """How a source record came to its customer."""

    NEW = "new"  # alone: a customer of its own
    AUTO_RULE = "auto_rule"  # a strong rule
    AUTO_MODEL = "auto_model"  # the probabilistic model's auto-merge tier
    MANUAL = "manual"  # a steward's decision (merge, split, rollback)


#: ``ecif export links`` shows a record no batch has linked yet with this link type.
PENDING_LINK = "pending"

#: Who the nightly batch writes as (events, task closures, audit rows).
BATCH_ACTOR = "batch"


class TaskType(StrEnum):
    PERSON_SUSPECT = "person_suspect"
    ORG_SUSPECT_GROUP = "org_suspect_group"
    IDENTITY_CHANGE = "identity_change"  # a manually linked record changed identity
    QA_SAMPLE = "qa_sample"  # a sampled pair to judge for the QA report (ecif qa sample)


class TaskStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class RunStatus(StrEnum):
    """A batch run's status (系统状态表)."""

    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class BatchStage(StrEnum):
    """The nightly batch's stages, in order (``batch_run.stage``: the last one done)."""

    STANDARDISE = "standardise"
    MATCH = "match"
    MERGE = "merge"
    GOLDEN = "golden"
    TASKS = "tasks"
    CHANGES = "changes"


class IngestStatus(StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class CustomerStatus(StrEnum):
    ACTIVE = "active"
    MERGED = "merged"  # a tombstone: ``merged_into`` names the survivor


class EventType(StrEnum):
    """What a merge event records (every one can be rolled back)."""

    MERGE = "merge"  # the batch joined customers
    SPLIT = "split"  # the batch split a customer
    MANUAL_MERGE = "manual_merge"  # a steward joined customers (from a task or a search)
    MANUAL_SPLIT = "manual_split"  # a steward moved records out into a new customer
    ROLLBACK = "rollback"  # an earlier event undone


class ChangeType(StrEnum):
    """The change feed (回写) downstream systems follow."""

    MERGED_INTO = "merged_into"  # customer_no is now a tombstone of related_customer_no
    SPLIT_FROM = "split_from"  # customer_no was made from records of related_customer_no


class PairDecision(StrEnum):
    """What became of a kept pair (``match_pair.decision``)."""

    AUTO = "auto"  # scored, and the two records ended in one customer
    SUSPECT = "suspect"  # scored, and left apart (a question for a steward)
    RULE = "rule"  # a strong rule pair


class Role(StrEnum):
    VIEWER = "viewer"  # read-only, PII masked
    STEWARD = "steward"  # works tasks
    APPROVER = "approver"  # second pair of eyes
    ADMIN = "admin"  # users and API keys


class CustomerType(StrEnum):
    PERSON = "P"
    ORGANISATION = "G"


class RequestStatus(StrEnum):
    """A steward's change waiting for a second person (maker-checker, 审核)."""

    PENDING = "pending"
    APPROVED = "approved"  # applied
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"  # by the steward who asked


class StewardAction(StrEnum):
    """What a steward can ask for; each may be configured to need approval."""

    MERGE = "merge"  # merge the customers of a task (all, or the chosen records')
    FORCE_MERGE = "force_merge"  # merge customers found by search (人工强制归并)
    NOT_DUPLICATE = "not_duplicate"  # the customers of a task are different people
    SPLIT = "split"  # move records out into a new customer (拆分)
    ROLLBACK = "rollback"  # undo a merge event (回退)


class ApiScope(StrEnum):
    """What an integrator's API key may do."""

    MATCH = "match"  # POST /api/v1/match-check
    REGISTER = "register"  # POST /api/v1/customers, PUT .../records/...
    READ = "read"  # GET /api/v1/customers/{no}
    PII = "pii"  # see resident IDs and mobiles unmasked
