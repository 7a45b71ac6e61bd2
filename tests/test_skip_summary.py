"""The end of a pytest run says why tests were skipped (tests/conftest.py's pytest_terminal_summary)."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_skipped_tests_are_counted_by_reason(tmp_path):
    (tmp_path / "conftest.py").write_text("from tests.conftest import pytest_terminal_summary  # noqa: F401\n")
    (tmp_path / "test_some.py").write_text(
        "import pytest\n"
        "@pytest.mark.parametrize('i', range(3))\n"
        "def test_gpu(i):\n    pytest.skip('no GPU here')\n"
        "@pytest.mark.skipif(True, reason='torch is absent')\n"
        "def test_torch():\n    pass\n"
        "def test_runs():\n    pass\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path),
                          "-c", os.devnull, str(tmp_path)], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if "4 skipped, by reason" in line)
    assert lines[start + 1].split() == ["3", "no", "GPU", "here"]
    assert lines[start + 2].split() == ["1", "torch", "is", "absent"]
