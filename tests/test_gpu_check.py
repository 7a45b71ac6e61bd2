"""scripts/gpu_check.sh exercised on the CPU: every part against the CuPy stand-in (--dry-run)."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "gpu_check.sh"


def run(out, *args, timeout=600):
    return subprocess.run(["bash", str(SCRIPT), str(out), *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def test_usage_error_without_an_outdir():
    proc = run("--dry-run")
    assert proc.returncode == 2 and "usage: scripts/gpu_check.sh OUTDIR" in proc.stderr


def test_dry_run_writes_a_result_per_part(tmp_path):
    proc = run(tmp_path, "--dry-run", "--parts", "env", "optimizers", "sweep")
    results = json.loads((tmp_path / "results.json").read_text())
    assert [k for k in results if k != "total_seconds"] == ["env", "optimizers", "sweep"], proc.stdout
    assert results["env"]["result"]["cupy"].endswith("-standin")
    assert set(results["optimizers"]["result"]) == {"sgd", "sgd-momentum", "rmsprop", "adam", "adam-amsgrad"}
    assert all(r["equal"] is True for r in results["optimizers"]["result"].values())  # captured == eager
    assert results["sweep"]["status"] == "ok" and (tmp_path / "sweep.png").exists()
    assert (tmp_path / "gpu_check.log").exists()


@pytest.mark.slow
def test_dry_run_of_every_part(tmp_path):
    proc = run(tmp_path, "--dry-run", timeout=900)
    results = json.loads((tmp_path / "results.json").read_text())
    assert all(results[p]["status"] == "ok" for p in ("env", "tests", "optimizers", "workloads", "launches",
                                                      "sweep")), proc.stdout
    assert results["launches"]["result"]["minigrad_graph_nodes_per_iteration"] > 0
