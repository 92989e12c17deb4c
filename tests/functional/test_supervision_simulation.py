"""A small ``make simulate``: two months (New Year and the Spring Festival) replayed through the
real handlers; the kept figures must equal those recomputed from the raw cases.

It runs in its own process: the simulation deploys its own stack into its own embedded AWS.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.functional.conftest import ROOT


def test_a_small_simulation_keeps_figures_equal_to_the_raw_cases(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tools.simulate", "--months", "2", "--scale", "0.06",
         "--seed", "7", "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert "kept figures equal the recomputation: yes" in output, output[-4000:]
    assert "≠ MISMATCH" not in output
    assert "public GET /stats agrees: True" in output
    assert (tmp_path / "supervision-2026.png").stat().st_size > 10_000
