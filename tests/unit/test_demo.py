"""The demo applicant can fill in every online item's form (the local stack relies on it)."""

from __future__ import annotations

from jsonschema import Draft202012Validator

from chalicelib.catalog import load_services
from tools.demo import sample_form


def test_sample_forms_validate_for_every_online_item() -> None:
    for item in load_services():
        if item.online:
            Draft202012Validator(item.form_schema).validate(sample_form(item.form_schema))
