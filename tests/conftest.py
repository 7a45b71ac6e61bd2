"""Shared test configuration: hypothesis profiles, devices (CUDA on a GPU or on the CuPy stand-in), the PyTorch oracle."""
import os
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from threadpoolctl import threadpool_limits

import minigrad
from minigrad import backend
from minigrad.testing import cupy_standin, kernel_forms

# The tests multiply tiny matrices: one BLAS thread is faster for them and immune to the stalls
# OpenBLAS's spinning threads suffer when other processes share the cores.
threadpool_limits(1, user_api="blas")

settings.register_profile("ci", max_examples=50, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("dev", max_examples=40, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("thorough", max_examples=300, deadline=None)
settings.register_profile("gpu", max_examples=5, deadline=None, derandomize=True,  # scripts/gpu_check.sh
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.cuda)]
#: checks against real CuPy, run by .ci/run in the CuPy environment (scripts/cuda_venv.sh), never in this run
collect_ignore = ["cuda_conformance"]


def pytest_addoption(parser):
    parser.addoption("--cuda-backend", choices=["auto", "cupy", "standin", "off"], default="auto",
                     help="what runs the CUDA-marked tests: auto = CuPy on a GPU when one is present, else the "
                          "strict CuPy stand-in (minigrad/testing/cupy_standin.py); cupy = a GPU only (skip without one); "
                          "standin = the stand-in even on a GPU; off = skip them")
    parser.addoption("--exercises", choices=["mine", "solutions"], default="mine",
                     help="what the exercise tests (pytest -m exercise) check: mine = docs/exercises/*.py, the files a "
                          "student edits; solutions = the reference solutions in docs/exercises/solutions/")
    parser.addoption("--kernel-forms", choices=["check", "record", "off"], default="check",
                     help="the argument forms of minigrad's CUDA kernels in CUDA-marked tests on the stand-in: check = "
                          "fail a test that uses a form missing from minigrad/testing/cuda_kernel_forms.json (the "
                          "forms scripts/compile_cuda_kernels.py compiles); record = rewrite that list from the "
                          "forms this run uses (run it over every CUDA-marked test: pytest -m cuda); off = neither")


def pytest_configure(config):
    choice = config.getoption("--cuda-backend")
    if choice == "standin" or (choice == "auto" and not minigrad.cuda_is_available()):
        config._cuda_standin_uninstall = cupy_standin.install()
        if config.getoption("--kernel-forms") != "off":
            config._kernel_form_log = kernel_forms.FormLog(record=config.getoption("--kernel-forms") == "record")
    elif choice == "off":
        config._cuda_off = True


def pytest_sessionfinish(session):
    log = getattr(session.config, "_kernel_form_log", None)
    if log is not None and log.record:
        log.save()
        n = sum(len(forms) for forms in log.seen.values())
        print(f"\nkernel forms: {n} forms of {len(log.seen)} kernels written to {log.path}")


def pytest_unconfigure(config):
    uninstall = getattr(config, "_cuda_standin_uninstall", None)
    if uninstall is not None:
        uninstall()


def pytest_report_header(config):
    if getattr(config, "_cuda_standin_uninstall", None) is not None:
        return "cuda: the strict CuPy stand-in (minigrad/testing/cupy_standin.py), no GPU"
    return "cuda: " + ("off" if getattr(config, "_cuda_off", False) else
                       "CuPy on a GPU" if minigrad.cuda_is_available() else "no GPU with CuPy (tests skip)")


def pytest_collection_modifyitems(config, items):
    if getattr(config, "_cuda_off", False) or not minigrad.cuda_is_available():
        skip = pytest.mark.skip(reason="no CUDA GPU with CuPy on this machine (or --cuda-backend=off)")
        for item in items:
            if "cuda" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(params=DEVICES)
def device(request):
    """Run a test on the CPU, and again on CUDA when a GPU is present."""
    return request.param


@pytest.fixture(autouse=True)
def _kernel_forms(request):
    """In CUDA-marked tests on the stand-in: record or check the argument forms of minigrad's kernels."""
    log = getattr(request.config, "_kernel_form_log", None)
    if log is None or request.node.get_closest_marker("cuda") is None:
        yield
        return
    previous = cupy_standin.observe_kernel_forms(log)
    try:
        yield
    finally:
        cupy_standin.observe_kernel_forms(previous)


@pytest.fixture(autouse=True)
def _seed():
    minigrad.manual_seed(0)
    np.random.seed(0)


@pytest.fixture
def standin():
    """The CuPy stand-in when it is the CUDA backend (for sync, copy and launch counts); skips on a real GPU."""
    if not cupy_standin.is_standin(backend._cupy):
        pytest.skip("counts syncs and launches on the CuPy stand-in, which is not the CUDA backend in this run")
    return cupy_standin


@pytest.fixture
def no_cuda(monkeypatch):
    """A machine without CuPy, whatever CUDA backend this test run uses."""
    monkeypatch.setattr(backend, "_cupy", None)
    monkeypatch.setitem(sys.modules, "cupy", None)  # `import cupy` raises ImportError
    monkeypatch.setattr(backend, "_generators", {})


def pytest_terminal_summary(terminalreporter):
    """One line per reason at the end of the run: why the skipped tests were skipped, and how many."""
    reasons: dict[str, int] = {}
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
        reason = reason.removeprefix("Skipped: ")
        reasons[reason] = reasons.get(reason, 0) + 1
    if reasons:
        terminalreporter.section(f"{sum(reasons.values())} skipped, by reason", sep="-")
        for reason, count in sorted(reasons.items(), key=lambda item: -item[1]):
            terminalreporter.write_line(f"{count:6d}  {reason}")
