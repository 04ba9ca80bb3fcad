# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Without the optional extras, ``import skgd`` is silent and features name the extra.

Each test blocks the optional imports in a fresh interpreter, so it runs whether or
not the extras are installed.
"""

import subprocess
import sys

BLOCKED = (
    "import sys, warnings\n"
    "warnings.simplefilter('error')\n"
    "for name in ('skl2onnx', 'onnxruntime', 'matplotlib', 'matplotlib.pyplot'):\n"
    "    sys.modules[name] = None\n"
    "import skgd\n"
)


def _run(code):
    subprocess.run([sys.executable, "-c", BLOCKED + code], check=True)


def test_extras_import_skgd_without_them():
    _run("assert 'LossCurveDisplay' in skgd.__all__\n")


def test_extras_register_onnx_converter_names_the_extra():
    _run(
        "try:\n"
        "    skgd.register_onnx_converter()\n"
        "except ImportError as exc:\n"
        "    assert 'skgd[onnx]' in str(exc), exc\n"
        "else:\n"
        "    raise AssertionError('no ImportError')\n"
    )


def test_extras_loss_curve_display_names_the_extra():
    _run(
        "try:\n"
        "    skgd.LossCurveDisplay(loss_curve=[1.0]).plot()\n"
        "except ImportError as exc:\n"
        "    assert 'skgd[plot]' in str(exc), exc\n"
        "else:\n"
        "    raise AssertionError('no ImportError')\n"
    )
