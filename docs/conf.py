# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Sphinx configuration of the skgd documentation (build it with docs/build.sh).

Autosummary API pages, numpydoc docstrings, a sphinx-gallery of executed examples
and intersphinx links to Python, NumPy, SciPy, scikit-learn and matplotlib. The
benchmark table of the README is converted to ``_generated/benchmarks_table.rst``,
which ``benchmarks.rst`` includes, so that the table has one source.
"""

import os
import re
import sys
import zlib
from pathlib import Path

DOCS = Path(__file__).resolve().parent
# Document the skgd of this source tree, not whatever copy happens to be installed.
sys.path.insert(0, str(DOCS.parent))
os.environ.setdefault("MPLBACKEND", "Agg")

import skgd

project = "skgd"
author = "The skgd developers"
copyright = "The skgd developers, BSD-3-Clause"
release = skgd.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.doctest",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
# _generated/ holds files that pages include, not pages of their own.
exclude_patterns = [
    "_build",
    "_generated",
    "generated/*.examples",
    "examples/README.txt",
]
default_role = "literal"
add_function_parentheses = False

# -- the benchmark table ---------------------------------------------------------
_TABLE_START, _TABLE_END = "<!-- benchmarks-table -->", "<!-- /benchmarks-table -->"


def _markdown_table_to_rst(markdown):
    """Return the markdown table ``markdown`` as an RST list-table.

    The first row is the header, the ``|---|`` row is dropped, and code spans
    (`` `x` ``) become RST literals; a cell may hold ``\\|`` for a literal bar.
    """
    rows = []
    for line in markdown.strip().splitlines():
        cells = re.split(r"(?<!\\)\|", line.strip().strip("|"))
        cells = [c.strip().replace("\\|", "|") for c in cells]
        if all(re.fullmatch(r":?-+:?", c) for c in cells):
            continue
        rows.append([re.sub(r"`([^`]+)`", r"``\1``", c) for c in cells])
    if len({len(row) for row in rows}) != 1:
        raise ValueError("the README's benchmark table has rows of unequal length")
    out = [".. list-table::", "   :header-rows: 1", ""]
    for row in rows:
        out += [f"   * - {row[0]}"] + [f"     - {cell}" for cell in row[1:]]
    return "\n".join(line.rstrip() for line in out) + "\n"


def _write_benchmarks_table():
    """Write the README's benchmark table (between its markers) as an RST include."""
    readme = (DOCS.parent / "README.md").read_text(encoding="utf-8")
    start, end = readme.find(_TABLE_START), readme.find(_TABLE_END)
    if start < 0 or end < start:
        raise RuntimeError(f"README.md lacks {_TABLE_START} ... {_TABLE_END}")
    rst = _markdown_table_to_rst(readme[start + len(_TABLE_START) : end])
    target = DOCS / "_generated" / "benchmarks_table.rst"
    target.parent.mkdir(exist_ok=True)
    # Rewritten only when changed, so that Sphinx does not rebuild the page each time.
    if not target.exists() or target.read_text(encoding="utf-8") != rst:
        target.write_text(rst, encoding="utf-8")


_write_benchmarks_table()

# -- API pages -------------------------------------------------------------------
autosummary_generate = True
autodoc_default_options = {"members": False, "inherited-members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

# -- intersphinx -----------------------------------------------------------------
# Each inventory has a second, empty location: without network (as on the CI
# machines) the links to other projects are simply left out, instead of the
# "failed to reach any of the inventories" warning failing the -W build.
_EMPTY_INVENTORY = DOCS / "_build" / "empty-objects.inv"
_EMPTY_INVENTORY.parent.mkdir(exist_ok=True)
_EMPTY_INVENTORY.write_bytes(
    b"# Sphinx inventory version 2\n# Project: none\n# Version: 0\n"
    b"# The remainder of this file is compressed using zlib.\n" + zlib.compress(b"")
)


def _inventory(url):
    """Return an intersphinx entry for ``url`` that degrades to no links offline."""
    return (url, (None, str(_EMPTY_INVENTORY)))


intersphinx_mapping = {
    "python": _inventory("https://docs.python.org/3/"),
    "numpy": _inventory("https://numpy.org/doc/stable/"),
    "scipy": _inventory("https://docs.scipy.org/doc/scipy/"),
    "sklearn": _inventory("https://scikit-learn.org/stable/"),
    "matplotlib": _inventory("https://matplotlib.org/stable/"),
}
intersphinx_timeout = 10

# -- sphinx-gallery --------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "doc_module": ("skgd",),
    "backreferences_dir": "generated",
    "reference_url": {"skgd": None},
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "abort_on_example_error": True,
    "show_memory": False,
    "plot_gallery": "True",
}

# -- HTML ------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skgd {release}"
html_static_path = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
html_show_sourcelink = False


# -- docstrings ------------------------------------------------------------------
def _join_continued_lines(app, what, name, obj, options, lines):
    r"""Join docstring lines ending in a backslash, as Python does in plain strings.

    numpydoc parameter types too long for one line end in ``\`` (scikit-learn's
    habit); in a raw docstring (needed for ``.. math::``) the backslash stays, so it
    is joined here, before numpydoc parses the sections.
    """
    i = 0
    while i < len(lines) - 1:
        if lines[i].endswith("\\") and not lines[i].endswith("\\\\"):
            lines[i] = lines[i][:-1].rstrip() + " " + lines.pop(i + 1).lstrip()
        else:
            i += 1


def setup(app):
    """Register the docstring hook ahead of numpydoc's (priority 500)."""
    app.connect("autodoc-process-docstring", _join_continued_lines, priority=100)
