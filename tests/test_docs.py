"""The code in the docs runs, and every output the docs show is the one it prints.

Each chapter's ```python blocks run in order, in one namespace per chapter. A block that prints
is followed directly by a ```text block holding what it printed, and the test compares the two
with runs of whitespace made single (the chapters round what they print, so the numbers do not
depend on the BLAS kernel). After a deliberate change, ``python3 -m tests.test_docs --write
docs/NAME.md`` rewrites a chapter's ```text blocks from a run; read the diff before committing it.
"""
from __future__ import annotations

import contextlib
import io
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS_DIR = ROOT / "docs"
CHAPTERS = ["reverse_mode.md", "internals.md", "writing_an_op.md"]
FENCE = re.compile(r"^```python\n(.*?)^```", re.M | re.S)
ANY_FENCE = re.compile(r"^```(?P<lang>[\w-]*)(?P<info>[^\n]*)\n(?P<body>.*?)^```[ \t]*$", re.M | re.S)
ENGINE_TITLE = 'title="docs/tiny_engine.py"'


def python_blocks(text: str) -> list[str]:
    return FENCE.findall(text)


@dataclass
class Block:
    """One fenced block of a markdown file: its language, the rest of its info string, its text and place."""

    lang: str
    info: str
    body: str
    start: int  # character offsets of the whole fence in the file
    end: int
    line: int   # 1-based line of the opening fence


def fenced_blocks(text: str) -> list[Block]:
    return [Block(m["lang"], m["info"].strip(), m["body"], m.start(), m.end(), text.count("\n", 0, m.start()) + 1)
            for m in ANY_FENCE.finditer(text)]


def normalized(output: str) -> str:
    return " ".join(output.split())


@dataclass
class Ran:
    """A python block, what it printed, and the ```text block right after it (None if there is none)."""

    block: Block
    printed: str
    shown: Block | None


def run_chapter(path: Path) -> list[Ran]:
    """Run every python block of the markdown file `path` in order, capturing what each prints."""
    text = path.read_text()
    blocks = fenced_blocks(text)
    namespace = {"__name__": f"docs.{path.stem}"}
    ran = []
    for i, block in enumerate(blocks):
        if block.lang != "python":
            continue
        after = blocks[i + 1] if i + 1 < len(blocks) else None
        follows = after is not None and after.lang == "text" and not text[block.end:after.start].strip()
        shown = after if follows else None
        buffer = io.StringIO()
        code = compile(block.body, f"{path.name}, block at line {block.line}", "exec")
        with contextlib.redirect_stdout(buffer):
            exec(code, namespace)  # our own documentation
        ran.append(Ran(block, buffer.getvalue(), shown))
    return ran


def test_fence_extraction():
    text = "intro\n```python\na = 1\n```\nprose\n```bash\nls\n```\n```python\nb = a + 1\n```\n"
    assert python_blocks(text) == ["a = 1\n", "b = a + 1\n"]
    blocks = fenced_blocks('x\n```python title="t.py"\nprint(1)\n```\n\n```text\n1\n```\n')
    assert [(b.lang, b.info, b.body, b.line) for b in blocks] == [("python", 'title="t.py"', "print(1)\n", 2),
                                                                  ("text", "", "1\n", 6)]


def test_a_changed_number_fails(tmp_path):
    """The comparison below catches a wrong output, a missing output block and an output block with no print."""
    chapter = tmp_path / "chapter.md"
    chapter.write_text("```python\nprint(round(2 / 3, 3))\n```\n\n```text\n0.667\n```\n")
    assert [normalized(r.printed) == normalized(r.shown.body) for r in run_chapter(chapter)] == [True]
    chapter.write_text("```python\nprint(round(2 / 3, 3))\n```\n\n```text\n0.666\n```\n")
    assert [normalized(r.printed) == normalized(r.shown.body) for r in run_chapter(chapter)] == [False]
    chapter.write_text("```python\nprint(1)\n```\nprose in between\n```text\n1\n```\n")
    assert run_chapter(chapter)[0].shown is None


@pytest.mark.parametrize("name", CHAPTERS)
def test_chapter_runs_and_shows_its_outputs(name):
    path = DOCS_DIR / name
    ran = run_chapter(path)
    assert len(ran) >= 5, f"{name}: expected its walkthrough code blocks"
    for r in ran:
        where = f"{name}, the python block at line {r.block.line}"
        if r.shown is None:
            assert not r.printed, f"{where} prints, but no ```text block follows it with its output:\n{r.printed}"
            continue
        assert r.printed, f"{where} prints nothing, yet a ```text block follows it"
        assert normalized(r.printed) == normalized(r.shown.body), (
            f"{where} printed\n{r.printed}\nbut the chapter shows (line {r.shown.line})\n{r.shown.body}")


def test_tiny_engine_is_the_file_the_chapter_shows():
    """Chapter 0 shows docs/tiny_engine.py whole, in order, in blocks titled with its name."""
    blocks = [b.body for b in fenced_blocks((DOCS_DIR / "reverse_mode.md").read_text()) if ENGINE_TITLE in b.info]
    assert "\n\n\n".join(block.rstrip("\n") for block in blocks) + "\n" == (DOCS_DIR / "tiny_engine.py").read_text()


def _engine_and_minigrad(build, arrays):
    """The gradients of `build(*inputs).sum()` for each input, by the tiny engine and by minigrad."""
    import minigrad
    from docs import tiny_engine

    tiny = [tiny_engine.Tensor(a) for a in arrays]
    build(*tiny).sum().backward()
    ours = [minigrad.tensor(a, requires_grad=True) for a in arrays]
    theirs = minigrad.grad(build(*ours).sum(), ours)
    return [t.grad for t in tiny], [g.numpy() for g in theirs]


@pytest.mark.parametrize("case", ["mlp", "broadcast", "reuse", "scalars"])
def test_tiny_engine_agrees_with_minigrad(case):
    rng = np.random.default_rng(0)
    builds = {
        # a tanh layer with a bias broadcast over the batch, then exp and a weighting
        "mlp": (lambda x, w, b, v: ((x @ w + b).tanh() * v).exp(), [(5, 3), (3, 4), (4,), (5, 4)]),
        # broadcasting both ways: (3, 1) against (1, 4) and a scalar
        "broadcast": (lambda a, b, c: a * b + c, [(3, 1), (1, 4), ()]),
        # a tensor used three times: its gradient sums every use
        "reuse": (lambda a: a * a.tanh() + a.exp(), [(2, 3)]),
        # Python numbers on both sides
        "scalars": (lambda a: 2 * a + 1 + a * 3, [(4,)]),
    }
    build, shapes = builds[case]
    arrays = [rng.standard_normal(shape) for shape in shapes]
    tiny, theirs = _engine_and_minigrad(build, arrays)
    for shape, a, b in zip(shapes, tiny, theirs):
        assert a.shape == shape
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_readme_examples_run(tmp_path, monkeypatch):
    """The README's Python examples (minigrad tour, WGAN-GP critic step, wgan API) run as written."""
    path = DOCS_DIR.parent / "README.md"
    monkeypatch.chdir(tmp_path)  # the wgan example writes runs/api-demo
    blocks = python_blocks(path.read_text())
    assert blocks, f"{path.name}: no ```python examples found"
    for i, block in enumerate(blocks):
        exec(compile(block, f"{path.name}:block{i}", "exec"), {"__name__": f"docs.{path.stem}"})  # noqa: S102


def write_outputs(path: Path) -> int:
    """Rewrite the ```text block after each printing python block of `path` with what it prints now."""
    text = path.read_text()
    pieces, position, changed = [], 0, 0
    for r in run_chapter(path):
        if not r.printed:
            continue
        fresh = "```text\n" + r.printed + ("" if r.printed.endswith("\n") else "\n") + "```"
        if r.shown is None:
            pieces += [text[position:r.block.end], "\n\n" + fresh]
            position = r.block.end
        else:
            pieces += [text[position:r.shown.start], fresh]
            position = r.shown.end
        changed += r.shown is None or r.shown.body != fresh[len("```text\n"):-len("```")]
    path.write_text("".join(pieces) + text[position:])
    return changed


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] != "--write":
        sys.exit("usage: python3 -m tests.test_docs --write docs/NAME.md [...]")
    for name in sys.argv[2:]:
        print(f"{name}: {write_outputs(Path(name))} output block(s) written")
