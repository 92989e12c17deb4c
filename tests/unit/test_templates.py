"""Notification templates: one file per event, zh-CN first with English, receipt and link."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib import messages, notifications, sms

RECEIPT = "20261123ABCDEFGHJK"
FULL_ID = "110105194912310021"
BASE = "https://zwfw.zhaoqing.gov.cn"
EVENTS = {"received", "accepted", "rejected", "in_review", "stage_opened",
          "correction_required", "supplement_received", "extended", "approved",
          "licence_issued", "denied", "withdrawn", "new_task", "warning_yellow", "warning_red"}


def context(event: str, **detail: Any) -> dict[str, Any]:
    audience = "department" if event in notifications.OFFICER_EVENTS else "applicant"
    return {
        "event": event, "event_id": f"{RECEIPT}:{event}", "receipt": RECEIPT,
        "audience": audience, "service_code": "441200-jsj-0005",
        "service_name": "建设工程竣工联合验收", "status": "IN_REVIEW",
        "applicant_masked": "110***********0021", "reason": "CERT_REVOKED",
        "reason_text_zh": "签名证书已被吊销", "reason_text_en": "the certificate was revoked",
        "detail": {"missing": ["营业执照副本", "消防验收意见书"], "note": "请加盖公章",
                   "deadline": "2026-12-20", "due_date": "2026-12-07", "stage": 1, "days": 5,
                   "reason": "不符合规划条件", "working_days_left": 2, **detail},
        "department": "ghj", "department_name_zh": "市规划局",
        "department_name_en": "Planning Bureau", "at_local": "2026-11-23 10:00",
        "links": {"track": f"{BASE}/track/{RECEIPT}", "me": f"{BASE}/me/applications/{RECEIPT}",
                  "licence": f"{BASE}/licences/L{RECEIPT}",
                  "task": f"{BASE}/departments/ghj/tasks/{RECEIPT}/1"},
    }


def test_there_is_one_template_per_event() -> None:
    assert messages.events() == EVENTS
    assert notifications.PUSH_EVENTS <= EVENTS
    assert notifications.OFFICER_EVENTS <= EVENTS
    assert set(notifications.ALIASES.values()) <= EVENTS


@pytest.mark.parametrize("event", sorted(EVENTS))
def test_every_part_renders_in_chinese_and_english_with_receipt_and_link(event: str) -> None:
    rendered = messages.render(event, context(event))
    link = (f"{BASE}/departments/ghj/tasks/{RECEIPT}/1" if event in notifications.OFFICER_EVENTS
            else f"{BASE}/track/{RECEIPT}")
    for part in (rendered.title_zh, rendered.title_en, rendered.text_zh, rendered.text_en):
        assert part and "{" not in part and "None" not in part
    for part in (rendered.sms_zh, rendered.sms_en, rendered.body):
        assert RECEIPT in part and link in part
    assert RECEIPT in rendered.subject and rendered.subject.startswith("【一站式政务】")
    # zh-CN first: the email is Chinese, then English.
    assert rendered.body.index(rendered.text_zh) < rendered.body.index(rendered.text_en)
    assert len(rendered.sms_zh) <= sms.MAX_CHARS
    everything = "".join(vars(rendered).values())
    assert FULL_ID not in everything


def test_the_texts_say_what_the_applicant_needs_to_know() -> None:
    assert "签名证书已被吊销" in messages.render("rejected", context("rejected")).text_zh
    correction = messages.render("correction_required", context("correction_required"))
    assert "营业执照副本、消防验收意见书" in correction.text_zh
    assert "2026-12-20" in correction.text_zh and "市规划局" in correction.text_zh
    assert f"{BASE}/licences/L{RECEIPT}" in messages.render("approved", context("approved")).sms_zh
    assert "不符合规划条件" in messages.render("denied", context("denied")).text_zh
    assert "尊敬的申请人（证件号 110***********0021）" in messages.render(
        "accepted", context("accepted")).body


def test_english_is_the_fallback_and_chinese_the_default() -> None:
    rendered = messages.render("accepted", context("accepted"))
    assert rendered.sms("en").startswith("[OneStop]") and rendered.sms().startswith("【")
    chinese_only = messages.Rendered("标题", "", "正文", "", "短信", "", "主题", "正文")
    assert chinese_only.sms("en") == "短信" and chinese_only.title("en") == "标题"


def test_an_event_without_a_template_is_refused() -> None:
    with pytest.raises(messages.UnknownEvent):
        messages.render("party", context("accepted"))
