"""Render the CloudFormation template, the IAM policies and the stage configuration.

Everything is derived from ``chalicelib.names`` (names), ``chalicelib.store.models`` (tables,
keys, indexes) and the department registry (``chalicelib/catalog/data/departments.json``), so
adding a department or a table is one edit followed by ``make infra``. A test fails when the
committed files differ from what this script renders.

Usage: ``python -m tools.infra`` (writes the files) or ``python -m tools.infra --check``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pynamodb.attributes import TTLAttribute

from chalicelib import names
from chalicelib.names import (
    CONSUMER_OF,
    FUNCTION_MEMORY,
    FUNCTION_TIMEOUT,
    MAX_RECEIVE_COUNT,
    STAGE_PARAMETER,
    VISIBILITY_FACTOR,
    Bucket,
    Function,
    Queue,
    Table,
)
from chalicelib.store.models import MODELS

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "infra" / "onestop.json"
POLICIES = ROOT / "policies"
CONFIG = ROOT / ".chalice" / "config.json"
DEPARTMENTS = ROOT / "chalicelib" / "catalog" / "data" / "departments.json"
# A department's own system long-polls its queue; give it time to record the task.
DEPARTMENT_VISIBILITY = 300
DEPARTMENTS_PER_STACK = 20
DLQ_RETENTION = 14 * 24 * 3600
REGION = names.DEFAULT_REGION


def departments() -> list[str]:
    """Codes of the registered departments, in registry order."""
    return [d["code"] for d in json.loads(DEPARTMENTS.read_text(encoding="utf-8"))]


def sub(text: str) -> dict[str, str]:
    return {"Fn::Sub": text}


def _keys(schema: list[dict[str, str]]) -> list[dict[str, str]]:
    # CloudFormation wants the HASH key first.
    ordered = sorted(schema, key=lambda k: k["KeyType"] != "HASH")
    return [{"AttributeName": k["AttributeName"], "KeyType": k["KeyType"]} for k in ordered]


def _table(table: Table) -> dict[str, Any]:
    model = MODELS[table]
    schema = model._get_schema()
    props: dict[str, Any] = {
        "TableName": sub(names.table_name(STAGE_PARAMETER, table)),
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": a["AttributeName"], "AttributeType": a["AttributeType"]}
            for a in schema["attribute_definitions"]
        ],
        "KeySchema": _keys(schema["key_schema"]),
        "SSESpecification": {"SSEEnabled": True},
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "DeletionProtectionEnabled": {"Fn::If": ["IsProd", True, False]},
    }
    gsis = []
    for index in schema["global_secondary_indexes"]:
        gsis.append({
            "IndexName": index["index_name"],
            "KeySchema": _keys(index["key_schema"]),
            "Projection": {"ProjectionType": index["projection"]["ProjectionType"]},
        })
    if gsis:
        props["GlobalSecondaryIndexes"] = gsis
    ttl = [name for name, attr in model.get_attributes().items()
           if isinstance(attr, TTLAttribute)]
    if ttl:
        props["TimeToLiveSpecification"] = {"AttributeName": ttl[0], "Enabled": True}
    return {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain", "Properties": props}


def _bucket(bucket: Bucket) -> dict[str, Any]:
    props: dict[str, Any] = {
        "BucketName": sub(names.bucket_name(STAGE_PARAMETER, bucket, "${AWS::AccountId}")),
        "VersioningConfiguration": {"Status": "Enabled"},
        "BucketEncryption": {"ServerSideEncryptionConfiguration": [
            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
             "BucketKeyEnabled": True}]},
        "PublicAccessBlockConfiguration": {
            "BlockPublicAcls": True, "BlockPublicPolicy": True,
            "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
        "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
    }
    if bucket is Bucket.UPLOADS:
        # Browsers PUT materials straight to S3 with the presigned URL.
        props["CorsConfiguration"] = {"CorsRules": [{
            "AllowedMethods": ["PUT"], "AllowedOrigins": ["*"], "AllowedHeaders": ["*"],
            "MaxAge": 3000}]}
        props["LifecycleConfiguration"] = {"Rules": [{
            "Id": "abort-incomplete", "Status": "Enabled",
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}]}
    return {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain", "Properties": props}


def _queue_pair(resources: dict[str, Any], outputs: dict[str, Any], logical: str,
                name: str, visibility: int, output_prefix: str, *, brief: bool = False) -> None:
    dlq_logical = f"{logical}Dlq"
    resources[dlq_logical] = {"Type": "AWS::SQS::Queue", "Properties": {
        "QueueName": sub(names.dlq_name(name)), "MessageRetentionPeriod": DLQ_RETENTION,
        "SqsManagedSseEnabled": True}}
    resources[logical] = {"Type": "AWS::SQS::Queue", "Properties": {
        "QueueName": sub(name), "VisibilityTimeout": visibility,
        "MessageRetentionPeriod": DLQ_RETENTION, "SqsManagedSseEnabled": True,
        "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": [dlq_logical, "Arn"]},
                          "maxReceiveCount": MAX_RECEIVE_COUNT}}}
    resources[f"{dlq_logical}Alarm"] = {"Type": "AWS::CloudWatch::Alarm", "Properties": {
        "AlarmName": sub(f"{names.dlq_name(name)}-not-empty"),
        "AlarmDescription": "Messages landed in a dead-letter queue: a case may be stuck.",
        "Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible",
        "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq_logical, "QueueName"]}}],
        "Statistic": "Maximum", "Period": 60, "EvaluationPeriods": 1, "Threshold": 0,
        "ComparisonOperator": "GreaterThanThreshold", "TreatMissingData": "notBreaching",
        "AlarmActions": [{"Ref": "AlarmTopicArn" if brief else "AlarmTopic"}]}}
    outputs[f"{output_prefix}Name"] = {"Value": {"Fn::GetAtt": [logical, "QueueName"]}}
    if not brief:  # department stacks keep to names (the URL and ARN follow from them)
        outputs[f"{output_prefix}Url"] = {"Value": {"Ref": logical}}
        outputs[f"{output_prefix}Arn"] = {"Value": {"Fn::GetAtt": [logical, "Arn"]}}
    outputs[f"{output_prefix}DlqName"] = {"Value": {"Fn::GetAtt": [dlq_logical, "QueueName"]}}


def department_template(codes: list[str]) -> dict[str, Any]:
    """A stack of department task queues (with DLQs, alarms and consumer policies).

    Departments live in their own stacks of at most ``DEPARTMENTS_PER_STACK`` so that a
    province's thousands of departments stay within CloudFormation's per-template limits.
    """
    resources: dict[str, Any] = {}
    outputs: dict[str, Any] = {}
    for code in codes:
        logical = names.department_logical_id(code)
        queue = names.department_queue_name(STAGE_PARAMETER, code)
        _queue_pair(resources, outputs, logical, queue, DEPARTMENT_VISIBILITY, logical,
                    brief=True)
        # What a department's own system may do: read and acknowledge its queue, nothing else.
        resources[f"{logical}ConsumerPolicy"] = {
            "Type": "AWS::IAM::ManagedPolicy", "Properties": {
                "ManagedPolicyName": sub(f"{queue}-consumer"),
                "Description": f"Department {code}: consume its own task queue only.",
                "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow",
                    "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage",
                               "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes",
                               "sqs:GetQueueUrl"],
                    "Resource": {"Fn::GetAtt": [logical, "Arn"]}}]}}}
        outputs[f"{logical}ConsumerPolicyArn"] = {"Value": {"Ref": f"{logical}ConsumerPolicy"}}
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "onestop: department task queues of one stage. Rendered by "
                       "tools/infra.py from the department registry.",
        "Parameters": {
            "Stage": {"Type": "String", "AllowedValues": list(names.STAGES),
                      "Description": "Deployment stage; part of every name."},
            "AlarmTopicArn": {"Type": "String",
                              "Description": "AlarmTopicArn output of the main stack."}},
        "Resources": resources,
        "Outputs": outputs,
    }


def department_stacks() -> list[list[str]]:
    """The registry cut into stacks of ``DEPARTMENTS_PER_STACK``."""
    codes = departments()
    return [codes[i : i + DEPARTMENTS_PER_STACK]
            for i in range(0, len(codes), DEPARTMENTS_PER_STACK)]


def template() -> dict[str, Any]:
    """The main stack: every stateful resource of one stage except department queues."""
    resources: dict[str, Any] = {}
    outputs: dict[str, Any] = {}
    for table in Table:
        logical = names.logical_id(table)
        resources[logical] = _table(table)
        outputs[names.output_name(table)] = {"Value": {"Ref": logical}}
    for bucket in Bucket:
        logical = names.logical_id(bucket)
        resources[logical] = _bucket(bucket)
        outputs[names.output_name(bucket)] = {"Value": {"Ref": logical}}
    for queue in Queue:
        timeout = FUNCTION_TIMEOUT[CONSUMER_OF[queue]]
        _queue_pair(resources, outputs, names.logical_id(queue),
                    names.queue_name(STAGE_PARAMETER, queue), VISIBILITY_FACTOR * timeout,
                    names.logical_id(queue))
    resources["PlatformSigningKey"] = {"Type": "AWS::KMS::Key", "Properties": {
        "Description": sub("onestop ${Stage}: signs licences, audit heads and tokens"),
        "KeySpec": "ECC_NIST_P256", "KeyUsage": "SIGN_VERIFY", "EnableKeyRotation": False,
        "KeyPolicy": {"Version": "2012-10-17", "Statement": [{
            "Sid": "AccountAdministers", "Effect": "Allow",
            "Principal": {"AWS": sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")},
            "Action": "kms:*", "Resource": "*"}]}}}
    resources["PlatformSigningKeyAlias"] = {"Type": "AWS::KMS::Alias", "Properties": {
        "AliasName": sub(names.key_alias(STAGE_PARAMETER)),
        "TargetKeyId": {"Ref": "PlatformSigningKey"}}}
    outputs["PlatformSigningKeyId"] = {"Value": {"Ref": "PlatformSigningKey"}}
    outputs["PlatformSigningKeyArn"] = {"Value": {"Fn::GetAtt": ["PlatformSigningKey", "Arn"]}}
    outputs["PlatformSigningKeyAlias"] = {"Value": {"Ref": "PlatformSigningKeyAlias"}}
    resources["ApplicantKeyPepper"] = {"Type": "AWS::SecretsManager::Secret", "Properties": {
        "Name": sub(names.pepper_secret_name(STAGE_PARAMETER)),
        "Description": "Keys applicant indexes (HMAC of identity numbers); never rotate "
                       "without re-keying the applicant index.",
        "GenerateSecretString": {"PasswordLength": 48, "ExcludePunctuation": True}}}
    outputs["ApplicantKeyPepperArn"] = {"Value": {"Ref": "ApplicantKeyPepper"}}
    resources["SmsTopic"] = {"Type": "AWS::SNS::Topic", "Properties": {
        "TopicName": sub(names.sms_topic_name(STAGE_PARAMETER))}}
    resources["AlarmTopic"] = {"Type": "AWS::SNS::Topic", "Properties": {
        "TopicName": sub(names.alarm_topic_name(STAGE_PARAMETER))}}
    outputs["SmsTopicArn"] = {"Value": {"Ref": "SmsTopic"}}
    outputs["AlarmTopicArn"] = {"Value": {"Ref": "AlarmTopic"}}
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "onestop: the stateful backbone of one stage (tables, queues, buckets, "
                       "signing key, topics, alarms). Rendered by tools/infra.py.",
        "Parameters": {"Stage": {"Type": "String", "AllowedValues": list(names.STAGES),
                                 "Description": "Deployment stage; part of every name."}},
        "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}},
        "Resources": resources,
        "Outputs": outputs,
    }


# ---------------------------------------------------------------------------- IAM policies

def _arn(service: str, resource: str, region: str, account: str) -> str:
    return f"arn:{names.partition(region)}:{service}:{region}:{account}:{resource}"


def policy(function: Function, stage: str, account: str = "*",
           region: str = REGION) -> dict[str, Any]:
    """Least-privilege policy of one Lambda function in one stage."""
    def table(t: Table, indexes: bool = False) -> list[str]:
        arn = _arn("dynamodb", f"table/{names.table_name(stage, t)}", region, account)
        return [arn, f"{arn}/index/*"] if indexes else [arn]

    def queue(q: Queue) -> str:
        return _arn("sqs", names.queue_name(stage, q), region, account)

    def bucket(b: Bucket, objects: bool = True) -> str:
        base = f"arn:{names.partition(region)}:s3:::{names.bucket_name(stage, b, account)}"
        return f"{base}/*" if objects else base

    dept_queues = _arn("sqs", names.department_queue_name(stage, "xx")[:-2] + "*", region,
                       account)
    key = _arn("kms", "key/*", region, account)
    read = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query",
            "dynamodb:DescribeTable"]
    write = ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"]
    consume = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
               "sqs:ChangeMessageVisibility", "sqs:GetQueueUrl"]
    send = ["sqs:SendMessage", "sqs:GetQueueUrl", "sqs:GetQueueAttributes"]
    statements: list[dict[str, Any]] = []

    def allow(sid: str, actions: list[str], resources: list[str],
              condition: dict[str, Any] | None = None) -> None:
        st: dict[str, Any] = {"Sid": sid, "Effect": "Allow", "Action": sorted(set(actions)),
                              "Resource": resources}
        if condition:
            st["Condition"] = condition
        statements.append(st)

    pepper = _arn("secretsmanager", f"secret:{names.pepper_secret_name(stage)}-*", region,
                  account)
    if function in (Function.API, Function.VERIFY, Function.ROUTE, Function.NOTIFY):
        allow("ApplicantKeyPepper", ["secretsmanager:GetSecretValue"], [pepper])
    log_group = _arn("logs", f"log-group:/aws/lambda/{names.prefix(stage)}-*", region, account)
    allow("Logs", ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
          [log_group, f"{log_group}:*"])
    # X-Ray accepts no resource-level permissions: "*" is what AWS requires here.
    allow("Tracing", ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], ["*"])
    key_condition = {"ForAnyValue:StringEquals": {"kms:ResourceAliases": names.key_alias(stage)}}

    def append_audit() -> None:
        # Audit records are appended, never updated or deleted (chalicelib/audit.py): PutItem
        # only, and the chain and the signed heads find what a PutItem without its condition
        # could overwrite. Appending also marks the chain for the next signed head; that
        # marker is the only item of the supervision table these functions may put.
        allow("AppendAuditLog", ["dynamodb:PutItem"], table(Table.CASELOG))
        allow("MarkAuditChain", ["dynamodb:PutItem"], table(Table.SUPERVISION),
              {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["unsigned#*"]}})

    if function is Function.API:
        allow("ReadTables", read, [a for t in Table for a in table(t, indexes=True)])
        allow("WriteTables", [*write, "dynamodb:DeleteItem"],
              [a for t in (Table.APPLICATIONS, Table.TASKS, Table.CLAIMS,
                           Table.CATALOG, Table.PRINCIPALS, Table.NOTIFICATIONS, Table.STATS)
               for a in table(t)])
        append_audit()
        allow("Objects", ["s3:GetObject", "s3:PutObject"],
              [bucket(Bucket.UPLOADS), bucket(Bucket.LICENCES), bucket(Bucket.EVIDENCE)])
        allow("TrustStore", ["s3:GetObject", "s3:ListBucket"],
              [bucket(Bucket.TRUST), bucket(Bucket.TRUST, objects=False)])
        # Decisions open the next stage from the API: its tasks go to the department queues.
        allow("Enqueue", send, [queue(Queue.VERIFY), queue(Queue.ROUTE), queue(Queue.NOTIFY),
                                dept_queues])
        # Tokens: signed with the key behind the alias; verified with it and, during a
        # rotation, with the previous key (chalicelib/tokens.py, "Key rotation").
        allow("PlatformKey", ["kms:Sign", "kms:GetPublicKey", "kms:DescribeKey"], [key],
              key_condition)
        # Ratings (好差评) and the findings they and supervisors' resolutions make.
        allow("SupervisionRecords", ["dynamodb:PutItem", "dynamodb:UpdateItem",
                                     "dynamodb:ConditionCheckItem"], table(Table.SUPERVISION),
              {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["rating#*", "finding#*"]}})
        allow("PreviousPlatformKey", ["kms:GetPublicKey", "kms:DescribeKey"], [key],
              {"ForAnyValue:StringEquals": {
                  "kms:ResourceAliases": names.key_alias(stage) + "-previous"}})
    elif function is Function.VERIFY:
        # Principals: an assisted application is signed by an enrolled clerk.
        allow("ReadTables", read, table(Table.APPLICATIONS) + table(Table.CLAIMS)
              + table(Table.CASELOG) + table(Table.CATALOG) + table(Table.PRINCIPALS))
        # Stats: accepted and rejected are counted as they are decided here.
        allow("WriteTables", write, table(Table.APPLICATIONS) + table(Table.CLAIMS)
              + table(Table.STATS))
        append_audit()
        allow("ReadApplications", ["s3:GetObject"], [bucket(Bucket.UPLOADS)])
        allow("TrustStore", ["s3:GetObject", "s3:ListBucket"],
              [bucket(Bucket.TRUST), bucket(Bucket.TRUST, objects=False)])
        allow("Evidence", ["s3:PutObject"], [bucket(Bucket.EVIDENCE)])
        allow("Consume", consume, [queue(Queue.VERIFY)])
        allow("Enqueue", send, [queue(Queue.ROUTE), queue(Queue.NOTIFY)])
    elif function is Function.ROUTE:
        allow("ReadTables", read, table(Table.APPLICATIONS) + table(Table.TASKS)
              + table(Table.CATALOG) + table(Table.CLAIMS) + table(Table.CASELOG))
        allow("WriteTables", write, table(Table.APPLICATIONS) + table(Table.TASKS)
              + table(Table.CLAIMS) + table(Table.STATS))
        append_audit()
        # The end-of-case review records its findings (chalicelib/supervision.py).
        allow("Findings", ["dynamodb:PutItem", "dynamodb:ConditionCheckItem"],
              table(Table.SUPERVISION),
              {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["finding#*"]}})
        allow("Licences", ["s3:PutObject", "s3:GetObject"], [bucket(Bucket.LICENCES)])
        # The licence names its holder as the signed application does.
        allow("ReadApplications", ["s3:GetObject"], [bucket(Bucket.UPLOADS)])
        allow("Consume", consume, [queue(Queue.ROUTE)])
        # Relaying an outbox (the sweeper's hand-off) sends whatever the step owed: the verify
        # message of an application, a licence's "issue", notifications, department tasks.
        allow("Enqueue", send, [queue(Queue.VERIFY), queue(Queue.ROUTE), queue(Queue.NOTIFY),
                                dept_queues])
        allow("PlatformKey", ["kms:Sign", "kms:GetPublicKey"], [key], key_condition)
    elif function is Function.NOTIFY:
        allow("ReadTables", read, table(Table.APPLICATIONS) + table(Table.CLAIMS)
              + table(Table.CASELOG) + table(Table.CATALOG) + table(Table.NOTIFICATIONS)
              + table(Table.PRINCIPALS, indexes=True))
        allow("WriteTables", write, table(Table.NOTIFICATIONS) + table(Table.CLAIMS))
        append_audit()
        allow("Consume", consume, [queue(Queue.NOTIFY)])
        # A failed channel is re-queued alone with a delay (backoff); after its budget it goes
        # to the dead-letter queue itself, so that the other channels are not held back.
        allow("Enqueue", send, [queue(Queue.NOTIFY),
                                _arn("sqs", names.dlq_name(names.queue_name(stage, Queue.NOTIFY)),
                                     region, account)])
        # SMS to a phone number has no resource ARN: AWS requires "*" for direct publishing;
        # the condition keeps it to SMS only (no topic or endpoint delivery).
        allow("Sms", ["sns:Publish"], ["*"], {"Null": {"sns:Protocol": "true"}})
        # Sending identities may be domains or addresses; the condition pins the sender.
        allow("Email", ["ses:SendEmail", "ses:SendRawEmail"],
              [_arn("ses", "identity/*", region, account)],
              {"StringEquals": {"ses:FromAddress": names.email_sender(stage)}})
    elif function is Function.SUPERVISE:
        # Running clocks (the tasks' sparse open-index), its own records, the audit chains.
        allow("ReadTables", read, table(Table.TASKS, indexes=True)
              + table(Table.SUPERVISION, indexes=True) + table(Table.CASELOG))
        # Warnings and signed heads (conditional puts), their counters (one transaction);
        # DeleteItem only for the "chain needs a signed head" markers it has served.
        allow("WriteTables", write, table(Table.SUPERVISION) + table(Table.STATS))
        allow("ServedMarkers", ["dynamodb:DeleteItem"], table(Table.SUPERVISION),
              {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["unsigned#*"]}})
        append_audit()
        allow("Enqueue", send, [queue(Queue.NOTIFY)])
        # Signs audit chain heads with the platform key.
        allow("PlatformKey", ["kms:Sign", "kms:DescribeKey"], [key], key_condition)
    elif function is Function.SWEEP:
        # It only finds the cases whose outbox is owed (a sparse index) and hands each to the
        # route worker, which delivers it (chalicelib/outbox.py).
        allow("ReadTables", ["dynamodb:Query"], table(Table.APPLICATIONS, indexes=True))
        allow("Enqueue", send, [queue(Queue.ROUTE)])
    return {"Version": "2012-10-17", "Statement": statements}


def department_template_path(number: int) -> Path:
    """Where the ``number``-th department stack's template lives (1-based)."""
    return TEMPLATE.parent / f"departments-{number}.json"


def policy_path(stage: str, function: Function) -> Path:
    """Where the policy file of ``function`` in ``stage`` lives."""
    return POLICIES / stage / f"{function.value}.json"


# ---------------------------------------------------------------------------- chalice config

def environment(stage: str, account: str, region: str = REGION) -> dict[str, str]:
    """Environment variables of every function: one per resource name."""
    env = {"ONESTOP_STAGE": stage, "ONESTOP_KEY_ALIAS": names.key_alias(stage),
           "ONESTOP_SMS_TOPIC_ARN":
               f"arn:{names.partition(region)}:sns:{region}:{account}:"
               f"{names.sms_topic_name(stage)}",
           "ONESTOP_TRACING": "off" if stage == "local" else "on",
           "ONESTOP_PEPPER_SECRET": names.pepper_secret_name(stage)}
    env.update({names.env_var(t): names.table_name(stage, t) for t in Table})
    env.update({names.env_var(q): names.queue_name(stage, q) for q in Queue})
    env.update({names.env_var(b): names.bucket_name(stage, b, account) for b in Bucket})
    return env


def chalice_config(accounts: dict[str, str] | None = None) -> dict[str, Any]:
    """``.chalice/config.json``: stages, per-function policies, timeouts and memory."""
    accounts = accounts or {}
    stages: dict[str, Any] = {}
    for stage in names.STAGES:
        account = accounts.get(stage, names.LOCAL_ACCOUNT_ID if stage == "local" else "*")
        functions = {}
        for function in Function:
            functions[function.value] = {
                "iam_policy_file": f"../policies/{stage}/{function.value}.json",
                "lambda_timeout": FUNCTION_TIMEOUT[function],
                "lambda_memory_size": FUNCTION_MEMORY[function],
            }
        stages[stage] = {
            "api_gateway_stage": "api",
            "autogen_policy": False,
            "xray": stage != "local",
            "environment_variables": environment(stage, account),
            "lambda_functions": functions,
        }
    return {"version": "2.0", "app_name": names.APP_NAME, "automatic_layer": False,
            "stages": stages}


def render(accounts: dict[str, str] | None = None) -> dict[Path, str]:
    """Every generated file and its content."""
    def dump(obj: Any) -> str:
        return json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=False) + "\n"

    files = {TEMPLATE: dump(template()), CONFIG: dump(chalice_config(accounts))}
    for old in TEMPLATE.parent.glob("departments-*.json"):
        files[old] = ""  # a stack that no longer exists is emptied, then removed by main()
    for number, codes in enumerate(department_stacks(), start=1):
        files[department_template_path(number)] = dump(department_template(codes))
    for stage in names.STAGES:
        account = (accounts or {}).get(stage, names.LOCAL_ACCOUNT_ID if stage == "local" else "*")
        for function in Function:
            files[policy_path(stage, function)] = dump(policy(function, stage, account))
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a file is out of date")
    args = parser.parse_args(argv)
    stale = []
    for path, content in render().items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current != content:
            stale.append(path)
            if args.check:
                continue
            if content:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(content, encoding="utf-8")
            else:
                path.unlink()
    if args.check and stale:
        print("out of date (run make infra):", *map(str, stale), sep="\n  ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
