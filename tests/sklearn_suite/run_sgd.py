# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Run scikit-learn's SGDRegressor tests against ``GDRegressor(solver="sgd")``.

scikit-learn ships ``sklearn/linear_model/tests/test_sgd.py``. This copies it into a
temporary folder with a conftest that replaces ``sklearn.linear_model.SGDRegressor``
by :class:`tests.sklearn_suite.shim.SGDRegressorShim` before the module is imported,
runs its regressor tests with pytest, and prints the pass rate::

    python tests/sklearn_suite/run_sgd.py [--min-pass 0.9] [--show-failures]

It exits non-zero when the pass rate is below ``--min-pass`` (0.9 by default).
Tests that read scikit-learn's private internals are not run: they are
listed in ``EXCLUDED`` with the reason, and the rate is over the others.
``tests/test_sklearn_sgd_suite.py`` runs this in the test suite.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

_CONFTEST = """
import sys
sys.path.insert(0, {root!r})
import sklearn.linear_model
from tests.sklearn_suite.shim import SGDRegressorShim
SGDRegressorShim.__name__ = "SGDRegressor"
sklearn.linear_model.SGDRegressor = SGDRegressorShim

import pytest


@pytest.fixture
def global_random_seed():
    # scikit-learn's own conftest provides this fixture; its default seed is 42.
    return 42
"""

# Regressor tests: parametrized over the regressor classes, or regressor-only.
_SELECT = "SGDRegressor or regress or _reg"

# Regressor tests that reach into scikit-learn's private internals, which no other
# implementation has: test function name -> why it is not run.
EXCLUDED = {
    "test_loss_function_epsilon": (
        "reads SGDRegressor.loss_functions, the private table of sklearn's Cython "
        "loss classes (skgd's losses are skgd.losses objects, rebuilt from "
        "epsilon at each fit)"
    ),
}


def run(show_failures=False):
    """Run the regressor tests on the shim; return ``{test id: outcome}``.

    Outcomes are ``"passed"``, ``"failed"`` (failures and errors) or
    ``"skipped"``; the tests in ``EXCLUDED`` are not run.
    """
    import sklearn

    source = os.path.join(
        os.path.dirname(sklearn.__file__), "linear_model", "tests", "test_sgd.py"
    )
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    select = f"({_SELECT}) and not ({' or '.join(EXCLUDED)})"
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(source, os.path.join(tmp, "test_sgd_on_skgd.py"))
        with open(os.path.join(tmp, "conftest.py"), "w") as f:
            f.write(_CONFTEST.format(root=root))
        report = os.path.join(tmp, "report.xml")
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                "-k",
                select,
                f"--junitxml={report}",
                "--rootdir",
                tmp,
                "-o",
                "addopts=",
                "-W",
                "ignore",
                os.path.join(tmp, "test_sgd_on_skgd.py"),
            ],
            cwd=tmp,
            check=False,
            capture_output=not show_failures,
        )
        outcomes = {}
        for case in ET.parse(report).getroot().iter("testcase"):
            kinds = {child.tag for child in case}
            status = (
                "failed"
                if kinds & {"failure", "error"}
                else "skipped"
                if "skipped" in kinds
                else "passed"
            )
            outcomes[case.get("name")] = status
    return outcomes


def main(argv=None):
    """Run the suite and report; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-pass", type=float, default=0.9)
    parser.add_argument("--show-failures", action="store_true")
    args = parser.parse_args(argv)

    outcomes = run(show_failures=args.show_failures)
    ran = [k for k, v in outcomes.items() if v != "skipped"]
    passed = [k for k in ran if outcomes[k] == "passed"]
    rate = len(passed) / max(len(ran), 1)
    print(
        f"sklearn test_sgd.py regressor tests on GDRegressor(solver='sgd', "
        f"batch_size=1): {len(passed)} passed of {len(ran)} run "
        f"({rate:.1%}); {len(outcomes) - len(ran)} skipped; "
        f"{len(EXCLUDED)} excluded (private internals):"
    )
    for name, reason in EXCLUDED.items():
        print(f"  excluded: {name}: {reason}")
    for name in sorted(k for k in ran if outcomes[k] != "passed"):
        print(f"  failed: {name}")
    return 0 if rate >= args.min_pass else 1


if __name__ == "__main__":
    sys.exit(main())
