"""Tracing is off in tests and local runs, and never carries personal data."""

from __future__ import annotations

import pytest

from chalicelib import tracing


def test_disabled_tracing_is_a_no_op() -> None:
    tracing.setup(False)
    with tracing.subsegment("verify", receipt="R1", reason="MALFORMED"):
        pass


@pytest.mark.parametrize("key", ["id_number", "phone", "applicant_name", "applicant"])
def test_personal_data_is_refused_as_an_annotation(key: str) -> None:
    with pytest.raises(ValueError, match="not allowed"), tracing.subsegment("x", **{key: "v"}):
        pass
