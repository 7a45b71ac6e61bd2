"""The documentation site's pages made at build time (mkdocs-gen-files runs this file; see mkdocs.yml).

Nothing here holds text of its own: each page comes from a file that lives elsewhere in the repository.

- `benchmarks/` and `reproductions/`: their markdown and figures, at the same paths as in the repository
  (so their relative links hold); links to files the site does not carry become plain text.
- `reproductions/index.md`: the gallery. The claims table of the reproductions (README's section, or
  docs/reproductions.md once it moves there), then one entry per reproduction: its figure, its first
  table and its verdict, read from the reproduction's own markdown.
- `notebooks/<chapter>.ipynb`: each chapter as a Jupyter notebook (jupytext), with the outputs the chapter
  shows as the cells' outputs; `notebooks.md` lists them.
- `reference/`: the API reference, one page per module, rendered from the docstrings by mkdocstrings.
- `capture.md`, `cuda.md`, `sweeps.md`: the README's sections of those names, while they live in the README.
- `index.md`, the home page: the README, its links made to point into the site.
"""
from __future__ import annotations

import posixpath
import re
from pathlib import Path

import jupytext
import mkdocs_gen_files
import nbformat

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
MIRRORED = ("benchmarks", "reproductions")  # folders whose pages and figures the site carries as they are
MIRRORED_SUFFIXES = (".md", ".png", ".svg", ".json")
CHAPTERS = {"reverse_mode": "Chapter 0: reverse mode, from the chain rule to the gradient penalty",
            "internals": "How minigrad differentiates (and differentiates again)",
            "writing_an_op": "Writing your own op"}
README_PAGES = {"capture.md": "### A captured step", "cuda.md": "### CUDA", "sweeps.md": "### Sweeps on Dask"}
REFERENCE = {
    "minigrad": ["minigrad.tensor", "minigrad.autograd", "minigrad.creation", "minigrad.ops", "minigrad.functional",
                 "minigrad.nn", "minigrad.optim", "minigrad.gradcheck", "minigrad.viz", "minigrad.serialization",
                 "minigrad.capture", "minigrad.tracing", "minigrad.replay", "minigrad.cuda", "minigrad.philox",
                 "minigrad.threads"],
    "wgan": ["wgan.train", "wgan.callbacks", "wgan.capture", "wgan.config", "wgan.algorithms", "wgan.optimizers",
             "wgan.losses", "wgan.models", "wgan.architectures", "wgan.data", "wgan.metrics", "wgan.scores",
             "wgan.checkpoint", "wgan.run_folder", "wgan.reproductions", "wgan.sweep"],
}
LINK = re.compile(r"(!?\[[^\]]*\])\(([^)\s]+)\)")


# ----------------------------------------------------------------------------- links
def on_site(repo_path: str) -> str | None:
    """Where the repository file `repo_path` is on the site, or None if the site does not carry it."""
    if repo_path.startswith("docs/"):
        return repo_path[len("docs/"):]
    if repo_path.startswith(tuple(f"{folder}/" for folder in MIRRORED)) and (ROOT / repo_path).is_file():
        return repo_path if repo_path.endswith(MIRRORED_SUFFIXES) else None
    return None


def relink(text: str, source: str, page: str) -> str:
    """`text` from the repository file `source`, published at `page`: each relative link made to point at
    the same file on the site, or dropped to its text when the site does not carry the file."""
    def fix(match: re.Match) -> str:
        label, target = match[1], match[2]
        if re.match(r"^[a-z]+:|^#", target):  # http:, mailto:, an anchor in the same page
            return match[0]
        path, _, anchor = target.partition("#")
        repo_path = posixpath.normpath(posixpath.join(posixpath.dirname(source), path))
        if (ROOT / repo_path).is_dir():
            readme = posixpath.join(repo_path, "README.md")
            repo_path = readme if (ROOT / readme).is_file() else repo_path
        site_path = on_site(repo_path)
        if site_path is None:
            return label[1:-1] if not label.startswith("!") else ""
        relative = posixpath.relpath(site_path, posixpath.dirname(page) or ".")
        return f"{label}({relative}{'#' + anchor if anchor else ''})"

    return LINK.sub(fix, text)


def write_page(page: str, text: str, source: str) -> None:
    with mkdocs_gen_files.open(page, "w") as out:
        out.write(text)
    mkdocs_gen_files.set_edit_path(page, posixpath.relpath(source, "docs"))


# ----------------------------------------------------------------------------- mirrored folders
def mirror() -> None:
    for folder in MIRRORED:
        for path in sorted((ROOT / folder).rglob("*")):
            relative = path.relative_to(ROOT).as_posix()
            if not path.is_file() or "sweep" in path.relative_to(ROOT).parts[:-1] or not relative.endswith(
                    MIRRORED_SUFFIXES):
                continue
            if path.suffix == ".md":
                write_page(relative, relink(path.read_text(), relative, relative), relative)
            else:
                with mkdocs_gen_files.open(relative, "wb") as out:
                    out.write(path.read_bytes())


# ----------------------------------------------------------------------------- README sections
def section(text: str, heading: str) -> str | None:
    """The section of markdown `text` that starts with the line `heading`, up to the next heading of its level or
    higher (None if there is none)."""
    lines = text.splitlines(keepends=True)
    level = len(heading) - len(heading.lstrip("#"))
    for start, line in enumerate(lines):
        if line.startswith(heading):
            for end in range(start + 1, len(lines)):
                hashes = len(lines[end]) - len(lines[end].lstrip("#"))
                if 0 < hashes <= level and lines[end][hashes:hashes + 1] == " " and not _in_fence(lines, end):
                    return "".join(lines[start:end])
            return "".join(lines[start:])
    return None


def _in_fence(lines: list[str], index: int) -> bool:
    return sum(line.startswith("```") for line in lines[:index]) % 2 == 1


def promoted(text: str) -> str:
    """A README subsection as a page: its ### heading becomes the page's # title, and so on down."""
    level = len(text) - len(text.lstrip("#"))
    shift = level - 1
    out, fenced = [], False
    for line in text.splitlines(keepends=True):
        fenced ^= line.startswith("```")
        hashes = len(line) - len(line.lstrip("#"))
        if not fenced and hashes >= level and line[hashes:hashes + 1] == " ":
            line = line[shift:]
        out.append(line)
    return "".join(out)


def readme_pages() -> None:
    readme = (ROOT / "README.md").read_text()
    write_page("index.md", relink(readme, "README.md", "index.md"), "README.md")
    for page, heading in README_PAGES.items():
        if (DOCS / page).exists():  # the section moved to docs/ and is a page of its own
            continue
        text = section(readme, heading)
        if text is not None:
            write_page(page, relink(promoted(text), "README.md", page), "README.md")


# ----------------------------------------------------------------------------- the reproductions gallery
def first_table(text: str) -> str:
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("|")), None)
    if start is None:
        return ""
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    return "\n".join(lines[start:end]) + "\n"


def verdict(text: str) -> str:
    for heading in ("## Verdict", "## What the data say"):
        found = section(text, heading)
        if found:
            return found.split("\n", 1)[1].strip() + "\n"
    return ""


def claims_table(text: str) -> dict[str, list[str]]:
    """The rows of the claims table, by command: [claim, what is measured, result, verdict]."""
    rows = {}
    for line in first_table(text).splitlines()[2:]:
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
        if cells and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = cells[1:]
    return rows


def gallery() -> None:
    from wgan.reproductions import REPRODUCTIONS

    claims_source = DOCS / "reproductions.md"
    if claims_source.exists():
        claims, source = claims_source.read_text(), "docs/reproductions.md"
    else:
        claims = promoted(section((ROOT / "README.md").read_text(), "### Reproductions: the claims") or "")
        source = "README.md"
    page = "reproductions/index.md"
    rows = claims_table(claims)
    parts = [relink(claims, source, page), "\n## The gallery\n\nFor each reproduction: the claim it tests, its figure, "
             "its table and the verdict, as its command wrote them.\n"]
    older = (ROOT / "benchmarks/results/reproductions/README.md").read_text()

    def figure_line(figure: Path) -> str:
        return f"![{figure.stem}]({posixpath.relpath(figure.relative_to(ROOT).as_posix(), 'reproductions')})\n\n"

    for name in REPRODUCTIONS:
        parts.append(f"\n### `{name}`\n\n")
        claim, _, _, supported = rows.get(name, ["", "", "", ""])[:4]
        if claim:
            parts.append(f"**Claim:** {relink(claim, source, page)}\n\n")
        folder = ROOT / "reproductions" / name
        reports = sorted(folder.glob("*.md")) if folder.is_dir() else []
        result = ROOT / "benchmarks/results/reproductions" / name
        if reports:
            text = reports[0].read_text()
            relative = reports[0].relative_to(ROOT).as_posix()
            title = text.splitlines()[0].lstrip("# ").strip()
            parts.append(f"{title} ([the full report]({posixpath.relpath(relative, 'reproductions')})).\n\n")
            if reports[0].with_suffix(".png").is_file():
                parts.append(figure_line(reports[0].with_suffix(".png")))
            parts += [relink(first_table(text), relative, page), "\n**What the data say:**\n\n",
                      relink(verdict(text), relative, page), "\n"]
        else:
            parts += [figure_line(figure) for figure in (sorted(result.glob("*.png")) if result.is_dir() else [])]
            note = next((item for item in re.split(r"\n(?=- )", older) if item.startswith(f"- `{name}/`")), "")
            parts.append(relink(note.strip()[2:] + "\n\n", "benchmarks/results/reproductions/README.md", page)
                         if note else "No stored figure: the tests run it at its default size.\n\n")
        if supported:
            parts.append(f"**Do the measurements support the claim?** {relink(supported, source, page)}\n")
    write_page(page, "".join(parts), source)


# ----------------------------------------------------------------------------- chapters as notebooks
def notebook(chapter: str) -> nbformat.NotebookNode:
    """The chapter as a notebook: its python blocks as code cells whose outputs are the ```text blocks after them."""
    nb = jupytext.reads((DOCS / f"{chapter}.md").read_text(), fmt="md")
    cells: list[nbformat.NotebookNode] = [nbformat.v4.new_markdown_cell(
        f"*Generated from `docs/{chapter}.md` by the documentation build. Run it from the root of a clone of the "
        "repository, with minigrad installed (`pip install -e \".[test]\"`): some cells import `docs.*` "
        "modules from there. The outputs shown are the ones `tests/test_docs.py` checks.*")]
    for cell in nb.cells:
        text = cell.source
        if cell.cell_type == "markdown" and text.startswith("```text\n") and cells and cells[-1].cell_type == "code":
            output, _, rest = text[len("```text\n"):].partition("\n```")
            cells[-1].outputs = [nbformat.v4.new_output("stream", name="stdout", text=output + "\n")]
            text = rest.strip("\n")
            if not text:
                continue
            cell = nbformat.v4.new_markdown_cell(text)
        if cell.cell_type == "code":
            cell = nbformat.v4.new_code_cell(cell.source)
        cells.append(cell)
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.metadata["language_info"] = {"name": "python"}
    return notebook


def notebooks() -> None:
    lines = ["# The chapters as notebooks\n\n",
             "Each chapter, made into a Jupyter notebook by jupytext when the site is built. The code cells are "
             "the chapter's python blocks and their outputs are the ones the chapter shows (and the tests "
             "check). Open one from the root of a clone of the repository (`jupyter lab`), where its imports "
             "resolve, and run it top to bottom.\n\n"]
    for chapter, title in CHAPTERS.items():
        with mkdocs_gen_files.open(f"notebooks/{chapter}.ipynb", "w") as out:
            nbformat.write(notebook(chapter), out)
        lines.append(f"- [{title}](notebooks/{chapter}.ipynb) (from [the chapter]({chapter}.md))\n")
    lines.append("\nOr make them from a clone: `python3 -m jupytext --to ipynb docs/reverse_mode.md`.\n")
    with mkdocs_gen_files.open("notebooks.md", "w") as out:
        out.write("".join(lines))


# ----------------------------------------------------------------------------- API reference
def reference() -> None:
    index = ["# API reference\n\n", "Generated from the docstrings by mkdocstrings.\n"]
    for package, modules in REFERENCE.items():
        index.append(f"\n## {package}\n\n")
        for module in modules:
            page = f"reference/{module}.md"
            with mkdocs_gen_files.open(page, "w") as out:
                out.write(f"---\ntitle: {module}\n---\n\n::: {module}\n    options:\n      heading_level: 1\n")
            index.append(f"- [`{module}`]({module}.md)\n")
    with mkdocs_gen_files.open("reference/index.md", "w") as out:
        out.write("".join(index))


def main() -> None:
    mirror()
    readme_pages()
    gallery()
    notebooks()
    reference()


if __name__ == "<run_path>":  # run by mkdocs-gen-files (runpy.run_path); importing it makes nothing
    main()
