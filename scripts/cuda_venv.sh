#!/usr/bin/env bash
# Make the CuPy environment: scripts/cuda_venv.sh [DIR] (default .venv-cuda, git-ignored).
#
# A virtual environment with CuPy 14.2 for CUDA 13 and NVRTC (scripts/cuda_requirements.txt), in which
# scripts/compile_cuda_kernels.py compiles every kernel and tests/cuda_conformance checks minigrad against real
# CuPy, on a machine without a GPU. The project's own environment stays free of CuPy. Prints the environment's
# Python on the last line; exits non-zero, saying why, if the wheels cannot be installed.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="${1:-$root/.venv-cuda}"
if [ ! -x "$dir/bin/python" ]; then
    python3 -m venv "$dir" >&2 || { echo "cuda_venv.sh: python3 -m venv $dir failed (is python3-venv installed?)" >&2; exit 1; }
fi
if ! "$dir/bin/python" -m pip install --quiet --disable-pip-version-check -r "$root/scripts/cuda_requirements.txt" >&2; then
    echo "cuda_venv.sh: could not install the CuPy environment's wheels (scripts/cuda_requirements.txt) into $dir" >&2
    exit 1
fi
"$dir/bin/python" - >&2 <<'PY' || { echo "cuda_venv.sh: CuPy or NVRTC does not load in $dir" >&2; exit 1; }
import cupy
from cupy.cuda import nvrtc
print(f"CuPy {cupy.__version__}, NVRTC {'.'.join(map(str, nvrtc.getVersion()))}")
PY
echo "$dir/bin/python"
