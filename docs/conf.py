"""Sphinx configuration of arrayloss's documentation site.

Build: ``python -m pip install -e ".[docs]" && python -m sphinx -W -b html docs docs/_build/html``.
The API pages (``api/``) and the gallery (``gallery/``) are generated from the registry at
build time by ``_ext/arrayloss_pages.py``; the Markdown pages are read by MyST. MathJax is
served from the build itself (``sphinx-mathjax-offline``): the pages typeset their
formulas with no network.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "_ext"))

import arrayloss  # noqa: E402

project = "arrayloss"
author = "arrayloss contributors"
copyright = "arrayloss contributors"
release = version = arrayloss.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # MathJax 3 copied into _static/mathjax: no CDN
    "arrayloss_pages",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_ext", "Thumbs.db", ".DS_Store"]

myst_heading_anchors = 3  # the Markdown pages link to their sections by heading
myst_enable_extensions = ["dollarmath"]

autodoc_typehints = "none"  # the signature's defaults say it; Annotated rules are listed
autodoc_default_options = {"members": False}
add_module_names = False

html_theme = "alabaster"
html_title = f"arrayloss {release}"
html_theme_options = {"description": "ML losses written once against the Python array API",
                      "page_width": "1180px", "sidebar_width": "240px"}
html_static_path = ["_static"]
html_css_files = ["arrayloss.css"]
html_show_sourcelink = False

# Small, fast figures: python -m sphinx -D arrayloss_plot_points=61 ... (or the environment
# variables ARRAYLOSS_DOCS_POINTS and ARRAYLOSS_DOCS_DPI).
arrayloss_plot_points = 201
arrayloss_plot_dpi = 80
