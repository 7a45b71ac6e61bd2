"""scripts/compile_cuda_kernels.py with real CuPy and NVRTC: the negative control must fail (run by .ci/run in the
CuPy environment, like test_cupy_api.py; the whole compile runs as its own .ci/run step)."""
import subprocess
import sys
from pathlib import Path

import cupy  # noqa: F401  (these tests need the CuPy environment: without it they fail, never skip)

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "compile_cuda_kernels.py"


def run(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_a_broken_kernel_fails_with_the_compilers_message_and_its_name():
    proc = run("--with-broken-kernel", "--only", "minigrad_negative_control", "minigrad_relu_mask", "--jobs", "1")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "FAILED elementwise minigrad_negative_control" in proc.stdout
    assert 'error: operand of "*" must be a pointer' in proc.stdout and "y = x +* 2" in proc.stdout
    assert "FAILED: minigrad_negative_control" in proc.stdout.splitlines()[-1]
    assert "FAILED elementwise minigrad_relu_mask" not in proc.stdout  # the others still compile


def test_the_registered_kernels_compile_for_sm_80():
    proc = run("--arch", "80", "--only", "minigrad_relu_mask", "minigrad_philox", "minigrad_sample_norms",
               "--cub-block-sizes", "32", "--jobs", "2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "compiled for sm_80" in proc.stdout.splitlines()[-1]


def test_without_a_gpu_device_mode_says_so():
    proc = run("--device", "--only", "minigrad_relu_mask")
    assert proc.returncode == 2 and "--device needs a GPU" in proc.stderr
