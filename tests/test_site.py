"""The documentation site: built by mkdocs with --strict, opened in a real headless browser, and a
chapter run end to end as the notebook the build makes of it.

Needs the docs extra (``pip install -e ".[docs]"``, which the test extra includes) and, for the browser,
Debian's ``chromium`` (``apt-get install chromium``; `.ci/run` installs it), which the `playwright`
package drives (``playwright install`` is never needed). Outside CI a missing piece skips these tests
with the reason; under ``CI=true`` it fails them.
"""
from __future__ import annotations

import functools
import http.server
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI") == "true"
DOCS_PACKAGES = ["mkdocs", "material", "mkdocs_gen_files", "mkdocstrings_handlers.python", "jupytext", "nbformat"]
QUIET_MKDOCS = {"NO_MKDOCS_2_WARNING": "1", "DISABLE_MKDOCS_2_WARNING": "true"}  # banners, not warnings


def require(ok: bool, reason: str) -> None:
    """Skip with `reason` when `ok` is false, or fail under CI=true, where the site must be checked."""
    if not ok:
        if IN_CI:
            pytest.fail(f"{reason} (CI=true: the documentation site must be checked)")
        pytest.skip(reason)


def installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site, built once by ``mkdocs build --strict`` (any warning fails the build)."""
    missing = [name for name in DOCS_PACKAGES if not installed(name)]
    require(not missing, f"the docs extra is not installed (missing {', '.join(missing)}): pip install -e \".[docs]\"")
    out = tmp_path_factory.mktemp("site")
    env = os.environ | QUIET_MKDOCS | {"PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    return out


def test_site_builds_strictly_with_every_part(site):
    for page in ["index.html", "reverse_mode.html", "internals.html", "writing_an_op.html", "exercises/index.html",
                 "notebooks.html", "reproductions/index.html", "sweeps.html", "cuda.html", "benchmarks/RESULTS.html",
                 "reference/index.html", "reference/minigrad.autograd.html", "reference/wgan.losses.html"]:
        assert (site / page).is_file(), f"{page} is missing from the built site"
    reference = (site / "reference/minigrad.autograd.html").read_text()
    assert "backward_order" in reference and "Latest generation first" in reference  # rendered from the docstring
    for chapter in ["reverse_mode", "internals", "writing_an_op"]:
        notebook = json.loads((site / "notebooks" / f"{chapter}.ipynb").read_text())
        assert any(cell["cell_type"] == "code" for cell in notebook["cells"])
    assert not list(site.glob("notebooks/*.md")), "the notebooks are generated at build time, not committed"


def test_site_uses_nothing_from_the_network(site):
    """Offline: no web font, no script or stylesheet from another host."""
    for page in site.rglob("*.html"):
        text = page.read_text()
        assert "fonts.googleapis" not in text and "fonts.gstatic" not in text, f"{page.name} loads a web font"
        for marker in ('src="http', '<link rel="stylesheet" href="http'):
            assert marker not in text, f"{page.relative_to(site)} loads {marker}... from the network"


def test_a_chapter_runs_end_to_end_as_a_notebook(tmp_path):
    """The notebook the build makes of Chapter 0 executes top to bottom in a Jupyter kernel."""
    missing = [name for name in ["jupytext", "nbformat", "nbclient", "ipykernel"] if not installed(name)]
    require(not missing, f"the docs extra is not installed (missing {', '.join(missing)}): pip install -e \".[docs]\"")
    import nbclient

    spec = importlib.util.spec_from_file_location("site_pages", ROOT / "scripts" / "site_pages.py")
    site_pages = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(site_pages)  # defines the page makers; makes nothing when imported
    notebook = site_pages.notebook("reverse_mode")
    shown = [output["text"] for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    client = nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(ROOT)}})
    client.execute(env=os.environ | {"PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"})
    printed = ["".join(output.get("text", "") for output in cell.outputs if output.get("name") == "stdout")
               for cell in notebook.cells if cell.cell_type == "code"]
    assert [" ".join(text.split()) for text in printed if text] == [" ".join(text.split()) for text in shown]


# ----------------------------------------------------------------------------- in a real browser
@pytest.fixture(scope="module")
def server(site):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}/"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    require(installed("playwright"), "the playwright package is not installed (it is in the docs extra)")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    require(chromium is not None, "Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"], headless=True)
        yield launched
        launched.close()


class Visit:
    """A browser page that records console errors, page errors, failed loads (and 4xx/5xx answers) and
    requests to other hosts."""

    def __init__(self, browser, base: str):
        self.page = browser.new_page(viewport={"width": 1280, "height": 900})
        self.problems: list[str] = []
        self.page.on("console", lambda message: message.type == "error" and self.problems.append(
            f"console error: {message.text}"))
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        self.page.on("requestfailed", self.failed)
        self.page.on("response", lambda response: response.status >= 400 and self.problems.append(
            f"{response.url}: status {response.status}"))
        self.page.route("**/*", self.only_local)

    def failed(self, request) -> None:
        # a load cut short by leaving the page (a click mid-load) is no broken file; images are checked apart
        if "ERR_ABORTED" not in (request.failure or ""):
            self.problems.append(f"failed to load {request.url}: {request.failure}")

    def only_local(self, route):
        host = urlparse(route.request.url).hostname
        if host not in ("127.0.0.1", None):
            self.problems.append(f"asked the network for {route.request.url}")
            route.abort()
        else:
            route.continue_()

    def open(self, url: str) -> None:
        response = self.page.goto(url, wait_until="load")
        assert response is not None and response.status == 200, f"{url}: status {response and response.status}"
        self.page.wait_for_load_state("networkidle")

    def check_rendered(self, url: str) -> None:
        title = self.page.locator("article h1").first
        assert title.is_visible() and title.inner_text().strip(), f"{url}: no visible title"
        assert self.page.locator("article").inner_text().strip(), f"{url}: an empty page"
        broken = self.page.evaluate("""() => Array.from(document.images)
            .filter(img => !(img.complete && img.naturalWidth > 0)).map(img => img.getAttribute('src'))""")
        assert not broken, f"{url}: images that did not load: {broken}"
        assert not self.problems, f"{url}: {self.problems}"


def nav_pages(visit: Visit, base: str) -> list[str]:
    """Every page the site's navigation links to, from the home page."""
    visit.open(base + "index.html")
    hrefs = visit.page.eval_on_selector_all("nav.md-nav--primary a.md-nav__link[href]",
                                            "links => links.map(a => a.href)")
    return sorted({href.split("#")[0] for href in hrefs if href.startswith(base)})


def test_every_page_renders_with_its_images_and_no_console_error(browser, server):
    visit = Visit(browser, server)
    pages = nav_pages(visit, server)
    assert len(pages) >= 10, f"the navigation links to only {pages}"
    extra = ["reproductions/batchnorm-critic/batchnorm_critic.html", "reference/minigrad.viz.html",
             "benchmarks/results/reproductions/index.html"]
    for url in pages + [server + page for page in extra]:
        visit.open(url)
        visit.check_rendered(url)


def test_navigation_and_search_work(browser, server):
    visit = Visit(browser, server)
    visit.open(server + "index.html")
    visit.page.locator("nav.md-nav--primary a.md-nav__link", has_text="Chapter 0").first.click()
    visit.page.wait_for_url("**/reverse_mode.html")
    assert "Chapter 0" in visit.page.locator("article h1").inner_text()
    visit.page.locator("a.md-footer__link--next").click()  # the footer's "Next" goes to the next chapter
    visit.page.wait_for_url("**/internals.html")
    visit.page.locator("article a[href='reverse_mode.html']").first.click()  # a link inside the text
    visit.page.wait_for_url("**/reverse_mode.html")
    visit.page.locator(".md-search__input").click()
    visit.page.locator(".md-search__input").fill("sum_to")
    results = visit.page.locator(".md-search-result__item")
    results.first.wait_for(timeout=15000)
    assert results.count() >= 1
    assert not visit.problems, visit.problems
