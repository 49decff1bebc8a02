"""The documentation site: built by Sphinx with warnings as errors, one API page per
registered loss with its plot, MathJax served from the build, and the formulas typeset in
a real browser (headless Chromium) with the network cut off."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import arrayloss

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

pytest.importorskip("sphinx", reason="the docs extra: pip install -e '.[docs]'")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    # Small figures keep the build fast; the published site draws 201 points at 80 dpi.
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html", "-q",
               "-D", "arrayloss_plot_points=41", "-D", "arrayloss_plot_dpi=40",
               "-d", str(out / "doctrees"), str(DOCS), str(out / "html")]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert done.returncode == 0, f"sphinx failed:\n{done.stdout}\n{done.stderr}"
    assert "WARNING" not in done.stderr, done.stderr
    return out / "html"


def test_one_page_per_loss(site):
    names = arrayloss.available()
    pages = {p.stem for p in (site / "api").glob("*.html")} - {"index", "more"}
    assert pages == set(names)
    gallery = (site / "gallery" / "index.html").read_text()
    index = (site / "api" / "index.html").read_text()
    for name in names:
        page = (site / "api" / f"{name}.html").read_text()
        assert f"arrayloss.{name}" in page or f"<span class=\"pre\">{name}</span>" in page
        for section in ("Conventions against Keras, PyTorch, optax and scikit-learn",
                        "Backends", "Plot"):
            assert section in page, (name, section)
        image = re.search(r'<img[^>]+src="([^"]+\.png)"', page)
        assert image, f"{name}: no plot on its page"
        assert (site / "api" / html.unescape(image.group(1))).stat().st_size > 2000
        assert f"{name}.html" in index and f"{name}.html" in gallery
    assert "overview_regression.png" in gallery and "overview_classification.png" in gallery


def test_formulas_are_rendered_math(site):
    page = (site / "api" / "huber.html").read_text()
    assert 'class="math' in page and r"\delta" in page  # the docstring's .. math::
    # MathJax comes from the build, not from a CDN.
    scripts = re.findall(r'<script[^>]+src="([^"]+)"', page)
    mathjax = [s for s in scripts if "mathjax" in s.lower()]
    assert mathjax and all("://" not in s for s in mathjax), mathjax
    assert (site / "api" / mathjax[0]).resolve().is_file()
    for built in site.rglob("*.html"):
        assert "cdn.jsdelivr.net" not in built.read_text(), built


def test_math_is_typeset_in_a_browser_offline(site):
    browser = next((b for b in map(shutil.which, BROWSERS) if b), None)
    if browser is None:
        pytest.fail("headless Chromium is needed to check that the site's math renders: "
                    "install it with `apt-get install -y chromium` (Debian/Ubuntu)")
    page = site / "api" / "huber.html"
    command = [browser, "--headless", "--no-sandbox", "--disable-gpu",
               "--disable-dev-shm-usage", "--no-first-run",
               # No network at all: every host resolves to nothing.
               "--host-resolver-rules=MAP * ~NOTFOUND",
               "--virtual-time-budget=15000", "--dump-dom", page.as_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    math = page.read_text().count('class="math')
    typeset = dom.count("<mjx-container")
    assert math > 0 and typeset >= math, (math, typeset, dom[-2000:])
    assert "<mjx-merror" not in dom  # no TeX error in any formula


def test_every_code_block_on_the_site_runs():
    """The Markdown pages' ```python blocks run in tests/test_doc_blocks.py; the generated
    pages hold only docstrings (their doctests run under --doctest-modules) and the plot
    command, which tests/test_plot.py runs for every loss."""
    sys.path.insert(0, str(ROOT / "tests"))
    try:
        import test_doc_blocks
    finally:
        sys.path.remove(str(ROOT / "tests"))
    included = {p.resolve() for p in DOCS.glob("*.md")}
    assert included <= {p.resolve() for p in test_doc_blocks.PAGES}
    for generated in (DOCS / "api").glob("*.rst"):
        text = generated.read_text()
        for block in re.findall(r"^\.\. code-block:: (\w+)\n\n((?:   .*\n)+)", text, re.M):
            assert block[0] == "bash" and block[1].strip().startswith(
                "python -m arrayloss plot "), (generated.name, block)
    assert (DOCS / "guide.md").read_text().count("```python") >= 5
