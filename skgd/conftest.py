# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Pytest hooks for the doctests under skgd/ (as scikit-learn's own conftest does).

Doctests of modules behind an optional extra are skipped when the extra is missing,
and figures are drawn headless and closed after each test. No fixtures live here:
those are in tests/conftest.py.
"""

import importlib.util
import os
import sys

import pytest

# module prefix -> the import names its doctests need (the extra in parentheses)
_DOCTEST_REQUIRES = {
    "skgd._display": ("matplotlib",),  # plot
    "skgd._onnx": ("skl2onnx", "onnxruntime"),  # onnx
}


def pytest_configure(config):
    """Draw with the headless Agg backend unless the user chose one."""
    os.environ.setdefault("MPLBACKEND", "Agg")


def pytest_collection_modifyitems(config, items):
    """Skip doctests whose optional dependencies are not installed."""
    for item in items:
        if type(item).__name__ != "DoctestItem":
            continue
        for prefix, modules in _DOCTEST_REQUIRES.items():
            if not item.name.startswith(prefix + "."):
                continue
            missing = [m for m in modules if importlib.util.find_spec(m) is None]
            if missing:
                item.add_marker(pytest.mark.skip(reason=f"needs {', '.join(missing)}"))


@pytest.fixture(autouse=True)
def _close_figures():
    """Close the figures a doctest opened."""
    yield
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
