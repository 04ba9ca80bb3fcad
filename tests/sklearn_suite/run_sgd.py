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
        [--show-failures] [--time-limit 60]

It exits non-zero when the pass rate is below ``--min-pass`` (0.9 by default). A
test that runs past ``--time-limit`` seconds (``TIME_LIMIT``) fails, so that the
run stays bounded; the limit's alarm waits for a line of Python to raise at, so
that pytest can report the failure. The selected tests are listed first: those
the child did not end (its session ended early) run again, by node id, in a
second child, once, which the run prints; ``LAST_RUN`` keeps how each child
ended (exit status, INTERNALERROR and "!!!" lines, end of the output).
Tests that read scikit-learn's private internals are not run: they are
listed in ``EXCLUDED`` (regressor) and ``EXCLUDED_CLASSIFIER`` with the reason, and
the rate is over the others. ``tests/test_sklearn_sgd_suite.py`` runs both in the
test suite.

The child pytest is isolated from the one that calls :func:`run`: it inherits none
of its ``PYTEST_*`` (nor coverage) environment variables, loads no plugin but its
conftest, writes no junit report, and its conftest records the outcomes in a file
of its own, from its own process only (the suite's multiprocessing tests fork it).
``--show-failures`` prints a child's output once it has ended.
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
    _DEFERRED[0] = 0
    previous = signal.signal(signal.SIGALRM, _expire)
    signal.setitimer(signal.ITIMER_REAL, {limit})
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# How many times the current test's timeout was put off (at most a second's worth).
_DEFERRED = [0]


def _expire(signum, frame):
    # Python runs signal handlers at a loop's back-edge, and the jump closing a
    # loop body often has no line number: raised there, the error's traceback has
    # an entry whose tb_lineno is None, on which pytest's report of the failure
    # raises TypeError, an INTERNALERROR that ends the whole session. While a
    # frame on the stack has no line, the timeout waits a millisecond more.
    while frame is not None and _DEFERRED[0] < 1000:
        if frame.f_lineno is None:
            _DEFERRED[0] += 1
            signal.setitimer(signal.ITIMER_REAL, 0.001)
            return
        frame = frame.f_back
    raise TimeoutError("the test ran past {limit} s")


@pytest.fixture
def global_random_seed():
    # scikit-learn's own conftest provides this fixture; its default seed is 42.
    return 42


# Outcomes go to a JSON-lines file, written by this process alone: the suite's
# multiprocessing tests fork it, and a forked worker must not report. Each child
# (the run, the second run of tests the first did not end) has a file of its own.
_PID = os.getpid()


def _record(nodeid, when, outcome):
    if os.getpid() == _PID and nodeid:
        with open(os.environ["SKGD_SUITE_OUTCOMES"], "a") as f:
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


def run(show_failures=False, kind="regressor", time_limit=TIME_LIMIT):
    """Run the ``kind`` ("regressor" or "classifier") tests on the shim.

    Returns ``{test id: outcome}`` over the selected tests, the outcomes being
    ``"passed"``, ``"failed"`` (failures, errors, tests past ``time_limit``
    seconds and tests that did not end) or ``"skipped"``; the excluded tests are
    not run. The selection is listed first; tests that the child pytest did not
    end (its session ended early) run again by node id in a second child, once.
    ``LAST_RUN`` tells how the children ended.
    """
    import sklearn

    source = os.path.join(
        os.path.dirname(sklearn.__file__), "linear_model", "tests", "test_sgd.py"
    )
    chosen, excluded = _suite(kind)
    select = f"({chosen}) and not ({' or '.join(excluded)})" if excluded else chosen
    LAST_RUN.clear()
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(source, os.path.join(tmp, _MODULE))
        with open(os.path.join(tmp, "conftest.py"), "w") as f:
            f.write(_CONFTEST.format(root=_ROOT, limit=time_limit))
        # The folder's own ini file: no configuration of a folder above applies.
        with open(os.path.join(tmp, "pytest.ini"), "w") as f:
            f.write("[pytest]\n")
        target = ["-k", select, _MODULE]
        listing = _child(tmp, ["--collect-only", *target], show_failures=False)
        selected = [n for n in listing.output.splitlines() if n.startswith(_MODULE)]
        first = _child(tmp, target, show_failures)
        LAST_RUN.update(first.summary(), selected=len(selected))
        phases = first.phases
        missing = [n for n in selected if "teardown" not in phases.get(n, {})]
        if missing:
            print(
                f"{len(missing)} of the {len(selected)} selected tests did not end "
                f"in the suite's pytest ({first.cause()}); they run again in a "
                "second one"
            )
            second = _child(tmp, missing, show_failures)
            LAST_RUN["rerun"] = dict(second.summary(), tests=missing)
            phases.update(second.phases)
    ids = selected + [n for n in phases if n not in selected]
    return {n.rsplit("::", 1)[-1]: _outcome(phases.get(n, {})) for n in ids}


# The copy of scikit-learn's test module, in the child's folder.
_MODULE = "test_sgd_on_skgd.py"
# The repository's root, from which the child imports the shims.
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# How the latest run's children ended: the first child's exit status, the lines
# of its output that say why a session ended early ("errors": INTERNALERROR and
# "!!!" lines) and the end of that output; "rerun" the same of the second child
# with the tests it ran; "selected" the number of tests selected.
LAST_RUN = {}


class _Child:
    """One child pytest: its outcomes by node id and phase, its exit and output."""

    def __init__(self, phases, output, returncode):
        self.phases = phases
        self.output = output
        self.returncode = returncode  # None where it ran past RUN_LIMIT

    def errors(self, size=12):
        """Return the "!!!" lines and the last INTERNALERROR lines of the output."""
        lines = self.output.splitlines()
        internal = [line for line in lines if line.startswith("INTERNALERROR>")]
        return [line for line in lines if line.startswith("!!!")] + internal[-size:]

    def cause(self):
        """Return a line saying how the child ended."""
        if self.returncode is None:
            return f"it ran past {RUN_LIMIT} s"
        errors = self.errors(size=1)
        return f"exit status {self.returncode}" + (f": {errors[-1]}" if errors else "")

    def summary(self, size=3000):
        """Return the exit status, the error lines and the end of the output."""
        return dict(
            returncode=self.returncode,
            errors=self.errors(),
            tail=self.output[-size:],
        )


def _child(tmp, args, show_failures):
    """Run pytest with ``args`` in ``tmp`` (conftest and module there)."""
    handle, report = tempfile.mkstemp(suffix=".jsonl", dir=tmp)
    os.close(handle)
    env = {k: v for k, v in os.environ.items() if not k.startswith(_INHERITED)}
    env.update(PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", SKGD_SUITE_OUTCOMES=report)
    command = [
        sys.executable, "-m", "pytest", "-q", "-c", os.path.join(tmp, "pytest.ini"),
        "-p", "no:cacheprovider", "-p", "no:junitxml", "-W", "ignore", *args,
    ]  # fmt: skip
    try:
        done = subprocess.run(
            command,
            cwd=tmp,
            env=env,
            check=False,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=RUN_LIMIT,
        )
        output, returncode = done.stdout, done.returncode
    except subprocess.TimeoutExpired as expired:  # the tests that ended count
        output, returncode = expired.output, None
        print(f"the suite ran past {RUN_LIMIT} s; the tests that ended count")
    output = (output or b"").decode(errors="replace")
    if show_failures:
        print(output)
    if returncode is not None and returncode < 0:  # the tests that ended count
        print(f"the suite's pytest ended by signal {-returncode}")
    return _Child(_phases(report), output, returncode)


def _phases(path):
    """Return ``{node id: {phase: outcome}}`` from a child's JSON-lines report."""
    phases = {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                nodeid, when, outcome = json.loads(line)
                phases.setdefault(nodeid, {})[when] = outcome
    return phases


def _outcome(seen):
    """Return a test's outcome from its phases' outcomes.

    A test fails if any of its phases (setup, call, teardown) failed or if it has
    no call report (it did not end: the child was stopped during it, or never ran
    it), else is skipped if a phase was skipped; a module that failed to collect
    is a failure.
    """
    if "failed" in seen.values():
        return "failed"
    if "skipped" in seen.values():
        return "skipped"
    return "passed" if "call" in seen else "failed"


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
    parser.add_argument("--time-limit", type=float, default=TIME_LIMIT)
    args = parser.parse_args(argv)

    outcomes = run(args.show_failures, args.kind, args.time_limit)
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
