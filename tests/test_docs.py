"""The code in the docs runs: every ```python block, in order, in one namespace per document."""
import re
from pathlib import Path

import pytest

DOCS_DIR = Path(__file__).resolve().parent.parent / "docs"
DOCUMENTS = ["internals.md", "writing_an_op.md"]
FENCE = re.compile(r"^```python\n(.*?)^```", re.M | re.S)


def python_blocks(text: str) -> list[str]:
    return FENCE.findall(text)


def test_fence_extraction():
    text = "intro\n```python\na = 1\n```\nprose\n```bash\nls\n```\n```python\nb = a + 1\n```\n"
    assert python_blocks(text) == ["a = 1\n", "b = a + 1\n"]


@pytest.mark.parametrize("name", DOCUMENTS)
def test_document_code_runs(name, capsys):
    path = DOCS_DIR / name
    blocks = python_blocks(path.read_text())
    assert len(blocks) >= 5, f"{name}: expected its walkthrough code blocks"
    namespace = {"__name__": f"docs.{path.stem}"}
    for i, block in enumerate(blocks):
        line = path.read_text()[:path.read_text().index(block)].count("\n") + 1
        code = compile(block, f"{path}:block{i}@line{line}", "exec")
        exec(code, namespace)  # noqa: S102  (our own documentation)


def test_readme_examples_run(tmp_path, monkeypatch):
    """The README's Python examples (minigrad tour, WGAN-GP critic step, wgan API) run as written."""
    path = DOCS_DIR.parent / "README.md"
    monkeypatch.chdir(tmp_path)  # the wgan example writes runs/api-demo
    blocks = python_blocks(path.read_text())
    assert blocks, f"{path.name}: no ```python examples found"
    for i, block in enumerate(blocks):
        exec(compile(block, f"{path.name}:block{i}", "exec"), {"__name__": f"docs.{path.stem}"})  # noqa: S102
