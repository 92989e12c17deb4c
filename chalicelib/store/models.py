"""pynamodb models, one per table: the single definition of keys and indexes.

``tools/infra.py`` renders the CloudFormation tables from these classes, so the code and the
template cannot disagree about a key or an index.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.names import Table


class _Meta:
    """Placeholder; ``bind`` fills table name, region and endpoint per stage."""

    table_name: str | None = None
    region: str | None = None
    host: str | None = None
    billing_mode = "PAY_PER_REQUEST"


class ApplicantIndex(GlobalSecondaryIndex["ApplicationModel"]):
    """An applicant's applications, newest last (``GET /me/applications``)."""

    class Meta:
        index_name = "applicant-index"
        projection = AllProjection()

    applicant_key = UnicodeAttribute(hash_key=True)
    received_at = UTCDateTimeAttribute(range_key=True)


class OutboxIndex(GlobalSecondaryIndex["ApplicationModel"]):
    """Sparse: only applications whose outbox still owes messages (``store/steps.py``)."""

    class Meta:
        index_name = "outbox-index"
        projection = KeysOnlyProjection()

    outbox = UnicodeAttribute(hash_key=True)
    outbox_at = UTCDateTimeAttribute(range_key=True)


class ApplicationModel(Model):
    """One application (case). Payload and signature bytes live in the uploads bucket."""

    class Meta(_Meta):
        logical = Table.APPLICATIONS

    receipt = UnicodeAttribute(hash_key=True)
    status = UnicodeAttribute()
    service_code = UnicodeAttribute()
    service_version = NumberAttribute(default=1)
    applicant_key = UnicodeAttribute()
    applicant_kind = UnicodeAttribute()
    applicant_masked = UnicodeAttribute()
    tracking_hash = UnicodeAttribute()
    nonce = UnicodeAttribute()
    received_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    payload_key = UnicodeAttribute()
    signature_key = UnicodeAttribute()
    payload_sha256 = UnicodeAttribute()
    attachments = ListAttribute(of=MapAttribute, default=list)
    contact: MapAttribute[str, Any] = MapAttribute(default=dict)
    reason = UnicodeAttribute(null=True)
    outbox = UnicodeAttribute(null=True)  # "pending" while the outbox owes messages
    outbox_at = UTCDateTimeAttribute(null=True)
    pending = ListAttribute(of=UnicodeAttribute, null=True)  # JSON outbox entries, oldest first
    current_stage = NumberAttribute(default=0)
    assisted = BooleanAttribute(default=False)
    verify_attempts = NumberAttribute(default=0)
    held_since = UTCDateTimeAttribute(null=True)
    signer_fingerprint = UnicodeAttribute(null=True)
    # Review (the route step and department decisions, chalicelib/workflow.py).
    review_started_at = UTCDateTimeAttribute(null=True)
    due_date = UnicodeAttribute(null=True)  # the promised time limit, ISO date (China time)
    paused_since = UTCDateTimeAttribute(null=True)  # a correction (补正) stopped the clock
    pauses = ListAttribute(of=MapAttribute, default=list)  # [{"from": iso, "to": iso}]
    extension_days = NumberAttribute(default=0)  # granted extensions (延期), working days
    supplements = ListAttribute(of=MapAttribute, default=list)  # the applicant's answers
    decided_at = UTCDateTimeAttribute(null=True)
    early_days = NumberAttribute(null=True)  # working days left at the decision (提前办结)
    denial = JSONAttribute(null=True)  # {"stage", "department", "reason"} of a DENIED case
    licence_id = UnicodeAttribute(null=True)
    assisted_by = UnicodeAttribute(null=True)  # the clerk's principal subject (窗口代办)
    applicant_index = ApplicantIndex()
    outbox_index = OutboxIndex()


class DepartmentIndex(GlobalSecondaryIndex["TaskModel"]):
    """A department's worklist: ``due_sort`` starts with the task's state, then its due date.

    ``begins_with(due_sort, "open#")`` is the open worklist sorted by due date, without a filter.
    """

    class Meta:
        index_name = "department-index"
        projection = AllProjection()

    department = UnicodeAttribute(hash_key=True)
    due_sort = UnicodeAttribute(range_key=True)


class OpenTaskIndex(GlobalSecondaryIndex["TaskModel"]):
    """Sparse: only tasks whose clock runs carry ``open_shard``, so supervision ignores the rest.

    ``open_shard`` is one of ``OPEN_SHARDS`` values (``"0"`` … ``"15"``) derived from the receipt,
    so that no single index partition is written by every task of the province.
    """

    class Meta:
        index_name = "open-index"
        projection = AllProjection()

    open_shard = UnicodeAttribute(hash_key=True)
    due_sort = UnicodeAttribute(range_key=True)


class TaskModel(Model):
    """One department's task within one stage of a case.

    ``task_key`` is ``"{stage:02d}#{department}"``: a case has at most one task per department
    and stage, and creating it is a conditional put on that key, so a redelivered route message
    never creates a second one. ``state`` is ``open`` (clock running), ``correction`` (补正:
    clock stopped since ``paused_since``) or ``closed`` (``decision`` says how).
    """

    class Meta(_Meta):
        logical = Table.TASKS

    receipt = UnicodeAttribute(hash_key=True)
    task_key = UnicodeAttribute(range_key=True)
    department = UnicodeAttribute()
    stage = NumberAttribute()
    state = UnicodeAttribute()
    due_sort = UnicodeAttribute()
    due_date = UnicodeAttribute()  # ISO date (China time); the last working day allowed
    working_days = NumberAttribute(default=0)
    service_code = UnicodeAttribute(default="")
    opened_at = UTCDateTimeAttribute()
    dispatched_at = UTCDateTimeAttribute(null=True)  # message sent to the department queue
    closed_at = UTCDateTimeAttribute(null=True)
    decision = UnicodeAttribute(null=True)  # approve | deny | opinion | cancelled
    decided_by = UnicodeAttribute(null=True)
    detail = JSONAttribute(null=True)  # the decision's reason, comment or opinion
    early_days = NumberAttribute(null=True)  # working days left when decided (提前办结)
    paused_since = UTCDateTimeAttribute(null=True)
    pauses = ListAttribute(of=MapAttribute, default=list)  # [{"from": iso, "to": iso}]
    corrections = ListAttribute(of=MapAttribute, default=list)  # what the applicant must add
    steps = ListAttribute(of=MapAttribute, default=list)  # on-site inspections (现场核查)
    extension_days = NumberAttribute(default=0)
    extension = JSONAttribute(null=True)  # a pending request: {"days", "reason", "by", "at"}
    extensions = ListAttribute(of=MapAttribute, default=list)  # decided requests
    open_shard = UnicodeAttribute(null=True)
    department_index = DepartmentIndex()
    open_index = OpenTaskIndex()


class CaseLogModel(Model):
    """Append-only, hash-chained log of a case: timeline and audit records."""

    class Meta(_Meta):
        logical = Table.CASELOG

    receipt = UnicodeAttribute(hash_key=True)
    seq = NumberAttribute(range_key=True)
    at = UTCDateTimeAttribute()
    kind = UnicodeAttribute()
    actor = UnicodeAttribute()
    public = BooleanAttribute(default=True)
    data = JSONAttribute(default=dict)
    prev_hash = UnicodeAttribute()
    hash = UnicodeAttribute()


class ClaimModel(Model):
    """Single-use claims: nonces, idempotency records of queue consumers, rate windows.

    ``state`` is what a claim's owner made of it (``DONE``, or ``ISSUED``/``USED`` for login
    challenges, ``INPROGRESS``/``SENT``/``RETRY``/``COMPLETED``/``FAILED`` for notification
    deliveries); ``counter`` is an atomic counter (delivery attempts, requests in a rate window);
    ``expires_at`` is the TTL and, while a delivery is ``INPROGRESS``, the end of its lease.
    """

    class Meta(_Meta):
        logical = Table.CLAIMS

    key = UnicodeAttribute(hash_key=True)
    state = UnicodeAttribute(default="DONE")
    data = JSONAttribute(default=dict)
    counter = NumberAttribute(null=True)
    expires_at = TTLAttribute(null=True)


class CatalogDepartmentIndex(GlobalSecondaryIndex["CatalogModel"]):
    """Items of one department."""

    class Meta:
        index_name = "department-index"
        projection = AllProjection()

    department = UnicodeAttribute(hash_key=True)
    code = UnicodeAttribute(range_key=True)


class CatalogModel(Model):
    """Versioned service items; version 0 holds the version currently in force."""

    class Meta(_Meta):
        logical = Table.CATALOG

    code = UnicodeAttribute(hash_key=True)
    version = NumberAttribute(range_key=True)
    department = UnicodeAttribute()
    document = JSONAttribute()
    department_index = CatalogDepartmentIndex()


class PrincipalDepartmentIndex(GlobalSecondaryIndex["PrincipalModel"]):
    """Sparse: enrolled officers of one department (whom a new task or a warning concerns)."""

    class Meta:
        index_name = "department-index"
        projection = AllProjection()

    department = UnicodeAttribute(hash_key=True)
    principal = UnicodeAttribute(range_key=True)


class PrincipalModel(Model):
    """Enrolled staff (officers, clerks, supervisors, admins), keyed by certificate identity.

    ``principal`` is ``fp:<SHA-256 fingerprint of the certificate>`` or ``id:<HMAC of the
    identity number>`` (never the number itself); it is also the staff member's token subject.
    """

    class Meta(_Meta):
        logical = Table.PRINCIPALS

    principal = UnicodeAttribute(hash_key=True)
    role = UnicodeAttribute()
    department = UnicodeAttribute(null=True)
    display = UnicodeAttribute(default="")
    email = UnicodeAttribute(null=True)  # where new tasks and deadline warnings are emailed
    enrolled_at = UTCDateTimeAttribute(null=True)
    department_index = PrincipalDepartmentIndex()


class NotificationModel(Model):
    """Inbox messages, per recipient, newest last.

    ``recipient`` is an applicant key, ``dept#<code>`` (a department's officers) or
    ``role#supervisor``; ``sk`` is ``<event time>#<event id>``, the same for every delivery
    attempt of one event, so a redelivered event never adds a second message.
    """

    class Meta(_Meta):
        logical = Table.NOTIFICATIONS

    recipient = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    data = JSONAttribute(default=dict)


class StatsModel(Model):
    """Statistics counters (``chalicelib/stats.py``): one item per period, shard and scope.

    ``bucket`` is ``"<period>#<shard>"`` (periods ``d2026-11-23``, ``m2026-11``, ``y2026``;
    shards ``0`` … ``STATS_SHARDS - 1`` chosen by the receipt), ``scope`` is ``all``,
    ``dept#<code>`` or ``item#<department>#<code>``. A case adds to one shard only, so no item
    is written by every case of the province; a reader adds the shards up. One query of a
    period's shard returns every scope of that period, and ``scope < "item#"`` keeps it to the
    totals and the departments. Counters are top-level numbers so that ``ADD`` creates them.
    """

    class Meta(_Meta):
        logical = Table.STATS

    bucket = UnicodeAttribute(hash_key=True)
    scope = UnicodeAttribute(range_key=True)
    received = NumberAttribute(null=True)
    accepted = NumberAttribute(null=True)
    rejected = NumberAttribute(null=True)
    finished = NumberAttribute(null=True)
    approved = NumberAttribute(null=True)
    denied = NumberAttribute(null=True)
    on_time = NumberAttribute(null=True)
    early = NumberAttribute(null=True)
    overdue = NumberAttribute(null=True)
    days_used = NumberAttribute(null=True)  # working days, summed over finished cases
    corrections = NumberAttribute(null=True)  # correction rounds, summed over finished cases
    rated = NumberAttribute(null=True)
    rating_sum = NumberAttribute(null=True)
    rating_low = NumberAttribute(null=True)
    yellow = NumberAttribute(null=True)
    red = NumberAttribute(null=True)
    escalated = NumberAttribute(null=True)
    findings = NumberAttribute(null=True)


class SupervisionDepartmentIndex(GlobalSecondaryIndex["SupervisionModel"]):
    """Sparse: warnings and findings of one department, newest last.

    ``dept_kind`` is ``warning#<dept>``, ``finding-open#<dept>`` or ``finding-closed#<dept>``.
    """

    class Meta:
        index_name = "department-index"
        projection = AllProjection()

    dept_kind = UnicodeAttribute(hash_key=True)
    raised_sort = UnicodeAttribute(range_key=True)


class OpenFindingIndex(GlobalSecondaryIndex["SupervisionModel"]):
    """Sparse: open findings only, in ``FINDING_SHARDS`` partitions, newest last."""

    class Meta:
        index_name = "open-index"
        projection = AllProjection()

    open_shard = UnicodeAttribute(hash_key=True)
    raised_sort = UnicodeAttribute(range_key=True)


class SupervisionModel(Model):
    """Electronic supervision's records (``chalicelib/store/findings.py``, ``store/audit.py``).

    ====================  ==============================  ==========================================
    ``pk``                ``sk``                          what
    ====================  ==============================  ==========================================
    ``warning#<receipt>`` ``<task>#<due>#<level>``        a deadline warning (immutable)
    ``warning#<receipt>`` ``<task>#<due>#<level>#sent``   its delivery is complete
    ``finding#<receipt>`` ``<rule>#<subject>``            a finding with its evidence
    ``rating#<receipt>``  ``rating``                      the applicant's rating (好差评), once
    ``head#<chain>``      ``<seq, 12 digits>``            a KMS-signed head of an audit chain
    ``unsigned#<shard>``  ``<chain>``                     a chain with records after its last head
    ====================  ==============================  ==========================================

    Every record is created with a conditional put, so a second pass never writes it again.
    """

    class Meta(_Meta):
        logical = Table.SUPERVISION

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = UnicodeAttribute(null=True)
    data = JSONAttribute(default=dict)
    at = UTCDateTimeAttribute(null=True)
    dept_kind = UnicodeAttribute(null=True)
    open_shard = UnicodeAttribute(null=True)
    raised_sort = UnicodeAttribute(null=True)
    marked_at = UnicodeAttribute(null=True)  # unsigned markers: the append that set it
    department_index = SupervisionDepartmentIndex()
    open_index = OpenFindingIndex()


MODELS: dict[Table, type[Model]] = {
    Table.APPLICATIONS: ApplicationModel,
    Table.TASKS: TaskModel,
    Table.CASELOG: CaseLogModel,
    Table.CLAIMS: ClaimModel,
    Table.CATALOG: CatalogModel,
    Table.PRINCIPALS: PrincipalModel,
    Table.NOTIFICATIONS: NotificationModel,
    Table.STATS: StatsModel,
    Table.SUPERVISION: SupervisionModel,
}


def bind(table_names: dict[Table, str], region: str, endpoint_url: str | None) -> None:
    """Point every model at the stage's tables (pynamodb reconnects when the name changes)."""
    for logical, model in MODELS.items():
        meta: Any = model.Meta
        meta.table_name = table_names[logical]
        meta.region = region
        meta.host = endpoint_url
        model._connection = None
