# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Run scikit-learn's SGD tests against ``GDRegressor`` and ``GDClassifier``.

scikit-learn ships ``sklearn/linear_model/tests/test_sgd.py``. This copies it into a
temporary folder with a conftest that replaces ``sklearn.linear_model.SGDRegressor``
and ``SGDClassifier`` by the shims of :mod:`tests.sklearn_suite.shim`
(``solver="sgd"``, ``batch_size=1``, scikit-learn's defaults) before the module is
imported, runs its regressor or its classifier tests (the sparse ones included) with
pytest, and prints the pass rate::

    python tests/sklearn_suite/run_sgd.py [--kind classifier] [--min-pass 0.9]
        [--show-failures]

It exits non-zero when the pass rate is below ``--min-pass`` (0.9 by default). A
test that runs past ``TIME_LIMIT`` seconds fails, so that the run stays bounded.
Tests that read scikit-learn's private internals are not run: they are
listed in ``EXCLUDED`` (regressor) and ``EXCLUDED_CLASSIFIER`` with the reason, and
the rate is over the others. ``tests/test_sklearn_sgd_suite.py`` runs both in the
test suite.

The child pytest is isolated from the one that calls :func:`run`: it inherits none
of its ``PYTEST_*`` (nor coverage) environment variables, loads no plugin but its
conftest, writes no junit report, and its conftest records the outcomes in a file
of its own, from its own process only (the suite's multiprocessing tests fork it).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

_CONFTEST = """
import json
import os
import signal
import sys
sys.path.insert(0, {root!r})
import sklearn.linear_model
from tests.sklearn_suite.shim import SGDClassifierShim, SGDRegressorShim
SGDRegressorShim.__name__ = "SGDRegressor"
sklearn.linear_model.SGDRegressor = SGDRegressorShim
SGDClassifierShim.__name__ = "SGDClassifier"
sklearn.linear_model.SGDClassifier = SGDClassifierShim

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    # A test that runs past the limit fails (per-sample fits of many epochs are
    # slow in Python), so that the whole run stays within a few minutes. The
    # alarm covers the test's call alone: one that went off in pytest's own
    # reporting or a fixture's teardown would end the session, not the test.
    def expire(signum, frame):
        raise TimeoutError("the test ran past {limit} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm({limit})
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def global_random_seed():
    # scikit-learn's own conftest provides this fixture; its default seed is 42.
    return 42


# Outcomes go to a JSON-lines file, written by this process alone: the suite's
# multiprocessing tests fork it, and a forked worker must not report.
_PID = os.getpid()


def _record(nodeid, when, outcome):
    if os.getpid() == _PID and nodeid:
        with open({outcomes!r}, "a") as f:
            f.write(json.dumps([nodeid, when, outcome]) + "\\n")


def pytest_runtest_logreport(report):
    _record(report.nodeid, report.when, report.outcome)


def pytest_collectreport(report):
    if report.failed:
        _record(report.nodeid, "collect", "failed")
"""

# What the child pytest must not inherit: options, plugins or a report path set for
# the calling pytest (e.g. PYTEST_ADDOPTS="--junitxml=..." in CI), which would make
# the child write its reports where the caller's go.
_INHERITED = ("PYTEST_", "COV_CORE_")

# Seconds a test may run; one that runs longer fails.
TIME_LIMIT = 60
# Seconds the whole run may take (the classifier's takes several minutes on two
# busy cores); tests that had not ended by then are not reported.
RUN_LIMIT = 1800

# Regressor tests: parametrized over the regressor classes, or regressor-only.
_SELECT = "SGDRegressor or regress or _reg"
# Classifier tests: parametrized over the classifier classes (dense and sparse), or
# classifier-only. scikit-learn's tests of its Cython loss objects (test_loss_hinge
# and the like) do not fit an estimator and are not selected.
_CLASSIFIER_ONLY = (
    "test_l1_ratio",
    "test_underflow_or_overflow",
    "test_numerical_stability_large_gradient",
    "test_large_regularization",
    "test_tol_parameter",
    "test_multi_thread_multi_class_and_early_stopping",
    "test_multi_core_gridsearch_and_early_stopping",
    "test_validation_mask_correctly_subsets",
    "test_sgd_error_on_zero_validation_weight",
)
_SELECT_CLASSIFIER = (
    f"(SGDClassifier or {' or '.join(_CLASSIFIER_ONLY)}) and not SGDRegressor"
)

# Regressor tests that reach into scikit-learn's private internals, which no other
# implementation has: test function name -> why it is not run.
EXCLUDED = {
    "test_loss_function_epsilon": (
        "reads SGDRegressor.loss_functions, the private table of sklearn's Cython "
        "loss classes (skgd's losses are skgd.losses objects, rebuilt from "
        "epsilon at each fit)"
    ),
}


# Classifier tests that reach into scikit-learn's private internals: name -> why.
EXCLUDED_CLASSIFIER = {
    "test_sgd_predict_proba_method_access": (
        "iterates over SGDClassifier.loss_functions, the private table of sklearn's "
        "Cython loss classes"
    ),
    "test_validation_mask_correctly_subsets": (
        "monkeypatches sklearn's private _stochastic_gradient."
        "_ValidationScoreCallback to read the held-out rows it is given"
    ),
}


def run(show_failures=False, kind="regressor"):
    """Run the ``kind`` ("regressor" or "classifier") tests on the shim.

    Returns ``{test id: outcome}``, the outcomes being ``"passed"``, ``"failed"``
    (failures and errors) or ``"skipped"``; the excluded tests are not run.
    """
    import sklearn

    source = os.path.join(
        os.path.dirname(sklearn.__file__), "linear_model", "tests", "test_sgd.py"
    )
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    chosen, excluded = _suite(kind)
    select = f"({chosen}) and not ({' or '.join(excluded)})" if excluded else chosen
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(source, os.path.join(tmp, "test_sgd_on_skgd.py"))
        report = os.path.join(tmp, "outcomes.jsonl")
        with open(os.path.join(tmp, "conftest.py"), "w") as f:
            f.write(_CONFTEST.format(root=root, limit=TIME_LIMIT, outcomes=report))
        # The folder's own ini file: no configuration of a folder above applies.
        with open(os.path.join(tmp, "pytest.ini"), "w") as f:
            f.write("[pytest]\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith(_INHERITED)}
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
        command = [
            sys.executable, "-m", "pytest", "-q", "-c", os.path.join(tmp, "pytest.ini"),
            "-p", "no:cacheprovider", "-p", "no:junitxml", "-W", "ignore",
            "-k", select, os.path.join(tmp, "test_sgd_on_skgd.py"),
        ]  # fmt: skip
        LAST_RUN.clear()
        try:
            child = subprocess.run(
                command,
                cwd=tmp,
                env=env,
                check=False,
                capture_output=not show_failures,
                timeout=RUN_LIMIT,
            )
            if child.returncode < 0:  # the tests that ended are reported
                print(f"the suite's pytest ended by signal {-child.returncode}")
            # What a caller shows where fewer tests ended than expected.
            LAST_RUN.update(returncode=child.returncode, tail=_tail(child))
        except subprocess.TimeoutExpired:
            print(f"the suite ran past {RUN_LIMIT} s; the tests that ended count")
        outcomes = _outcomes(report)
    return outcomes


# The exit status and the last lines of output of the latest child run.
LAST_RUN = {}


def _tail(child, size=3000):
    """Return the end of a child's captured output (stdout, then stderr)."""
    out = (child.stdout or b"") + (child.stderr or b"")
    return out[-size:].decode(errors="replace")


def _outcomes(path):
    """Return ``{test name: outcome}`` from the child's JSON-lines report.

    A test fails if any of its phases (setup, call, teardown) failed or if it has
    no call report (it did not end: the child was stopped during it), else is
    skipped if a phase was skipped; a module that failed to collect is a failure.
    """
    phases = {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                nodeid, when, outcome = json.loads(line)
                phases.setdefault(nodeid.rsplit("::", 1)[-1], {})[when] = outcome
    outcomes = {}
    for name, seen in phases.items():
        if "failed" in seen.values():
            outcomes[name] = "failed"
        elif "skipped" in seen.values():
            outcomes[name] = "skipped"
        else:
            outcomes[name] = "passed" if "call" in seen else "failed"
    return outcomes


def _suite(kind):
    """Return the ``-k`` selection and the excluded tests of ``kind``."""
    if kind == "regressor":
        return _SELECT, EXCLUDED
    if kind == "classifier":
        return _SELECT_CLASSIFIER, EXCLUDED_CLASSIFIER
    raise ValueError(f"kind is 'regressor' or 'classifier', not {kind!r}.")


def main(argv=None):
    """Run the suite and report; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-pass", type=float, default=0.9)
    parser.add_argument("--show-failures", action="store_true")
    parser.add_argument(
        "--kind", choices=("regressor", "classifier"), default="regressor"
    )
    args = parser.parse_args(argv)

    outcomes = run(show_failures=args.show_failures, kind=args.kind)
    _, excluded = _suite(args.kind)
    estimator = "GDRegressor" if args.kind == "regressor" else "GDClassifier"
    ran = [k for k, v in outcomes.items() if v != "skipped"]
    passed = [k for k in ran if outcomes[k] == "passed"]
    rate = len(passed) / max(len(ran), 1)
    print(
        f"sklearn test_sgd.py {args.kind} tests on {estimator}(solver='sgd', "
        f"batch_size=1): {len(passed)} passed of {len(ran)} run "
        f"({rate:.1%}); {len(outcomes) - len(ran)} skipped; "
        f"{len(excluded)} excluded (private internals):"
    )
    for name, reason in excluded.items():
        print(f"  excluded: {name}: {reason}")
    for name in sorted(k for k in ran if outcomes[k] != "passed"):
        print(f"  failed: {name}")
    return 0 if rate >= args.min_pass else 1


if __name__ == "__main__":
    sys.exit(main())
