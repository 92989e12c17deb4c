"""The policy evaluator of the IAM-versus-calls test (tests/functional/iam.py) on its own."""

from __future__ import annotations

from typing import Any

from tests.functional.iam import Request, evaluate, load_policy, requests_of

QUEUE = "arn:aws-cn:sqs:cn-north-1:123456789012:onestop-local-notify"
TABLE = "arn:aws-cn:dynamodb:cn-north-1:123456789012:table/onestop-local-supervision"


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def test_allow_by_action_and_resource_wildcards() -> None:
    p = policy({"Effect": "Allow", "Action": ["sqs:SendMessage"],
                "Resource": ["arn:aws-cn:sqs:cn-north-1:123456789012:onestop-local-*"]})
    assert evaluate(p, Request("sqs:SendMessage", QUEUE)) == "allow"
    assert evaluate(p, Request("sqs:DeleteMessage", QUEUE)) == "implicit deny"
    assert evaluate(p, Request("sqs:SendMessage", QUEUE.replace("local", "prod"))) \
        == "implicit deny"


def test_an_explicit_deny_wins() -> None:
    p = policy({"Effect": "Allow", "Action": "sqs:*", "Resource": "*"},
               {"Effect": "Deny", "Action": "sqs:SendMessage", "Resource": QUEUE})
    assert evaluate(p, Request("sqs:SendMessage", QUEUE)) == "explicit deny"
    assert evaluate(p, Request("sqs:ReceiveMessage", QUEUE)) == "allow"


def test_leading_keys_conditions() -> None:
    p = policy({"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": TABLE,
                "Condition": {"ForAllValues:StringLike": {
                    "dynamodb:LeadingKeys": ["unsigned#*"]}}})
    [marker] = requests_of("dynamodb", "PutItem", {
        "TableName": "onestop-local-supervision", "Item": {"pk": {"S": "unsigned#R1"}}})
    [finding] = requests_of("dynamodb", "PutItem", {
        "TableName": "onestop-local-supervision", "Item": {"pk": {"S": "finding#R1"}}})
    assert evaluate(p, marker) == "allow"
    assert evaluate(p, finding) == "implicit deny"


def test_a_transaction_needs_every_item_action() -> None:
    found = requests_of("dynamodb", "TransactWriteItems", {"TransactItems": [
        {"ConditionCheck": {"TableName": "onestop-local-applications",
                            "Key": {"receipt": {"S": "R1"}}}},
        {"Put": {"TableName": "onestop-local-caselog", "Item": {"receipt": {"S": "R1"}}}},
        {"Update": {"TableName": "onestop-local-tasks", "Key": {"receipt": {"S": "R1"}}}}]})
    assert [r.action for r in found] == ["dynamodb:ConditionCheckItem", "dynamodb:PutItem",
                                         "dynamodb:UpdateItem"]


def test_unknown_condition_operators_do_not_allow() -> None:
    p = policy({"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": QUEUE,
                "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}})
    assert evaluate(p, Request("sqs:SendMessage", QUEUE)) == "implicit deny"


def test_sms_publish_and_email_sender_conditions() -> None:
    notify = load_policy("notify")
    [sms] = requests_of("sns", "Publish", {"PhoneNumber": "+8613800138000", "Message": "x"})
    [topic] = requests_of("sns", "Publish", {
        "TopicArn": "arn:aws-cn:sns:cn-north-1:123456789012:other", "Message": "x"})
    assert evaluate(notify, sms) == "allow"
    assert evaluate(notify, topic) == "implicit deny"
    [stranger] = requests_of("ses", "SendEmail", {"Source": "someone@example.cn"})
    assert evaluate(notify, stranger) == "implicit deny"


def test_the_sweeper_may_only_hand_outboxes_to_the_route_worker() -> None:
    sweep = load_policy("sweep_outbox")

    def send(queue: str) -> str:
        [request] = requests_of("sqs", "SendMessage", {
            "QueueUrl": f"https://sqs.cn-north-1.amazonaws.com.cn/123456789012/{queue}"})
        return evaluate(sweep, request)
    assert send("onestop-local-route") == "allow"
    for queue in ("onestop-local-verify", "onestop-local-notify"):
        assert send(queue) != "allow", queue
