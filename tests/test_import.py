# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""``import skgd`` leaves the interpreter as it found it.

Each test runs in a fresh interpreter, so that what it sees was done by this one
``import skgd`` and not by an earlier test. skgd's own dependencies are imported
first: what they change at import is theirs, not skgd's.
"""

import subprocess
import sys

import pytest

STATE = (
    "import sys, warnings, logging\n"
    "import numpy as np, scipy.sparse, sklearn, array_api_compat\n"
    "def state():\n"
    "    return {\n"
    "        'sys.meta_path': list(sys.meta_path),\n"
    "        'sys.path_hooks': list(sys.path_hooks),\n"
    "        'sys.path': list(sys.path),\n"
    "        'warnings.filters': list(warnings.filters),\n"
    "        'numpy.geterr': np.geterr(),\n"
    "        'sklearn.get_config': sklearn.get_config(),\n"
    "        'logging handlers': list(logging.getLogger().handlers),\n"
    "    }\n"
)


def _run(code):
    subprocess.run([sys.executable, "-c", STATE + code], check=True)


def test_import_changes_no_interpreter_state():
    _run(
        "before = state()\n"
        "import skgd\n"
        "after = state()\n"
        "changed = [k for k in before if before[k] != after[k]]\n"
        "assert not changed, changed\n"
    )


def test_import_with_skl2onnx_loaded_only_registers_the_converters():
    # skl2onnx already imported: skgd adds its two converters to skl2onnx's
    # registry, and changes nothing else.
    pytest.importorskip("skl2onnx")
    _run(
        "from skl2onnx._supported_operators import sklearn_operator_name_map\n"
        "registry = dict(sklearn_operator_name_map)\n"
        "before = state()\n"
        "import skgd\n"
        "assert state() == before\n"
        "added = set(sklearn_operator_name_map) - set(registry)\n"
        "ours = {skgd.GDRegressor, skgd.GDClassifier, skgd.GDRegressorCV}\n"
        "assert added == ours, added\n"
        "assert all(sklearn_operator_name_map[k] == v for k, v in registry.items())\n"
    )


def test_import_loads_no_optional_extra():
    _run(
        "import skgd\n"
        "extras = ('skl2onnx', 'onnxruntime', 'matplotlib', 'dask', 'distributed')\n"
        "loaded = [name for name in extras if name in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
