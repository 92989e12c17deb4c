"""One source of truth for every resource name.

The CloudFormation template (``tools/infra.py``), the IAM policies, the stage configuration and
the running code all derive names from here, and a test checks that the names the code uses are
exactly those the template creates.
"""

from __future__ import annotations

import re
from enum import Enum

APP_NAME = "onestop"
STAGES = ("local", "dev", "prod")
DEFAULT_REGION = "cn-north-1"
# moto's fixed account id; the cloud stages get theirs from the deployed stack's outputs.
LOCAL_ACCOUNT_ID = "123456789012"


class Queue(str, Enum):
    """Platform queues consumed by our own Lambda functions."""

    VERIFY = "verify"
    ROUTE = "route"
    NOTIFY = "notify"


class Table(str, Enum):
    """DynamoDB tables (logical names)."""

    APPLICATIONS = "applications"
    TASKS = "tasks"
    CASELOG = "caselog"
    CLAIMS = "claims"
    CATALOG = "catalog"
    PRINCIPALS = "principals"
    NOTIFICATIONS = "notifications"
    STATS = "stats"
    SUPERVISION = "supervision"


class Bucket(str, Enum):
    """S3 buckets (logical names)."""

    UPLOADS = "uploads"
    TRUST = "trust"
    LICENCES = "licences"
    EVIDENCE = "evidence"


class Function(str, Enum):
    """Lambda functions, as chalice names them in ``app.py``."""

    API = "api_handler"
    VERIFY = "verify"
    ROUTE = "route"
    NOTIFY = "notify"
    SUPERVISE = "supervise"
    SWEEP = "sweep_outbox"


# Which platform queue each consuming function reads.
CONSUMER_OF: dict[Queue, Function] = {
    Queue.VERIFY: Function.VERIFY,
    Queue.ROUTE: Function.ROUTE,
    Queue.NOTIFY: Function.NOTIFY,
}

# Lambda timeouts in seconds; queue visibility timeouts derive from them (6x, as AWS advises).
FUNCTION_TIMEOUT: dict[Function, int] = {
    Function.API: 29,
    Function.VERIFY: 30,
    Function.ROUTE: 30,
    Function.NOTIFY: 60,
    Function.SUPERVISE: 120,
    Function.SWEEP: 60,
}
FUNCTION_MEMORY: dict[Function, int] = {
    Function.API: 512,
    Function.VERIFY: 1024,
    Function.ROUTE: 256,
    Function.NOTIFY: 256,
    Function.SUPERVISE: 512,
    Function.SWEEP: 256,
}
VISIBILITY_FACTOR = 6
MAX_RECEIVE_COUNT = 5

_DEPT_CODE = re.compile(r"^[a-z0-9]{2,12}$")


# In the CloudFormation template the stage is a parameter, substituted by ``Fn::Sub``.
STAGE_PARAMETER = "${Stage}"


def partition(region: str) -> str:
    """AWS partition of a region (the China regions have their own)."""
    return "aws-cn" if region.startswith("cn-") else "aws"


def prefix(stage: str) -> str:
    """Common prefix of every resource of ``stage``."""
    if stage not in STAGES and stage != STAGE_PARAMETER:
        raise ValueError(f"unknown stage {stage!r}")
    return f"{APP_NAME}-{stage}"


def queue_name(stage: str, queue: Queue) -> str:
    """Name of a platform queue."""
    return f"{prefix(stage)}-{queue.value}"


def department_queue_name(stage: str, department: str) -> str:
    """Name of a department's task queue."""
    if not _DEPT_CODE.match(department):
        raise ValueError(f"invalid department code {department!r}")
    return f"{prefix(stage)}-dept-{department}"


def dlq_name(name: str) -> str:
    """Name of the dead-letter queue of the queue called ``name``."""
    return f"{name}-dlq"


def table_name(stage: str, table: Table) -> str:
    """Name of a DynamoDB table."""
    return f"{prefix(stage)}-{table.value}"


def bucket_name(stage: str, bucket: Bucket, account_id: str) -> str:
    """Name of an S3 bucket; bucket names are global, so the account id is part of it."""
    return f"{prefix(stage)}-{bucket.value}-{account_id}"


def key_alias(stage: str) -> str:
    """Alias of the platform's KMS signing key."""
    return f"alias/{prefix(stage)}-platform-signing"


def sms_topic_name(stage: str) -> str:
    """Name of the SNS topic used for SMS and alarms."""
    return f"{prefix(stage)}-sms"


def email_sender(stage: str) -> str:
    """The address notification emails come from."""
    if stage == "prod":
        return "noreply@onestop.gov.cn"
    return f"noreply@{prefix(stage)}.onestop.gov.cn"


def pepper_secret_name(stage: str) -> str:
    """Secrets Manager name of the pepper that keys applicant indexes (HMAC)."""
    return f"{prefix(stage)}/applicant-key-pepper"


def alarm_topic_name(stage: str) -> str:
    """Name of the SNS topic that DLQ alarms notify."""
    return f"{prefix(stage)}-alarms"


def env_var(kind: Enum) -> str:
    """Environment variable carrying the physical name of a logical resource."""
    return f"ONESTOP_{type(kind).__name__.upper()}_{kind.name}"


def output_name(kind: Enum, attribute: str = "Name") -> str:
    """CloudFormation output key for a logical resource, e.g. ``TrustBucketName``.

    The contract pins ``TrustBucketName``; every other output follows the same pattern.
    """
    return f"{logical_id(kind)}{attribute}"


def logical_id(kind: Enum) -> str:
    """CloudFormation logical id of a logical resource, e.g. ``ApplicationsTable``."""
    word = "".join(part.capitalize() for part in kind.value.split("_"))
    return f"{word}{type(kind).__name__}"


def department_logical_id(department: str) -> str:
    """CloudFormation logical id of a department's queue."""
    return f"Dept{department.capitalize()}Queue"
