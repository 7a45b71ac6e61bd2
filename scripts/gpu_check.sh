#!/usr/bin/env bash
# One-command GPU check (issue 10): scripts/gpu_check.sh OUTDIR [--dry-run] [--parts ...]
#
# Runs, each under its own time limit (8 minutes in all on an H100/H200): every kernel of minigrad.kernels
# compiled for the device's own arch, unpatched (scripts/compile_cuda_kernels.py --device: a compile error
# shows first, in seconds), the CUDA-marked tests, captured-vs-eager optimizer steps,
# workloads A/B/C (minigrad eager and captured, PyTorch eager and CUDA graph), kernel launches
# per iteration, and the CPU-vs-CUDA sweep with its PNG. Writes gpu_check.log, one JSON file per
# part and results.json to OUTDIR. Needs no network and no install: the repository is put on
# PYTHONPATH (CuPy, NumPy, pytest and hypothesis must be there; PyTorch and POT are optional).
# --dry-run runs every part on the CuPy stand-in (minigrad/testing/cupy_standin.py) on a CPU.
set -uo pipefail
if [ $# -lt 1 ] || [ "${1#-}" != "$1" ]; then
    echo "usage: scripts/gpu_check.sh OUTDIR [--dry-run] [--parts env compile tests optimizers workloads launches sweep]" >&2
    exit 2
fi
root="$(cd "$(dirname "$0")/.." && pwd)"
export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 MPLBACKEND=Agg
exec python3 "$root/scripts/gpu_check.py" "$@"
