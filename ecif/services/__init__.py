"""The service layer: every write to the store goes through these modules, and
the nightly batch, the CLI, the stewards' pages and the JSON API all call
them (nomenklatura's ``Resolver`` is the model), so that a merge made by a
steward and a merge made by the batch leave the same rows.

| module | concern |
|---|---|
| ``base`` | who acts (:class:`Actor`), roles, the unit of work (one transaction) |
| ``audit`` | the audit log: one row per decision or change, with before and after |
| ``decisions`` | steward judgements: make, withdraw; contradictions refused |
| ``clusters`` | apply a new clustering: numbers, links, tombstones, merge events |
| ``feed`` | the change feed (回写) of customer-number changes |
| ``golden`` | golden records by survivorship, with history (客户信息回溯) |
| ``customers`` | look-up (following tombstones); merge, split and rollback *now* |
| ``tasks`` | review tasks: claim with expiry, release, next, comment, close |
| ``approvals`` | a steward's change waiting for a second person (maker-checker) |
| ``model_registry`` | trained models as versioned rows of their store |
| ``retention`` | what ``match_pair`` keeps |
| ``users`` | accounts of the review app (hashed passwords), logins |
| ``queue`` | what the queue and the task page read (no writes) |

Service functions take a ``Connection`` inside a transaction the caller
opened with :func:`ecif.services.base.unit_of_work` (or the batch stage's own),
and raise the error kinds of :mod:`matching.exceptions`.
"""
