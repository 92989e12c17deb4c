"""A small ``make simulate``: two months (New Year and the Spring Festival) replayed through the
real handlers; the kept figures must equal those recomputed from the raw cases.

It runs in its own process: the simulation deploys its own stack into its own embedded AWS.
That process's ``time.monotonic()`` reads as on a machine booted a minute ago (issue 9: officer
tokens were not minted for the first twenty minutes after boot).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.functional.conftest import ROOT

# ``python -m tools.simulate`` with the clock of a machine booted a minute ago.
BOOTED_A_MINUTE_AGO = ("from tests.boot_clock import booted_ago; booted_ago(60.0); "
                       "import runpy; runpy.run_module('tools.simulate', run_name='__main__', "
                       "alter_sys=True)")


def test_a_small_simulation_keeps_figures_equal_to_the_raw_cases(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", BOOTED_A_MINUTE_AGO, "--months", "2", "--scale", "0.06",
         "--seed", "7", "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert "kept figures equal the recomputation: yes" in output, output[-4000:]
    assert "≠ MISMATCH" not in output
    assert "public GET /stats agrees: True" in output
    assert (tmp_path / "supervision-2026.png").stat().st_size > 10_000
