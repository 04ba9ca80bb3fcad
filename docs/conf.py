# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Sphinx configuration of the skgd documentation (build it with docs/build.sh).

Autosummary API pages, numpydoc docstrings, a sphinx-gallery of executed examples
and intersphinx links to Python, NumPy, SciPy, scikit-learn and matplotlib.
"""

import os
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
exclude_patterns = ["_build", "generated/*.examples", "examples/README.txt"]
default_role = "literal"
add_function_parentheses = False

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
