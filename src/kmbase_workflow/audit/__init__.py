"""The audit (第二十条): verify everything the library acts on against the hash chain, and
anchor the chains outside the database with signed checkpoints.

What is bound to the chain (see ``docs/explanation/audit.md`` for the threat model):

- each history entry (format 2) carries `case_digest` of the case after its step: the whole
  case in canonical JSON but its application, which the declaration binds once by
  `application_digest` (it never changes after); so the stored case must match the newest
  entry (its state, validity, decisions) and the stored application the declaration;
- each entry carries `event_digest` of every event it emitted, so an outbox event that was
  edited, deleted, or inserted without an entry (or whose entry was cut) shows;
- stores that expose their rows as stored (`RawRowStore`, the SQL stores) have every
  summary and indexed column checked against the data it summarises;
- each declaration round has a chain of its own (``round:2025``) whose entries carry
  `round_digest` of the round as opened, so the stored round (its window, its notice) must
  match the newest entry.

Plain verification (`verify_case`, `verify_store`) cannot tell a chain re-sealed with plain
SHA-256 from a real one, nor a case cut back with its events: anyone can recompute SHA-256.
A `Checkpoint` of every chain head and of the outbox, signed with HMAC-SHA256 under a key the
database administrator does not hold (`load_key`), can: `verify_store` with a checkpoint
finds every head that no longer lies on its chain and every outbox change before it.

The package's rooms: ``_store_view`` (what a store shows the audit), ``_verify`` (the
verifier), ``_checkpoints`` (signed checkpoints) and ``_report`` (what the audit reports).
The digests the entries bind are the chain's (`kmbase_workflow.history`), re-exported here.
"""

from __future__ import annotations

from ..history import application_digest, case_digest, event_digest, round_digest
from ..stores import RawRowStore
from ._checkpoints import (
    AUDIT_KEY_ENVIRONMENT_VARIABLE,
    CHECKPOINT_FORMAT,
    ChainHead,
    Checkpoint,
    checkpoint,
    load_key,
)
from ._report import AuditFinding, AuditReport
from ._verify import verify_case, verify_event, verify_store

__all__ = [
    "AUDIT_KEY_ENVIRONMENT_VARIABLE",
    "CHECKPOINT_FORMAT",
    "AuditFinding",
    "AuditReport",
    "ChainHead",
    "Checkpoint",
    "RawRowStore",
    "application_digest",
    "case_digest",
    "checkpoint",
    "event_digest",
    "load_key",
    "round_digest",
    "verify_case",
    "verify_event",
    "verify_store",
]
