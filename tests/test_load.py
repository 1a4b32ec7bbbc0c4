"""The load run in short: ten citizens at once through the whole flow on ``python app.py``.

No time is judged here (the full run, ``python -m e2e.load``, prints the
figures): only that nobody met an error and that the database holds its
invariants afterwards (one revocation per line, one paid transition and one
confirmation email per paid request, unique numbers).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ten_citizens_at_once_meet_no_error_and_leave_the_database_whole():
    result = subprocess.run(
        [sys.executable, "-m", "e2e.load", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "all goals and invariants held" in result.stdout
    assert " 0 errors" in result.stdout
    assert "BROKEN" not in result.stdout
