"""Sphinx extension: one API page per registered loss, and the gallery, written at build
time from arrayloss itself (nothing of it is committed; ``docs/api/`` and
``docs/gallery/`` are generated and ignored by git).

Each page has the loss's docstring (its formula, rendered by MathJax), its family, aliases
and the Keras, PyTorch and optax names that resolve to it, its options with their rules,
its derivatives, the conformance suite's peer rows (the calls of Keras, PyTorch, optax,
scikit-learn... that must give the same value, and the pinned differences), the backends
of the published conformance report, and its plot, drawn by ``arrayloss._cli.plot``.

Configuration (``conf.py`` or ``-D``): ``arrayloss_plot_points`` (grid points per curve)
and ``arrayloss_plot_dpi``; the environment variables ``ARRAYLOSS_DOCS_POINTS`` and
``ARRAYLOSS_DOCS_DPI`` override them (the test build draws small, fast figures).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

FAMILY_PAGES = {"regression": "regression", "classification": "classification",
                "segmentation": "structured", "metric_learning": "structured",
                "sequence": "structured", "penalty": "regression"}
LIBRARIES = {"keras": "Keras 3", "torch": "PyTorch", "optax": "optax",
             "sklearn": "scikit-learn", "statsmodels": "statsmodels", "monai": "MONAI",
             "pytorch_metric_learning": "pytorch-metric-learning"}


def _write(path: Path, text: str) -> None:
    """Write only on change, so Sphinx rebuilds only what changed."""
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _title(text: str, mark: str = "=") -> str:
    return f"{text}\n{mark * len(text)}\n"


def _literal(value: Any) -> str:
    return f"``{value!r}``"


def _rule(check: Any) -> str:
    """An option's declared rule in words (``0 < delta``)."""
    low, high = getattr(check, "low", None), getattr(check, "high", None)
    if low is None and high is None:
        return type(check).__name__ if check is not None else ""
    parts = []
    if low is not None:
        parts.append(f"{low:g} {'<' if check.low_open else '≤'} ")
    parts.append("value")
    if high is not None:
        parts.append(f" {'<' if check.high_open else '≤'} {high:g}")
    return "".join(parts)


def _table(header: list[str], rows: list[list[str]], widths: str | None = None) -> str:
    if not rows:
        return ""
    lines = [".. list-table::", "   :header-rows: 1", ""]
    if widths:
        lines.insert(2, f"   :widths: {widths}")
    for row in [header, *rows]:
        lines.append(f"   * - {row[0] or ' '}")
        lines.extend(f"     - {cell or ' '}" for cell in row[1:])
    return "\n".join(lines) + "\n"


def _escape(text: str) -> str:
    return text.replace("*", r"\*").replace("|", r"\|").replace("`", "'")


def conformance_rows(docs: Path) -> tuple[list[str], dict[str, list[str]], str]:
    """The published conformance report's table (docs/conformance.md): its header, its row
    by loss, and its summary line."""
    text = (docs / "conformance.md").read_text(encoding="utf-8")
    header: list[str] = []
    rows: dict[str, list[str]] = {}
    for line in text.splitlines():
        if not line.startswith("| "):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not header:
            header = cells
        elif not set(line) <= set("|- "):
            rows[cells[0]] = cells
    summary = next((m.group(1) for m in re.finditer(r"^\*\*(.+)\*\*$", text, re.M)), "")
    return header, rows, summary


def loss_page(entry: Any, docs: Path, plot_file: str | None, plot_error: str | None) -> str:
    import arrayloss
    from arrayloss.conformance.peers import all_peers
    from arrayloss.core import framework_names

    name, function = entry.name, entry.function
    spec = getattr(function, "spec", None)
    family_page = FAMILY_PAGES.get(entry.family)
    out = [f".. _loss-{name}:", "", _title(name), ".. currentmodule:: arrayloss", ""]
    facts = [f"**Family**: {entry.family.replace('_', ' ')}"
             + (f" (:doc:`../{family_page}`)" if family_page else "")]
    if entry.aliases:
        facts.append("**Aliases**: " + ", ".join(f"``{a}``" for a in entry.aliases))
    mapped = [m for m in framework_names.MAPPED if m.loss == name]
    if mapped:
        facts.append("**Framework names that resolve to it** (``arrayloss.get``): " + ", ".join(
            f"{m.frameworks} ``{m.name}``"
            + (" (" + ", ".join(f"``{k}={v!r}``" for k, v in m.options.items()) + ")"
               if m.options else "") for m in mapped))
    closed = arrayloss.has_closed_form(name)
    facts.append("**Closed-form gradient and Hessian**: "
                 + ("yes, ``arrayloss.gradient`` / ``hessian_diagonal`` (:doc:`../gradients`)"
                    if closed else "no (autodiff of the formula on PyTorch and JAX)"))
    out += ["\n\n".join(facts), ""]
    out += [f".. autofunction:: arrayloss.{name}", ""]

    if spec is not None:
        rows = [[f"``{k}``", _literal(v), _rule(spec.checks.get(k))]
                for k, v in spec.options.items()]
        shared = [o for o in spec.public_options if o not in spec.options]
        out += [_title("Options", "-")]
        if rows:
            out += [_table(["option", "default", "rule"], rows, "30 30 40")]
        out += ["Shared by every loss (:doc:`../rules`): "
                + ", ".join(f"``{o}``" for o in shared) + ".", ""]

    peers = [p for p in all_peers() if p.loss == name]
    out += [_title("Conventions against Keras, PyTorch, optax and scikit-learn", "-")]
    if peers:
        out += ["Each row is a check of the conformance suite: the arrayloss call with these "
                "options and reduction gives the value of the other library's call on the "
                "same inputs, or, for a pinned difference, still differs for the reason "
                "given.", ""]
        rows = [[LIBRARIES.get(p.library, p.library), f"``{p.function}``",
                 ", ".join(f"``{k}={v!r}``" for k, v in p.options.items()) or "defaults",
                 f"``{p.reduction}``",
                 "same value" if p.difference is None
                 else "pinned difference: " + _escape(p.difference)] for p in peers]
        out += [_table(["library", "call", "arrayloss options", "reduction", "agreement"],
                       rows, "12 28 20 10 30")]
    else:
        out += ["No other library's function is checked against this loss.", ""]
    if family_page:
        out += [f"The family page's table, :doc:`../{family_page}`, gives the option of each "
                "library that reproduces it.", ""]

    header, report, summary = conformance_rows(docs)
    out += [_title("Backends", "-")]
    if name in report:
        out += ["From the published :doc:`../conformance` (worst relative error against the "
                "float64 NumPy reference, float64 / float32; gradient agreement; transforms; "
                f"peer rows): {summary}.", ""]
        out += [_table(header[1:], [[_escape(c) for c in report[name][1:]]])]
    else:
        out += ["Not yet in the published conformance report; "
                f"``python -m arrayloss check --loss {name}`` checks it on every installed "
                "backend.", ""]

    out += [_title("Plot", "-")]
    if plot_file:
        out += [f".. image:: {plot_file}", f"   :alt: {name} and its derivative", "",
                "Drawn from arrayloss's own values by", "",
                f".. code-block:: bash\n\n   python -m arrayloss plot {name} -o {name}.png", ""]
    else:
        out += [f"No plot: {plot_error}", ""]
    return "\n".join(out) + "\n"


def generate(app: Any) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from arrayloss._cli import plot
    from arrayloss.core.registry import entries

    docs = Path(app.srcdir)
    api, gallery = docs / "api", docs / "gallery"
    points = int(os.environ.get("ARRAYLOSS_DOCS_POINTS", app.config.arrayloss_plot_points))
    dpi = int(os.environ.get("ARRAYLOSS_DOCS_DPI", app.config.arrayloss_plot_dpi))
    all_entries = entries()
    names = {e.name for e in all_entries}
    for stale in api.glob("*.rst"):  # a loss that left the registry leaves no page behind
        if stale.stem not in names and stale.stem not in ("index", "more"):
            stale.unlink()
    figures = {}
    for entry in all_entries:
        image = api / "_plots" / f"{entry.name}.png"
        image.parent.mkdir(parents=True, exist_ok=True)
        try:
            fig = plot.figure(entry.name, points=points, dpi=dpi)
        except ValueError as error:
            figures[entry.name] = (None, str(error))
        else:
            fig.savefig(image)
            figures[entry.name] = (f"_plots/{entry.name}.png", None)
        _write(api / f"{entry.name}.rst", loss_page(entry, docs, *figures[entry.name]))

    families = list(dict.fromkeys(e.family for e in all_entries))
    index = [_title("API: one page per loss"), "Every loss of the registry "
             "(``arrayloss.available()``), by family. The shared calling convention, "
             "reductions, weights and masks are in :doc:`../rules`.", ""]
    for family in families:
        index += [_title(family.replace("_", " ").capitalize(), "-"),
                  ".. toctree::", "   :maxdepth: 1", ""]
        index += [f"   {e.name}" for e in all_entries if e.family == family]
        index.append("")
    _write(api / "index.rst", "\n".join(index) + "\n")

    page = [_title("Gallery"), "Every loss and its derivative, drawn by "
            "``python -m arrayloss plot NAME -o FILE`` from arrayloss's own values (the "
            "derivative's source, closed form, ``jax.grad`` or finite differences, is named "
            "on each figure). Regression losses are drawn against the error, binary "
            "classification against the logit and the probability, the structured losses "
            "on the 1-D slice their figure names; swept options are Huber's ``delta``, "
            "the focal ``gamma``, the quantile ``q``, the robust ``alpha``, margins and "
            "temperatures.", "", _title("The families compared", "-")]
    for family in ("regression", "classification"):
        if family in families:
            fig = plot.overview(family, points=points, dpi=dpi)
            (gallery / "_plots").mkdir(parents=True, exist_ok=True)
            fig.savefig(gallery / "_plots" / f"overview_{family}.png")
            page += [f".. figure:: _plots/overview_{family}.png",
                     f"   :alt: the {family} losses compared", "",
                     f"   ``python -m arrayloss plot --family {family} -o {family}.png``", ""]
    for family in families:
        page += [_title(family.replace("_", " ").capitalize(), "-")]
        for entry in (e for e in all_entries if e.family == family):
            file, _ = figures[entry.name]
            if file:  # thumbnails side by side, each linked to its loss's page
                page += [f".. figure:: ../api/{file}", f"   :alt: {entry.name}",
                         "   :figwidth: 31%", "   :align: left",
                         f"   :target: ../api/{entry.name}.html", "",
                         f"   :doc:`../api/{entry.name}`", ""]
        page += [".. raw:: html", "", '   <div style="clear: both"></div>', ""]
    _write(gallery / "index.rst", "\n".join(page) + "\n")

    # A page added to docs/ but not yet to index.rst's toctrees is listed here, so that a
    # new page never breaks the build (Sphinx warns about a page in no toctree).
    listed = set(re.findall(r"^   ([\w/.-]+)$", (docs / "index.rst").read_text(), re.M))
    others = sorted(p.stem for p in [*docs.glob("*.md"), *docs.glob("*.rst")]
                    if p.stem not in listed and p.stem != "index")
    more = [_title("Other pages"), "Pages of ``docs/`` not yet placed in a section."
            if others else "Every page of ``docs/`` has its place in the sections.", ""]
    if others:
        more += [".. toctree::", "   :maxdepth: 1", "", *(f"   ../{o}" for o in others), ""]
    _write(api / "more.rst", "\n".join(more) + "\n")


def setup(app: Any) -> dict[str, Any]:
    app.add_config_value("arrayloss_plot_points", 201, "env")
    app.add_config_value("arrayloss_plot_dpi", 80, "env")
    app.connect("builder-inited", generate)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
