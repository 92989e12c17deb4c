"""The template, the policies and the stage configuration agree with the code's names."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from chalicelib import names
from chalicelib.names import (
    CONSUMER_OF,
    FUNCTION_TIMEOUT,
    MAX_RECEIVE_COUNT,
    Bucket,
    Function,
    Queue,
    Table,
)
from chalicelib.settings import Settings
from chalicelib.store.models import MODELS
from tools import infra

ROOT = Path(__file__).resolve().parents[2]


def _templates() -> dict[str, dict]:
    return {p.name: json.loads(p.read_text()) for p in sorted((ROOT / "infra").glob("*.json"))}


def _resources(kind: str) -> dict[str, dict]:
    found = {}
    for template in _templates().values():
        for logical, resource in template["Resources"].items():
            if resource["Type"] == kind:
                found[logical] = resource
    return found


def _name(prop: object, stage: str) -> str:
    assert isinstance(prop, dict) and "Fn::Sub" in prop, prop
    return prop["Fn::Sub"].replace("${Stage}", stage).replace("${AWS::AccountId}",
                                                              names.LOCAL_ACCOUNT_ID)


def test_generated_files_are_up_to_date() -> None:
    assert infra.main(["--check"]) == 0, "run `make infra` and commit the result"


@pytest.mark.parametrize("stage", names.STAGES)
def test_code_uses_exactly_the_names_the_template_creates(stage: str) -> None:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    env = dict(config["stages"][stage]["environment_variables"])
    env = {k: v.replace("-*", f"-{names.LOCAL_ACCOUNT_ID}") if k.startswith("ONESTOP_BUCKET")
           else v for k, v in env.items()}
    settings = Settings.from_env(env)
    tables = {_name(r["Properties"]["TableName"], stage)
              for r in _resources("AWS::DynamoDB::Table").values()}
    assert set(settings.tables.values()) == tables
    queues = {_name(r["Properties"]["QueueName"], stage)
              for r in _resources("AWS::SQS::Queue").values()}
    used = set(settings.queues.values()) | {settings.department_queue(c)
                                            for c in infra.departments()}
    assert used | {names.dlq_name(q) for q in used} == queues
    buckets = {_name(r["Properties"]["BucketName"], stage)
               for r in _resources("AWS::S3::Bucket").values()}
    assert set(settings.buckets.values()) == buckets
    aliases = {_name(r["Properties"]["AliasName"], stage)
               for r in _resources("AWS::KMS::Alias").values()}
    assert aliases == {settings.key_alias}


def test_tables_have_the_indexes_the_models_query() -> None:
    tables = {r["Properties"]["TableName"]["Fn::Sub"]: r["Properties"]
              for r in _resources("AWS::DynamoDB::Table").values()}
    for table, model in MODELS.items():
        props = tables[names.table_name(names.STAGE_PARAMETER, table)]
        declared = {i["IndexName"] for i in props.get("GlobalSecondaryIndexes", [])}
        assert declared == {i["index_name"] for i in model._get_schema()[
            "global_secondary_indexes"]}
        assert props["SSESpecification"]["SSEEnabled"] is True
        assert props["BillingMode"] == "PAY_PER_REQUEST"


def test_every_queue_has_a_dead_letter_queue_and_an_alarm() -> None:
    queues = _resources("AWS::SQS::Queue")
    alarms = {a["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
              for a in _resources("AWS::CloudWatch::Alarm").values()}
    dlqs = {q for q in queues if q.endswith("Dlq")}
    assert dlqs and alarms == dlqs
    for logical, queue in queues.items():
        if logical in dlqs:
            continue
        redrive = queue["Properties"]["RedrivePolicy"]
        assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": [f"{logical}Dlq", "Arn"]}
        assert redrive["maxReceiveCount"] >= 5 and MAX_RECEIVE_COUNT >= 5


def test_visibility_timeout_is_six_times_the_consumers_timeout() -> None:
    queues = _resources("AWS::SQS::Queue")
    for queue, function in CONSUMER_OF.items():
        visibility = queues[names.logical_id(queue)]["Properties"]["VisibilityTimeout"]
        assert visibility >= 6 * FUNCTION_TIMEOUT[function]


def test_buckets_are_encrypted_versioned_and_private() -> None:
    buckets = _resources("AWS::S3::Bucket")
    assert len(buckets) == len(Bucket)
    for bucket in buckets.values():
        props = bucket["Properties"]
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert all(props["PublicAccessBlockConfiguration"].values())


def test_outputs_name_every_resource_and_the_contract_output_exists() -> None:
    main = _templates()["onestop.json"]
    outputs = main["Outputs"]
    assert "TrustBucketName" in outputs  # pinned by the contract
    for table in Table:
        assert names.output_name(table) in outputs
    for queue in Queue:
        assert {f"{names.logical_id(queue)}{s}" for s in ("Name", "Url", "Arn", "DlqName")} \
            <= set(outputs)
    department_outputs = {k for t in _templates().values() if "AlarmTopicArn" in t["Parameters"]
                          for k in t["Outputs"]}
    for code in infra.departments():
        logical = names.department_logical_id(code)
        assert {f"{logical}Name", f"{logical}DlqName", f"{logical}ConsumerPolicyArn"} \
            <= department_outputs


def test_department_queue_per_registered_department() -> None:
    codes = infra.departments()
    assert len(codes) == len(set(codes)) >= 1
    assert all(re.fullmatch(r"[a-z0-9]{2,12}", c) for c in codes)
    policies = _resources("AWS::IAM::ManagedPolicy")
    for code in codes:
        logical = names.department_logical_id(code)
        statement = policies[f"{logical}ConsumerPolicy"]["Properties"]["PolicyDocument"][
            "Statement"]
        # A department's system reads its own queue and nothing else.
        assert [s["Resource"] for s in statement] == [{"Fn::GetAtt": [logical, "Arn"]}]


def test_templates_fit_cloudformation_limits() -> None:
    for name, template in _templates().items():
        assert len(template["Resources"]) <= 500, name
        assert len(template["Outputs"]) <= 200, name
        assert len(json.dumps(template, separators=(",", ":"))) <= 51_200, name


def test_functions_are_configured_per_stage() -> None:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    for stage in names.STAGES:
        cfg = config["stages"][stage]
        assert cfg["autogen_policy"] is False
        assert cfg["xray"] is (stage != "local")
        assert set(cfg["lambda_functions"]) == {f.value for f in Function}
