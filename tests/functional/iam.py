"""Every AWS call a Lambda function makes, checked against that function's IAM policy.

moto does not enforce IAM, so a policy that forgets an action passes every test and fails in
the cloud (issue 9: the sweeper could not send to the notify queue). This module

- records every AWS call at the botocore level (``BaseClient._make_api_call``, which boto3 and
  pynamodb share) while a function's handler runs: the function is a context variable set
  around each invocation of ``app.handler_map[...]`` (the Lambda handlers) and of the Chalice
  app itself (every API route is the ``api_handler`` function);
- maps each call to the IAM actions, resources and condition keys AWS would authorise it by;
- evaluates the function's policy file (``policies/local/<function>.json``): an explicit Deny
  wins, then an Allow whose actions and resources match (``fnmatch``) and whose conditions hold.
  A condition operator this evaluator does not know counts as not satisfied (the call is
  reported rather than waved through).
"""

from __future__ import annotations

import contextvars
import fnmatch
import functools
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import botocore.client

from chalicelib import names
from chalicelib.store.models import MODELS

ROOT = Path(__file__).resolve().parents[2]
STAGE = "local"
REGION = names.DEFAULT_REGION
ACCOUNT = names.LOCAL_ACCOUNT_ID
PARTITION = names.partition(REGION)

current_function: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "onestop_current_function", default=None)


@dataclass(frozen=True)
class Call:
    """One AWS call made by a function."""

    function: str
    service: str
    operation: str
    params: str  # JSON of the request (for the report), values shortened

    def __str__(self) -> str:
        return f"{self.function}: {self.service}.{self.operation} {self.params}"


@dataclass(frozen=True)
class Request:
    """What IAM authorises one call by: one action on one resource, with condition keys."""

    action: str
    resource: str
    context: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def keys(self) -> dict[str, tuple[str, ...]]:
        return dict(self.context)


@dataclass
class Recorder:
    """Calls recorded while a function's handler ran, with their IAM requests."""

    calls: list[tuple[Call, list[Request]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, function: str, service: str, operation: str,
               params: dict[str, Any]) -> None:
        requests = requests_of(service, operation, params)
        call = Call(function, service, operation, _brief(params))
        with self.lock:
            self.calls.append((call, requests))

    def mark(self) -> int:
        """Where the calls made from now on start (for ``since``)."""
        with self.lock:
            return len(self.calls)

    def functions(self, since: int = 0) -> set[str]:
        return {call.function for call, _ in self.calls[since:]}

    def denied(self, since: int = 0) -> list[str]:
        """Every recorded call some part of which the function's policy does not allow."""
        found: dict[str, None] = {}
        for call, requests in self.calls[since:]:
            policy = load_policy(call.function)
            for request in requests:
                verdict = evaluate(policy, request)
                if verdict != "allow":
                    found[f"{call.function}: {request.action} on {request.resource} "
                          f"{dict(request.context) or ''} ({verdict}; "
                          f"{call.service}.{call.operation} {call.params})"] = None
        return list(found)

    def summary(self) -> list[str]:
        """Denied (function, action, resource) across every recorded call, with counts."""
        counts: dict[tuple[str, str, str, str], int] = {}
        for call, requests in self.calls:
            policy = load_policy(call.function)
            for request in requests:
                verdict = evaluate(policy, request)
                if verdict != "allow":
                    key = (call.function, request.action, request.resource, verdict)
                    counts[key] = counts.get(key, 0) + 1
        return [f"{f}: {a} on {r} ({v}; {n} call{'s' if n > 1 else ''})"
                for (f, a, r, v), n in sorted(counts.items())]


RECORDER = Recorder()
_installed = False


def install(app: Any) -> Recorder:
    """Record AWS calls per function from now on (idempotent); returns the recorder."""
    global _installed
    if _installed:
        return RECORDER
    _installed = True
    original = botocore.client.BaseClient._make_api_call

    @functools.wraps(original)
    def make_api_call(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        function = current_function.get()
        if function is not None:
            service = self.meta.service_model.service_name
            RECORDER.record(function, service, operation_name, api_params)
        return original(self, operation_name, api_params)

    botocore.client.BaseClient._make_api_call = make_api_call  # type: ignore[method-assign]
    for name, handler in list(app.handler_map.items()):
        if name in {f.value for f in names.Function} and name != names.Function.API.value:
            app.handler_map[name] = _as(name, handler)
    chalice_type = type(app)
    chalice_type.__call__ = _as(names.Function.API.value,  # type: ignore[method-assign]
                                chalice_type.__call__)
    return RECORDER


def _as(function: str, handler: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(handler)
    def invoke(*args: Any, **kwargs: Any) -> Any:
        with running(function):
            return handler(*args, **kwargs)

    return invoke


@contextmanager
def running(function: str) -> Iterator[None]:
    """Attribute the AWS calls made inside to ``function`` (Lambda runs one at a time)."""
    token = current_function.set(function)
    try:
        yield
    finally:
        current_function.reset(token)


def _brief(params: dict[str, Any]) -> str:
    def cut(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: cut(v) for k, v in value.items()}
        if isinstance(value, list):
            return [cut(v) for v in value[:3]]
        if isinstance(value, bytes | bytearray):
            return f"<{len(value)} bytes>"
        if isinstance(value, str) and len(value) > 60:
            return value[:57] + "..."
        return value

    keep = {k: v for k, v in params.items()
            if k in {"TableName", "IndexName", "Key", "QueueName", "Bucket", "KeyId",
                     "SecretId", "TopicArn", "Source", "PhoneNumber"}}
    if "QueueUrl" in params:
        keep["Queue"] = params["QueueUrl"].rstrip("/").rsplit("/", 1)[-1]
    if "TransactItems" in params:
        keep["TransactItems"] = [next(iter(t)) + ":" + next(iter(t.values()))["TableName"]
                                 for t in params["TransactItems"]]
    if "RequestItems" in params:
        keep["RequestItems"] = sorted(params["RequestItems"])
    return json.dumps(cut(keep), ensure_ascii=False, default=str)


# ---------------------------------------------------------------------------- call -> IAM

def _arn(service: str, resource: str) -> str:
    return f"arn:{PARTITION}:{service}:{REGION}:{ACCOUNT}:{resource}"


# The attribute name each table's partition key is stored under (dynamodb:LeadingKeys).
_HASH_ATTRS = {names.table_name(STAGE, t): m.get_attributes()[m._hash_keyname].attr_name
               for t, m in MODELS.items()}


def _table(name: str, index: str | None = None) -> str:
    return _arn("dynamodb", f"table/{name}" + (f"/index/{index}" if index else ""))


def _leading_key(table: str, key: dict[str, Any] | None) -> tuple[tuple[str, tuple[str, ...]], ...]:
    attr = _HASH_ATTRS.get(table)
    if not key or attr not in key:
        return ()
    value = next(iter(key[attr].values()))
    return (("dynamodb:LeadingKeys", (str(value),)),)


_DYNAMODB_ITEM = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                  "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}


def _dynamodb(operation: str, params: dict[str, Any]) -> list[Request]:
    if operation in ("TransactWriteItems", "TransactGetItems"):
        found = []
        for entry in params["TransactItems"]:
            kind, body = next(iter(entry.items()))
            table = body["TableName"]
            found.append(Request(f"dynamodb:{_DYNAMODB_ITEM[kind]}", _table(table),
                                 _leading_key(table, body.get("Key") or body.get("Item"))))
        return found
    if operation == "BatchGetItem":
        return [Request("dynamodb:BatchGetItem", _table(table), ())
                for table in params["RequestItems"]]
    if operation == "BatchWriteItem":
        found = []
        for table, entries in params["RequestItems"].items():
            for entry in entries:
                if "PutRequest" in entry:
                    found.append(Request("dynamodb:BatchWriteItem", _table(table), ()))
                    found.append(Request("dynamodb:PutItem", _table(table),
                                         _leading_key(table, entry["PutRequest"]["Item"])))
                else:
                    found.append(Request("dynamodb:BatchWriteItem", _table(table), ()))
                    found.append(Request("dynamodb:DeleteItem", _table(table),
                                         _leading_key(table, entry["DeleteRequest"]["Key"])))
        return found
    table = params["TableName"]
    resource = _table(table, params.get("IndexName"))
    context = _leading_key(table, params.get("Key") or params.get("Item"))
    return [Request(f"dynamodb:{operation}", resource, context)]


def _queue_arn(params: dict[str, Any]) -> str:
    name = params.get("QueueName") or urlparse(params["QueueUrl"]).path.rstrip("/").split("/")[-1]
    return _arn("sqs", name)


_SQS = {"SendMessageBatch": "SendMessage", "DeleteMessageBatch": "DeleteMessage",
        "ChangeMessageVisibilityBatch": "ChangeMessageVisibility"}


def _s3(operation: str, params: dict[str, Any]) -> list[Request]:
    bucket = f"arn:{PARTITION}:s3:::{params['Bucket']}"
    obj = f"{bucket}/{params.get('Key', '')}"
    if operation in ("GetObject", "HeadObject"):
        return [Request("s3:GetObject", obj)]
    if operation in ("PutObject", "CreateMultipartUpload", "UploadPart",
                     "CompleteMultipartUpload"):
        return [Request("s3:PutObject", obj)]
    if operation == "CopyObject":
        source = params["CopySource"]
        if isinstance(source, dict):
            source = f"{source['Bucket']}/{source['Key']}"
        return [Request("s3:PutObject", obj),
                Request("s3:GetObject", f"arn:{PARTITION}:s3:::{source.lstrip('/')}")]
    if operation in ("ListObjects", "ListObjectsV2", "HeadBucket"):
        return [Request("s3:ListBucket", bucket)]
    if operation == "DeleteObject":
        return [Request("s3:DeleteObject", obj)]
    return [Request(f"s3:{operation}", obj)]


def _kms(operation: str, params: dict[str, Any]) -> list[Request]:
    key_id = params.get("KeyId", "")
    aliases = key_aliases(key_id)
    target = key_target(key_id)
    return [Request(f"kms:{operation}", _arn("kms", f"key/{target}"),
                    (("kms:ResourceAliases", tuple(aliases)),) if aliases else ())]


def key_aliases(key_id: str) -> list[str]:
    """Aliases of the key ``key_id`` names (an alias, a key id or an ARN); read from moto.

    An alias that does not exist (the previous key outside a rotation) fails with NotFound
    whatever the policy says; it is evaluated as if it named a key, so that the policy is
    checked for the day it does.
    """
    name = key_id.split(":", 5)[-1] if key_id.startswith("arn:") else key_id
    found = _kms_aliases().get(key_target(key_id), [])
    if name.startswith("alias/") and name not in found:
        found = [*found, name]
    return found


def key_target(key_id: str) -> str:
    if key_id.startswith("arn:") and ":key/" in key_id:
        return key_id.split(":key/", 1)[1]
    name = key_id.split(":", 5)[-1] if key_id.startswith("arn:") else key_id
    if name.startswith("alias/"):
        for target, aliases in _kms_aliases().items():
            if name in aliases:
                return target
        return "<unknown alias " + name + ">"
    return name


def _kms_aliases() -> dict[str, list[str]]:
    import boto3

    token = current_function.set(None)  # the evaluator's own reads are nobody's calls
    try:
        found: dict[str, list[str]] = {}
        kms = boto3.client("kms", region_name=REGION)
        for page in kms.get_paginator("list_aliases").paginate():
            for alias in page["Aliases"]:
                if "TargetKeyId" in alias:
                    found.setdefault(alias["TargetKeyId"], []).append(alias["AliasName"])
        return found
    finally:
        current_function.reset(token)


def requests_of(service: str, operation: str, params: dict[str, Any]) -> list[Request]:
    """The IAM requests that authorise one call."""
    if service == "dynamodb":
        return _dynamodb(operation, params)
    if service == "sqs":
        return [Request(f"sqs:{_SQS.get(operation, operation)}", _queue_arn(params))]
    if service == "s3":
        return _s3(operation, params)
    if service == "kms":
        return _kms(operation, params)
    if service == "secretsmanager":
        secret = params["SecretId"]
        arn = secret if secret.startswith("arn:") else _arn("secretsmanager",
                                                              f"secret:{secret}-AbCdEf")
        return [Request(f"secretsmanager:{operation}", arn)]
    if service == "sns":
        if "TopicArn" in params or "TargetArn" in params:
            return [Request(f"sns:{operation}", params.get("TopicArn") or params["TargetArn"],
                            (("sns:Protocol", ("application",)),))]
        return [Request(f"sns:{operation}", "*")]  # direct SMS: no resource, no protocol key
    if service in ("ses", "sesv2"):
        source = params.get("Source") or params.get("FromEmailAddress") or ""
        address = source.rsplit("<", 1)[-1].rstrip(">").strip()
        return [Request(f"ses:{operation}", _arn("ses", f"identity/{address}"),
                        (("ses:FromAddress", (address,)),))]
    return [Request(f"{service}:{operation}", "*")]


# ---------------------------------------------------------------------------- evaluation

@functools.cache
def load_policy(function: str) -> dict[str, Any]:
    policy: dict[str, Any] = json.loads(
        (ROOT / "policies" / STAGE / f"{function}.json").read_text(encoding="utf-8"))
    return policy


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _match(pattern: str, value: str) -> bool:
    # IAM wildcards: * and ? (no character classes); compare case-sensitively.
    return fnmatch.fnmatchcase(value, pattern.replace("[", "[[]"))


def _condition_holds(condition: dict[str, Any], keys: dict[str, tuple[str, ...]]) -> bool:
    for operator, tests in condition.items():
        qualifier, _, op = operator.rpartition(":")
        for key, expected in tests.items():
            wanted = _listed(expected)
            present = keys.get(key)
            if op == "Null":
                if (present is None) != (str(wanted[0]).lower() == "true"):
                    return False
                continue
            if op in ("StringEquals", "StringLike"):
                def one(value: str, op: str = op, wanted: list[str] = wanted) -> bool:
                    if op == "StringEquals":
                        return value in wanted
                    return any(_match(w, value) for w in wanted)

                if qualifier == "ForAllValues":
                    # As IAM: true when the key is absent or every value matches.
                    if present and not all(one(v) for v in present):
                        return False
                elif qualifier == "ForAnyValue":
                    if not present or not any(one(v) for v in present):
                        return False
                else:
                    if not present or len(present) != 1 or not one(present[0]):
                        return False
                continue
            return False  # an operator this evaluator does not know: not satisfied
    return True


def _applies(statement: dict[str, Any], request: Request) -> bool:
    actions = _listed(statement.get("Action", []))
    if not any(_match(a, request.action) for a in actions):
        return False
    if not any(_match(r, request.resource) for r in _listed(statement.get("Resource", []))):
        return False
    return _condition_holds(statement.get("Condition", {}), request.keys())


def evaluate(policy: dict[str, Any], request: Request) -> str:
    """"allow", "explicit deny" or "implicit deny" (no Allow statement matches)."""
    statements = policy["Statement"]
    if any(s["Effect"] == "Deny" and _applies(s, request) for s in statements):
        return "explicit deny"
    if any(s["Effect"] == "Allow" and _applies(s, request) for s in statements):
        return "allow"
    return "implicit deny"
