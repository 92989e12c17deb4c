"""The department work API, licences and the public catalog, through the Chalice app on moto."""

from __future__ import annotations

import base64
import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import boto3
import botocore.client
import botocore.exceptions
import pytest
from chalice.test import Client
from moto.core import set_initial_no_auth_action_count

from chalicelib import licence, names, storage, uploads, workflow
from chalicelib.catalog import load_services
from chalicelib.names import Queue
from chalicelib.principal import Principal, Role
from chalicelib.routing import Decision
from chalicelib.store import cases, catalog
from tests.functional.conftest import REGION, ROOT
from tests.functional.test_workflow import (
    JOINT,
    MONDAY,
    ORG_ID,
    accepted_case,
    applicant_key,
    bearer,
    clean_queues,
    decide,
    dept_queue,
    drain,
    honour_kms_digest,
    officer,
    pilot,
    route_messages,
    variant,
)

SINGLE = variant("441200-test-ghj1", {"model": "single", "decider": None, "decider_days": 0,
                                      "stages": [{"departments": ["ghj"], "working_days": 5}]})
LEAD = variant("441200-test-lead", {"model": "lead", "decider": "fgj", "decider_days": 5,
                                    "stages": [{"departments": ["ghj", "hbj"],
                                                "working_days": 5}]})


@pytest.fixture
def client(settings) -> Iterator[Client]:
    honour_kms_digest()
    from app import app

    with Client(app, stage_name="local", project_dir=str(ROOT)) as test_client:
        yield test_client
    clean_queues("ghj", "hbj", "fgj", "xfzd", "jsj", "gsj")


def opened(settings: Any, item: dict[str, Any], at: datetime = MONDAY, **kw: Any) -> str:
    receipt = accepted_case(settings, item, now=at, **kw)
    workflow.open_case(settings, receipt, at)
    return receipt


def as_json(response: Any) -> Any:
    return json.loads(response.body)


def post(client: Client, path: str, headers: dict[str, str], body: Any = None,
         at: datetime | None = None) -> Any:
    extra = {"Content-Type": "application/json"}
    if at is not None:
        extra["X-Onestop-Test-Now"] = at.isoformat()
    return client.http.post(path, headers={**headers, **extra},
                            body=json.dumps(body or {}, ensure_ascii=False).encode())


@contextmanager
def aws_calls() -> Iterator[Counter[str]]:
    """Every AWS operation made meanwhile, by any client (boto3's or pynamodb's)."""
    seen: Counter[str] = Counter()
    original = botocore.client.BaseClient._make_api_call

    def counting(self: Any, operation: str, params: Any) -> Any:
        seen[f"{self.meta.service_model.service_name}:{operation}"] += 1
        return original(self, operation, params)

    botocore.client.BaseClient._make_api_call = counting  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        botocore.client.BaseClient._make_api_call = original  # type: ignore[method-assign]


# ---------------------------------------------------------------------------- worklists


def test_worklist_is_sorted_by_due_date_filtered_by_state_and_paged(settings, client) -> None:
    mine = [opened(settings, SINGLE, MONDAY - timedelta(days=d)) for d in (0, 7, 3)]
    headers = bearer(settings, officer("ghj"))
    answer = client.http.get("/departments/ghj/tasks", headers=headers)
    assert answer.status_code == 200, answer.body
    items = as_json(answer)["items"]
    dues = [i["due_date"] for i in items]
    assert dues == sorted(dues)
    ours = [i["receipt"] for i in items if i["receipt"] in mine]
    assert ours == [mine[1], mine[2], mine[0]]  # opened 7, 3 and 0 days before Monday
    assert all(i["state"] == "open" for i in items)
    assert answer.headers["Cache-Control"] == "no-store"

    paged: list[str] = []
    cursor = None
    while True:
        query = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = as_json(client.http.get(f"/departments/ghj/tasks{query}", headers=headers))
        paged += [i["task_id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert paged == [i["task_id"] for i in items]

    post(client, f"/departments/ghj/tasks/{mine[2]}/0/corrections", headers,
         {"missing": ["竣工图纸"]})
    corrections = as_json(client.http.get("/departments/ghj/tasks?state=correction",
                                          headers=headers))["items"]
    assert mine[2] in [i["receipt"] for i in corrections]
    still_open = as_json(client.http.get("/departments/ghj/tasks", headers=headers))["items"]
    assert mine[2] not in [i["receipt"] for i in still_open]
    assert client.http.get("/departments/ghj/tasks?state=lost",
                           headers=headers).status_code == 400


def test_an_officer_cannot_see_or_decide_another_departments_task(settings, client) -> None:
    receipt = opened(settings, SINGLE)
    stranger = bearer(settings, officer("gsj"))
    for path in ("/departments/ghj/tasks", f"/departments/ghj/tasks/{receipt}/0"):
        answer = client.http.get(path, headers=stranger)
        assert answer.status_code == 403
        assert as_json(answer)["error"]["code"] == "OTHER_DEPARTMENT"
    assert post(client, f"/departments/ghj/tasks/{receipt}/0/approve", stranger).status_code == 403
    # Under their own department's URL the task does not exist.
    assert client.http.get(f"/departments/gsj/tasks/{receipt}/0",
                           headers=stranger).status_code == 404
    assert post(client, f"/departments/gsj/tasks/{receipt}/0/approve", stranger).status_code == 404
    # A cursor made for another department's worklist is refused, not followed.
    forged = base64.urlsafe_b64encode(json.dumps({
        "receipt": {"S": receipt}, "task_key": {"S": "00#ghj"}, "department": {"S": "ghj"},
        "due_sort": {"S": "open#"}}).encode()).decode().rstrip("=")
    assert client.http.get(f"/departments/gsj/tasks?cursor={forged}",
                           headers=stranger).status_code == 400
    assert workflow.find_task(receipt, 0, "ghj").state == "open"


def test_authentication_and_roles(settings, client) -> None:
    receipt = opened(settings, SINGLE)
    path = f"/departments/ghj/tasks/{receipt}/0"
    assert client.http.get(path).status_code == 401
    assert client.http.get(path, headers={"Authorization": "Bearer nonsense"}).status_code == 401
    applicant = Principal(Role.ORGANIZATION, applicant_key("organization", ORG_ID))
    assert client.http.get(path, headers=bearer(settings, applicant)).status_code == 403
    supervisor = bearer(settings, Principal(Role.SUPERVISOR, "cert-supervisor"))
    assert client.http.get(path, headers=supervisor).status_code == 200
    assert post(client, f"{path}/approve", supervisor).status_code == 403


def test_task_detail_shows_the_case_the_application_and_materials(settings, client) -> None:
    bucket = settings.bucket(workflow.Bucket.UPLOADS)
    storage.put(bucket, uploads.object_key("upload-drawings-1"), b"%PDF-1.4 drawings")
    attachment = {"upload_id": "upload-drawings-1", "name": "竣工图纸", "sha256": "ab" * 32,
                  "size": 17}
    receipt = opened(settings, SINGLE, attachments=[attachment])
    answer = client.http.get(f"/departments/ghj/tasks/{receipt}/0",
                             headers=bearer(settings, officer("ghj")))
    assert answer.status_code == 200
    detail = as_json(answer)
    assert detail["task"]["task_id"] == f"{receipt}/0/ghj"
    assert detail["task"]["working_days_left"] is not None
    assert detail["case"]["status"] == "IN_REVIEW"
    assert detail["application"]["applicant"]["id"] == ORG_ID
    [material] = detail["materials"]
    assert material["name"] == "竣工图纸"
    assert "uploads/upload-drawings-1" in material["url"] and "Signature" in material["url"]


# ---------------------------------------------------------------------------- decisions


def test_decisions_through_the_api(settings, client) -> None:
    receipt = opened(settings, pilot(JOINT))
    ghj = bearer(settings, officer("ghj"))
    base = f"/departments/ghj/tasks/{receipt}/0"
    answer = post(client, f"{base}/deny", ghj, {"reason": "  "})
    assert answer.status_code == 400 and as_json(answer)["error"]["code"] == "INVALID_REQUEST"
    assert post(client, f"{base}/opinion", ghj, {"opinion": "同意"}).status_code == 400
    answer = post(client, f"{base}/approve", ghj, {"comment": "符合规划"})
    assert answer.status_code == 200, answer.body
    body = as_json(answer)
    assert body["task"]["decision"] == "approve" and body["case"]["status"] == "IN_REVIEW"
    again = post(client, f"{base}/approve", ghj)
    assert again.status_code == 409 and as_json(again)["error"]["code"] == "TASK_CLOSED"
    assert post(client, f"{base}/deny", ghj, {"reason": "改主意了"}).status_code == 409
    assert post(client, f"/departments/ghj/tasks/{receipt}/x/approve", ghj).status_code == 400
    for department in ("xfzd", "hbj"):
        post(client, f"/departments/{department}/tasks/{receipt}/0/approve",
             bearer(settings, officer(department)))
    answer = post(client, f"/departments/jsj/tasks/{receipt}/1/approve",
                  bearer(settings, officer("jsj")))
    assert as_json(answer)["case"]["status"] == "APPROVED"


def test_a_correction_request_stops_the_clock(settings, client) -> None:
    receipt = opened(settings, SINGLE)
    headers = bearer(settings, officer("ghj"))
    base = f"/departments/ghj/tasks/{receipt}/0"
    assert post(client, f"{base}/corrections", headers, {"missing": []}).status_code == 400
    at = MONDAY + timedelta(days=1)
    answer = post(client, f"{base}/corrections", headers,
                  {"missing": [{"name": "消防验收意见书", "note": "须加盖公章"}],
                   "note": "请一次性补齐"}, at=at)
    assert answer.status_code == 200, answer.body
    body = as_json(answer)
    assert body["case"]["status"] == "CORRECTION_REQUIRED"
    assert body["task"]["state"] == "correction"
    assert body["task"]["paused_since"] == at.isoformat()
    task = workflow.find_task(receipt, 0, "ghj")
    assert task.open_shard is None  # supervision does not count a stopped clock
    assert cases.get(receipt, consistent=True).paused_since == at
    assert post(client, f"{base}/approve", headers).status_code == 409
    assert post(client, f"{base}/corrections", headers, {"missing": ["x"]}).status_code == 409


def test_on_site_inspection_is_recorded_on_the_task(settings, client) -> None:
    receipt = opened(settings, SINGLE)
    headers = bearer(settings, officer("ghj"))
    answer = post(client, f"/departments/ghj/tasks/{receipt}/0/inspections", headers,
                  {"result": "现场与图纸一致", "inspected_at": "2026-11-24T10:00:00+08:00",
                   "inspectors": ["王工", "李工"]})
    assert answer.status_code == 201, answer.body
    [step] = as_json(answer)["task"]["steps"]
    assert step["kind"] == "inspection" and step["inspectors"] == ["王工", "李工"]
    assert workflow.find_task(receipt, 0, "ghj").state == "open"


def test_an_extension_is_granted_by_another_officer_of_the_lead(settings, client) -> None:
    receipt = opened(settings, LEAD)
    hbj = bearer(settings, officer("hbj"))
    base = f"/departments/hbj/tasks/{receipt}/0"
    assert post(client, f"{base}/extensions", hbj, {"days": 11, "reason": "x"}).status_code == 400
    answer = post(client, f"{base}/extensions", hbj, {"days": 3, "reason": "需要专家论证"})
    assert answer.status_code == 202, answer.body
    [message] = drain(dept_queue("fgj"), receipt)
    assert message["kind"] == "extension.requested" and message["extension"]["days"] == 3
    assert post(client, f"{base}/extensions", hbj, {"days": 2, "reason": "再次"}).status_code == 409

    decision_path = f"/departments/fgj/extensions/{receipt}/0/hbj"
    assert post(client, f"/departments/ghj/extensions/{receipt}/0/hbj",
                bearer(settings, officer("ghj")), {"grant": True}).status_code == 403
    before = workflow.find_task(receipt, 0, "hbj").due_date
    answer = post(client, decision_path, bearer(settings, officer("fgj", "刘局长")),
                  {"grant": True, "comment": "同意延期"})
    assert answer.status_code == 200, answer.body
    task = workflow.find_task(receipt, 0, "hbj")
    assert task.due_date == workflow.due_date(task.opened_at, 5, extension_days=3).isoformat()
    assert task.due_date > before and int(task.extension_days) == 3
    assert post(client, decision_path, bearer(settings, officer("fgj", "刘局长")),
                {"grant": True}).status_code == 409
    assert cases.get(receipt, consistent=True).due_date >= task.due_date
    assert [m["kind"] for m in drain(dept_queue("hbj"), receipt)][-1] == "task.extended"


def test_an_officer_cannot_grant_their_own_extension(settings, client) -> None:
    receipt = opened(settings, SINGLE)  # the lead is the department itself
    headers = bearer(settings, officer("ghj"))
    post(client, f"/departments/ghj/tasks/{receipt}/0/extensions", headers,
         {"days": 2, "reason": "需要补充调查"})
    answer = post(client, f"/departments/ghj/extensions/{receipt}/0/ghj", headers,
                  {"grant": True})
    assert answer.status_code == 403 and as_json(answer)["error"]["code"] == "SAME_OFFICER"


# ---------------------------------------------------------------------------- licences


def test_the_holder_downloads_the_licence_and_anyone_verifies_it(settings, client) -> None:
    receipt = opened(settings, SINGLE, tracking_code="HOLDER42")
    decide(settings, receipt, 0, "ghj", Decision.APPROVE, MONDAY)
    assert client.http.get(f"/licences/{licence.licence_id(receipt)}?code=HOLDER42"
                           ).status_code == 404  # approved, not yet signed
    for message in route_messages(receipt):
        workflow.handle(settings, message, MONDAY)
    licence_id = cases.get(receipt).licence_id
    assert client.http.get(f"/licences/{licence_id}").status_code == 404
    assert client.http.get(f"/licences/{licence_id}?code=WRONG").status_code == 404
    answer = client.http.get(f"/licences/{licence_id}?code=HOLDER42")
    assert answer.status_code == 200, answer.body
    bundle = as_json(answer)
    body = base64.b64decode(bundle["document_base64"])
    assert json.loads(body) == bundle["document"]
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = serialization.load_pem_public_key(bundle["public_key_pem"].encode())
    assert isinstance(key, ec.EllipticCurvePublicKey)
    key.verify(base64.b64decode(bundle["signature_base64"]), body, ec.ECDSA(hashes.SHA256()))
    assert "licence.pdf" in bundle["pdf_url"]
    pdf = client.http.get(f"/licences/{licence_id}?code=HOLDER42&format=pdf")
    assert pdf.status_code == 302 and "licence.pdf" in pdf.headers["Location"]

    holder = Principal(Role.ORGANIZATION, applicant_key("organization", ORG_ID))
    assert client.http.get(f"/licences/{licence_id}",
                           headers=bearer(settings, holder)).status_code == 200
    other = Principal(Role.PERSON, applicant_key("person", "110101199003070000"))
    assert client.http.get(f"/licences/{licence_id}",
                           headers=bearer(settings, other)).status_code == 404

    check = as_json(client.http.get(f"/licences/{licence_id}/verify"))
    assert check["valid"] is True and check["status"] == "valid"
    assert check["holder"]["name"].startswith("肇") and "星湖" not in check["holder"]["name"]
    assert check["document_sha256"] == bundle["document_sha256"]
    assert client.http.get("/licences/L0000000000000/verify").status_code == 404
    assert client.http.get("/licences/..%2F..%2Fx/verify").status_code == 404


# ---------------------------------------------------------------------------- the catalog


def test_catalog_search_details_and_departments_without_a_table_scan(settings, client) -> None:
    catalog.publish([item.to_dict() for item in load_services()])
    client.http.get("/services")  # warm this process's snapshot
    with aws_calls() as calls:
        page = client.http.get("/services?q=食品&online=true&limit=5")
        details = client.http.get(f"/services/{JOINT}")
        departments = client.http.get("/departments")
    assert not [c for c in calls if c.endswith(":Scan")]
    assert calls["dynamodb:Query"] == 0  # the snapshot is held in-process
    assert page.status_code == 200
    body = as_json(page)
    assert 0 < len(body["items"]) <= 5 and body["total"] >= len(body["items"])
    assert all(item["online"] and "食品" in item["name"] + item["department_name"]
               for item in body["items"])
    assert page.headers["Cache-Control"].startswith("public")
    if body["next_cursor"]:
        second = as_json(client.http.get(
            f"/services?q=食品&online=true&limit=5&cursor={body['next_cursor']}"))
        assert {i["code"] for i in second["items"]}.isdisjoint({i["code"] for i in body["items"]})
    again = client.http.get("/services?q=食品&online=true&limit=5",
                            headers={"If-None-Match": page.headers["ETag"]})
    assert again.status_code == 304

    item = as_json(details)
    labels = [s["label"] for s in item["public_standards"]]
    assert labels == ["事项名称", "承办单位", "办事程序", "资料要求", "承诺时限（工作日）",
                      "收费标准", "下载表格", "法律依据"]
    assert item["routing"]["stages"][0]["departments"][0]["name"]
    assert client.http.get("/services/441200-none-0000").status_code == 404
    assert client.http.get(f"/services/{JOINT}?version=1").status_code == 200

    listed = as_json(departments)
    assert listed["total"] == 48
    assert sum(d["services"] for d in listed["items"]) >= 494
    assert sum(1 for d in listed["items"] if d["online_services"]) >= 29
    by_department = as_json(client.http.get("/services?department=jsj&limit=100"))
    assert by_department["items"] and all(i["department"] == "jsj"
                                          for i in by_department["items"])


def test_a_department_consumer_policy_reads_only_its_own_queue(aws, settings) -> None:
    """The rendered policy names only the department's queue, and IAM (moto's) enforces it."""
    from tools import infra

    for codes in infra.department_stacks():
        template = infra.department_template(codes)
        for code in codes:
            logical = f"Dept{code.capitalize()}Queue"
            policy = template["Resources"][f"{logical}ConsumerPolicy"]["Properties"]
            [statement] = policy["PolicyDocument"]["Statement"]
            assert statement["Effect"] == "Allow"
            assert statement["Resource"] == {"Fn::GetAtt": [logical, "Arn"]}
            assert not any(a.startswith("sqs:Send") for a in statement["Action"])

    admin = boto3.client("sqs", region_name=REGION)
    own = admin.get_queue_url(QueueName=dept_queue("ghj"))["QueueUrl"]
    other = admin.get_queue_url(QueueName=dept_queue("gsj"))["QueueUrl"]
    platform = admin.get_queue_url(QueueName=names.queue_name("local", Queue.ROUTE))["QueueUrl"]
    admin.send_message(QueueUrl=own, MessageBody="{}")
    iam = boto3.client("iam", region_name=REGION)
    iam.create_user(UserName="dept-ghj-system")
    iam.attach_user_policy(UserName="dept-ghj-system",
                           PolicyArn=aws["DeptGhjQueueConsumerPolicyArn"])
    key = iam.create_access_key(UserName="dept-ghj-system")["AccessKey"]
    as_ghj = boto3.client("sqs", region_name=REGION, aws_access_key_id=key["AccessKeyId"],
                          aws_secret_access_key=key["SecretAccessKey"])

    @set_initial_no_auth_action_count(0)
    def outcomes() -> dict[str, bool]:
        found = {}
        for name, call in {
            "receive own": lambda: as_ghj.receive_message(QueueUrl=own, VisibilityTimeout=0),
            "receive other department": lambda: as_ghj.receive_message(QueueUrl=other),
            "receive platform queue": lambda: as_ghj.receive_message(QueueUrl=platform),
            "send to own": lambda: as_ghj.send_message(QueueUrl=own, MessageBody="{}"),
        }.items():
            try:
                call()
                found[name] = True
            except botocore.exceptions.ClientError:
                found[name] = False
        return found

    assert outcomes() == {"receive own": True, "receive other department": False,
                          "receive platform queue": False, "send to own": False}
    drain(dept_queue("ghj"))
