"""A static check (AST, not grep): the device code paths call their array module, never NumPy.

Under minigrad/ops, minigrad/optim and minigrad/nn every ``np.<name>(...)`` call must be one of a
short list of dtype/shape helpers, which work on host metadata only; anything else would either
fail on a CUDA array or silently compute on the host. In minigrad/philox.py the seeding and
checkpoint code may use NumPy on the host (it runs once, outside any step); the per-draw code may not.
"""
import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
CHECKED = ["minigrad/ops", "minigrad/optim", "minigrad/nn", "minigrad/philox.py"]
#: host metadata only: dtypes, scalar types, broadcast/shape arithmetic
ALLOWED = {"dtype", "result_type", "promote_types", "can_cast", "finfo", "iinfo", "issubdtype",
           "broadcast_shapes", "ndim", "float16", "float32", "float64", "int8", "int32", "int64", "uint8",
           "uint32", "uint64", "bool_"}
#: (file, function) pairs that run on the host by design
HOST_SIDE = {
    ("minigrad/nn/parameter.py", "__init__"): "Parameter() without data is an empty CPU tensor, as in PyTorch",
    ("minigrad/philox.py", "manual_seed"): "the key schedule is set once from a host seed",
    ("minigrad/philox.py", "state_dict"): "checkpoints are host arrays",
    ("minigrad/philox.py", "load_state_dict"): "checkpoints are host arrays",
    ("minigrad/philox.py", "philox4x32"): "the known-answer function also takes host lists",
    ("minigrad/philox.py", "__repr__"): "printing reads the state to the host",
}


def numpy_calls(path: pathlib.Path):
    """(line, function, dotted name) of every np.X(...) / numpy.X.Y(...) call in the file."""
    tree = ast.parse(path.read_text(), str(path))
    found = []

    def visit(node, function):
        for child in ast.iter_child_nodes(node):
            inner = child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else function
            if isinstance(child, ast.Call):
                func, chain = child.func, []
                while isinstance(func, ast.Attribute):
                    chain.append(func.attr)
                    func = func.value
                if isinstance(func, ast.Name) and func.id in ("np", "numpy") and chain:
                    found.append((child.lineno, function, ".".join(reversed(chain))))
            visit(child, inner)

    visit(tree, "<module>")
    return found


def checked_files():
    for entry in CHECKED:
        path = ROOT / entry
        yield from (sorted(path.rglob("*.py")) if path.is_dir() else [path])


def violations():
    out = []
    for path in checked_files():
        rel = path.relative_to(ROOT).as_posix()
        for line, function, name in numpy_calls(path):
            if name.split(".")[0] in ALLOWED or (rel, function) in HOST_SIDE:
                continue
            out.append(f"{rel}:{line} in {function}: np.{name}(...)")
    return out


def test_device_code_calls_no_numpy_functions():
    found = violations()
    assert not found, ("NumPy called on a device code path (use the array module of the data, "
                       "backend.array_module(x), or add a host-metadata helper to ALLOWED):\n" + "\n".join(found))


def test_the_check_finds_a_numpy_call(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import numpy as np\n\ndef f(x):\n    n = np.dtype('f4')\n    return np.exp(x) + np.linalg.norm(x)\n")
    assert numpy_calls(sample) == [(4, "f", "dtype"), (5, "f", "exp"), (5, "f", "linalg.norm")]


@pytest.mark.parametrize("entry", CHECKED)
def test_every_checked_path_exists(entry):
    assert (ROOT / entry).exists()
