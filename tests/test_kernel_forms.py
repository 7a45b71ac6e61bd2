"""The kernel registry, the argument forms of the CUDA kernels (minigrad.testing.kernel_forms) and
scripts/compile_cuda_kernels.py, without CuPy (the compile itself and the checks against real CuPy run
in .ci/run's CuPy environment: tests/cuda_conformance)."""
import ast
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import minigrad
from minigrad import kernels
from minigrad.testing import cupy_standin, kernel_forms
from minigrad.testing.kernel_forms import Layout, elementwise_form, reduction_form

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "compile_cuda_kernels.py"


def array(shape, dtype=np.float32, transpose=False) -> Layout:
    a = np.empty(shape[::-1] if transpose else shape, dtype)
    a = a.T if transpose else a
    return Layout.of(a.dtype, a.shape, a.strides)


# ----------------------------------------------------------------------------- forms
def test_a_bias_broadcast_over_the_batch_keeps_two_axes():
    z, b = array((8, 4)), array((4,))
    assert elementwise_form("T z, T b", "T y, bool mask", [z, b], [z, array((8, 4), bool)]) == [
        "float32 2-d contiguous", "float32 2-d strided", "float32 2-d contiguous", "bool 2-d contiguous"]


def test_contiguous_arrays_and_scalars_merge_into_one_axis():
    z = array((2, 3, 4))
    assert elementwise_form("T z, T b", "T y, bool mask", [z, np.float32(0)], [z, array((2, 3, 4), bool)]) == [
        "float32 1-d contiguous", "float32 scalar", "float32 1-d contiguous", "bool 1-d contiguous"]


def test_explicit_types_and_zero_d_arrays():
    step, out = array((), np.float64), array(())
    form = elementwise_form("float64 lr, float64 beta1", "float64 step, T a", [0.1, 0.9], [step, out])
    assert form == ["float64 scalar", "float64 scalar", "float64 0-d contiguous", "float32 0-d contiguous"]


def test_a_transposed_input_stays_strided():
    x = array((5, 6), transpose=True)
    assert elementwise_form("T x", "T y", [x], [None]) == ["float32 2-d strided", "float32 2-d contiguous"]


def test_an_empty_call_launches_nothing():
    assert elementwise_form("T x", "T y", [array((0, 3))], [None]) is None


@pytest.mark.parametrize("shape,axis,keepdims,want", [
    ((4, 3, 5), None, False, {"in": ["float32 1-d contiguous"], "out": ["float32 0-d contiguous"], "cub": "full"}),
    ((4, 3, 5), (1, 2), False, {"in": ["float32 2-d strided"], "out": ["float32 1-d contiguous"],
                                "cub": "segmented"}),
    ((4, 3, 5), 0, True, {"in": ["float32 1-d contiguous"], "out": ["float32 1-d contiguous"], "cub": None}),
    ((), None, False, {"in": ["float32 0-d contiguous"], "out": ["float32 0-d contiguous"], "cub": None}),
])
def test_reduction_forms(shape, axis, keepdims, want):
    form = reduction_form("T x", "T y", [array(shape)], axis, keepdims)
    assert form == dict(want, index="int32")


# ----------------------------------------------------------------------------- the registry and the committed list
def test_every_kernel_registers_itself_once():
    registry = kernels.registry()
    assert {"minigrad_relu_mask", "minigrad_scaled_sum", "minigrad_sample_norms", "minigrad_philox",
            "minigrad_norm_penalty_sum_one_sided", "minigrad_adam"} <= set(registry)
    assert all(isinstance(k, kernels.ReductionFamily) and k.examples for k in
               (registry["minigrad_scaled_sum"], registry["minigrad_sample_norms"]))
    with pytest.raises(ValueError, match="a kernel named 'minigrad_adam' already exists"):
        kernels.Kernel("minigrad_adam", "T x", "T y", "y = x")


def test_a_family_builds_one_reduction_per_literal():
    family = kernels.registry()["minigrad_scaled_sum"]
    assert family(0.5) is family(0.5) and family(0.5) is not family(0.25)
    assert family(0.25).spec[4] == "y = a * (T)(0.25)"
    with pytest.raises(ValueError, match="literal must be finite"):
        family(float("inf"))


def test_the_committed_list_names_every_kernel_but_the_raw_modules():
    """Each kernel is called in some CUDA-marked test (so its forms are recorded, and compiled)."""
    listed = kernel_forms.load()["forms"]
    registry = kernels.registry()
    expected = {name for name, k in registry.items() if not isinstance(k, kernels.RawModule)}
    assert set(listed) == expected, (f"not called by any CUDA-marked test: {sorted(expected - set(listed))}; "
                                     f"not registered: {sorted(set(listed) - expected)}")


KERNEL_CONSTRUCTORS = {"ElementwiseKernel", "ReductionKernel", "RawModule", "RawKernel", "fuse"}


def test_no_kernel_is_built_outside_the_registry():
    """CuPy's kernel constructors are called in minigrad/kernels.py only (where everything registers itself)."""
    found = []
    for path in sorted((ROOT / "minigrad").rglob("*.py")) + sorted((ROOT / "wgan").rglob("*.py")):
        if path.name == "kernels.py" or "testing" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in KERNEL_CONSTRUCTORS and not (
                    isinstance(node.value, ast.Name) and node.value.id == "kernels"):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} .{node.attr}")
    assert not found, "CuPy kernels built outside minigrad.kernels (make them a kernels.Kernel, Reduction, " \
                      "ReductionFamily or RawModule, so they are registered and compiled in CI):\n" + "\n".join(found)


def test_a_form_missing_from_the_list_fails_and_says_how_to_record_it(tmp_path, standin):
    listed = tmp_path / "forms.json"
    listed.write_text(json.dumps({"forms": {"minigrad_relu_mask": []}}))
    log = kernel_forms.FormLog(str(listed))
    previous = cupy_standin.observe_kernel_forms(log)
    try:
        with pytest.raises(kernel_forms.FormMissing, match=r"minigrad_relu_mask was called in a form missing") as info:
            kernels.relu_with_mask(minigrad.randn(3, 4, device="cuda").data)
    finally:
        cupy_standin.observe_kernel_forms(previous)
    assert kernel_forms.REGENERATE in str(info.value) and "float32 1-d contiguous" in str(info.value)


def test_recording_writes_the_forms_seen(tmp_path, standin):
    log = kernel_forms.FormLog(str(tmp_path / "forms.json"), record=True)
    previous = cupy_standin.observe_kernel_forms(log)
    try:
        minigrad.mean(minigrad.randn(4, 3, device="cuda"), axis=1)
    finally:
        cupy_standin.observe_kernel_forms(previous)
    log.save()
    forms = json.loads((tmp_path / "forms.json").read_text())["forms"]
    assert forms == {"minigrad_scaled_sum": [{"cub": "segmented", "in": ["float32 2-d strided"],
                                             "index": "int32", "out": ["float32 1-d contiguous"]}]}


# ----------------------------------------------------------------------------- the compile script, without CuPy
def run_script(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_the_script_lists_every_registered_kernel():
    proc = run_script("--list")
    assert proc.returncode == 0, proc.stderr
    names = {line.split()[1] for line in proc.stdout.splitlines()[:-1]}
    assert names == set(kernels.registry())
    assert "kernel instantiations" in proc.stdout.splitlines()[-1]


def test_a_new_kernel_is_compiled_without_editing_the_script():
    proc = run_script("--list", "--with-broken-kernel", "--only", "minigrad_negative_control")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[:2] == [
        'elementwise minigrad_negative_control form ["float32 1-d contiguous", "float32 1-d contiguous"]',
        'elementwise minigrad_negative_control form ["float64 1-d contiguous", "float64 1-d contiguous"]']


@pytest.mark.skipif(importlib.util.find_spec("cupy") is not None, reason="CuPy is installed in this environment")
def test_without_cupy_the_script_says_which_environment_to_use():
    proc = run_script("--only", "minigrad_relu_mask")
    assert proc.returncode == 2 and "scripts/cuda_venv.sh" in proc.stderr
