# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""User-written losses and penalties, taken from docs/extending.rst as they are.

The page's Python blocks are run in order in one namespace, so its examples are the
classes tested here: each fits with every solver and gives the coefficients of its
built-in equivalent, or fails when the fit starts, naming what it leaves out.
"""

import math
import pathlib
import textwrap
import warnings
from dataclasses import dataclass

import numpy as np
import pytest
from array_api_compat import array_namespace

from skgd import GDRegressor
from skgd._backend._dense import DenseBackend
from skgd.losses import EpsilonInsensitive, Loss
from skgd.penalties import L1, Penalty
from skgd.testing import check_loss, check_penalty, check_support

DOC = pathlib.Path(__file__).parents[1] / "docs" / "extending.rst"


def _python_blocks(text):
    """Return the bodies of the ``.. code-block:: python`` directives of ``text``."""
    lines, blocks, i = text.splitlines(), [], 0
    while i < len(lines):
        i += 1
        if lines[i - 1].strip() != ".. code-block:: python":
            continue
        body = []
        while i < len(lines) and (not lines[i].strip() or lines[i][:4] == "    "):
            body.append(lines[i])
            i += 1
        blocks.append(textwrap.dedent("\n".join(body)))
    return blocks


@pytest.fixture(scope="module")
def doc():
    """The namespace of the page's examples, run in order (warnings are errors)."""
    namespace = {}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for block in _python_blocks(DOC.read_text()):
            exec(compile(block, str(DOC), "exec"), namespace)
    return namespace


def _problem(seed=0, n_samples=60, n_features=5):
    """A small regression problem with heavy-tailed noise."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, n_features))
    y = X @ rng.normal(size=n_features) + rng.standard_t(2, size=n_samples)
    return X, y


def _fit(X, y, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the stochastic solvers' convergence
        return GDRegressor(random_state=0, **params).fit(X, y)


# Tight for the full-batch solver; the minibatch ones take their defaults.
_SOLVER_PARAMS = {
    "gd": {"tol": 1e-8, "max_iter": 100_000},
    "sgd": {"eta0": 0.05, "max_iter": 50},
    "adam": {"eta0": 0.05, "max_iter": 50},
}


def test_doc_examples_run(doc):
    assert doc["reg"].coef_.shape == (30,)
    assert doc["median"].n_iter_ > 0
    assert np.all(np.isfinite(doc["stochastic"].coef_))
    # The lasso of the page took the working sets of penalty="l1".
    builtin = GDRegressor(penalty="l1", alpha=0.5, tol=1e-10).fit(doc["X"], doc["y"])
    np.testing.assert_array_equal(doc["lasso"].coef_, builtin.coef_)
    assert doc["lasso"].n_iter_ == builtin.n_iter_


@pytest.mark.parametrize("solver", ["gd", "sgd", "adam"])
def test_user_non_smooth_loss_matches_builtin(doc, solver):
    X, y = _problem(2, 30, 3)
    params = dict(_SOLVER_PARAMS[solver], solver=solver, alpha=0.05)
    ours = _fit(X, y, loss=doc["AbsoluteError"](), **params)
    builtin = _fit(X, y, loss=EpsilonInsensitive(epsilon=0.0), **params)
    np.testing.assert_allclose(ours.coef_, builtin.coef_, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ours.intercept_, builtin.intercept_, rtol=1e-12)
    assert ours.n_iter_ == builtin.n_iter_


def test_user_non_smooth_loss_without_conjugate_converges(doc):
    # Without dual_value "gd" narrows the smoothing down to tol and stops on the
    # proximal-gradient measure: the same optimum, without a certificate.
    @dataclass(frozen=True)
    class Uncertified(doc["AbsoluteError"]):
        has_conjugate = False

    X, y = _problem(2, 30, 3)
    params = dict(_SOLVER_PARAMS["gd"], alpha=0.05)
    ours = _fit(X, y, loss=Uncertified(), **params)
    builtin = _fit(X, y, loss=EpsilonInsensitive(epsilon=0.0), **params)
    np.testing.assert_allclose(ours.coef_, builtin.coef_, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("solver", ["gd", "sgd", "adam"])
def test_user_l1_penalty_matches_builtin(doc, solver):
    X, y = _problem(1)
    params = dict(_SOLVER_PARAMS[solver], solver=solver)
    ours = _fit(X, y, penalty=doc["MyL1"](alpha=0.1), **params)
    builtin = _fit(X, y, penalty=L1(alpha=0.1), **params)
    np.testing.assert_allclose(ours.coef_, builtin.coef_, rtol=1e-12, atol=1e-14)
    assert ours.n_iter_ == builtin.n_iter_


def test_user_l1_penalty_gets_working_sets(doc, monkeypatch):
    # 1,000 features, 5 informative: the built-in L1 solves on working sets, and
    # so does the page's MyL1, which declares its elastic-net weights: a handful of
    # passes over all the columns. Without the weights the same penalty runs
    # proximal gradient on all the features, one pass (or two) per iteration.
    rng = np.random.default_rng(2)
    X = rng.normal(size=(100, 1000))
    y = X[:, :5] @ rng.normal(scale=3.0, size=5) + rng.normal(size=100)

    @dataclass(frozen=True)
    class Undeclared(doc["MyL1"]):
        def elastic_net_weights(self):
            return None

    full_passes = []
    for name in ("rmatvec", "rmatvec_sum"):
        method = getattr(DenseBackend, name)

        def spy(self, A, r, method=method):
            full_passes.append(A.shape[1] == X.shape[1])
            return method(self, A, r)

        monkeypatch.setattr(DenseBackend, name, spy)

    def fit(penalty):
        full_passes.clear()
        est = _fit(X, y, penalty=penalty, alpha=0.3, tol=1e-10, max_iter=100_000)
        return est, sum(full_passes)

    builtin, builtin_passes = fit(L1(alpha=0.3))
    ours, our_passes = fit(doc["MyL1"](alpha=0.3))
    plain, plain_passes = fit(Undeclared(alpha=0.3))
    np.testing.assert_array_equal(ours.coef_, builtin.coef_)
    assert ours.n_iter_ == builtin.n_iter_
    # (About one pass per check of the working set, which grows by at most the
    # support's size per check: a handful of checks at tol=1e-10.)
    assert our_passes == builtin_passes <= 16
    assert plain_passes > 10 * our_passes
    assert plain.n_iter_ > 2 * ours.n_iter_
    np.testing.assert_allclose(plain.coef_, builtin.coef_, rtol=1e-5, atol=1e-6)


def test_user_penalty_without_dual_fits(doc):
    # value and prox alone: "gd" stops on the proximal-gradient measure, a square of
    # the distance to the optimum (hence the smaller tol).
    @dataclass(frozen=True)
    class ProxOnly(Penalty):
        alpha: float = 1.0

        value = doc["MyL1"].value
        prox = doc["MyL1"].prox

    X, y = _problem(3)
    for solver in ("gd", "sgd", "adam"):
        params = dict(_SOLVER_PARAMS[solver], solver=solver)
        params["tol"] = 1e-12 if solver == "gd" else None
        ours = _fit(X, y, penalty=ProxOnly(alpha=0.1), **params)
        builtin = _fit(X, y, penalty=L1(alpha=0.1), **params)
        np.testing.assert_allclose(ours.coef_, builtin.coef_, rtol=1e-4, atol=1e-5)
    check_penalty(ProxOnly(alpha=0.2))


def test_loss_without_smoothed_fails_at_start_of_gd(doc):
    rough = doc["RoughAbsoluteError"]()
    X, y = _problem()
    with pytest.raises(ValueError, match=r"smoothed\(mu\).*solver='sgd' or 'adam'"):
        GDRegressor(loss=rough, solver="gd").fit(X, y)
    with pytest.raises(AssertionError, match=r"smoothed\(mu\)"):
        check_loss(rough)
    for solver in ("sgd", "adam"):
        params = dict(_SOLVER_PARAMS[solver], solver=solver, alpha=0.05)
        ours = _fit(X, y, loss=rough, **params)
        builtin = _fit(X, y, loss=EpsilonInsensitive(epsilon=0.0), **params)
        np.testing.assert_allclose(ours.coef_, builtin.coef_, rtol=1e-12, atol=1e-14)


def test_smooth_loss_without_curvature_bound_fails_early(doc):
    @dataclass(frozen=True)
    class Unbounded(doc["LogCosh"]):
        curvature_bound = None

    X, y = _problem()
    with pytest.raises(ValueError, match="curvature_bound is None"):
        GDRegressor(loss=Unbounded()).fit(X, y)
    with pytest.raises(ValueError, match="curvature_bound"):
        GDRegressor(loss=Unbounded(), penalty=L1(0.1)).fit(X, y)
    assert np.all(np.isfinite(_fit(X, y, loss=Unbounded(), solver="sgd").coef_))
    check_loss(Unbounded(), solvers=("sgd", "adam"))


def test_non_separable_penalty_fits_with_sgd_only():
    @dataclass(frozen=True)
    class GroupNorm(Penalty):
        """alpha ||w||_2: its prox shrinks the whole vector, by a scalar step."""

        alpha: float = 1.0
        is_separable = False

        def value(self, w):
            xp = array_namespace(w)
            return self.alpha * xp.sqrt(xp.sum(w * w))

        def prox(self, v, step):
            xp = array_namespace(v)
            norm = float(xp.sqrt(xp.sum(v * v)))
            return v * max(0.0, 1.0 - step * self.alpha / norm) if norm else v

    X, y = _problem(4)
    for solver in ("gd", "adam"):
        with pytest.raises(ValueError, match="is_separable=False"):
            GDRegressor(penalty=GroupNorm(0.1), solver=solver).fit(X, y)
    sgd = _fit(X, y, penalty=GroupNorm(0.1), solver="sgd", eta0=0.01)
    assert np.all(np.isfinite(sgd.coef_))
    check_penalty(GroupNorm(0.3), solvers=("sgd",))


def test_check_support_names_what_is_missing(doc):
    @dataclass(frozen=True)
    class NoGradient(Loss):
        curvature_bound = 1.0

        def pointwise(self, y, raw):
            return (y - raw) ** 2 / 2

    @dataclass(frozen=True)
    class NoConjugate(Penalty):
        value = doc["MyL1"].value
        prox = doc["MyL1"].prox
        dual_scale = doc["MyL1"].dual_scale
        alpha: float = 1.0

    @dataclass(frozen=True)
    class NoDualValue(doc["LogCosh"]):
        has_conjugate = True

    my_l1 = doc["MyL1"]()
    for solver in ("gd", "sgd", "adam"):
        with pytest.raises(ValueError, match=r"NoGradient .*gradient\(y, raw\)"):
            check_support(NoGradient(), my_l1, solver)
    with pytest.raises(ValueError, match=r"not conjugate\(v\)"):
        check_support(doc["LogCosh"](), NoConjugate(), "gd")
    check_support(doc["LogCosh"](), NoConjugate(), "sgd")
    with pytest.raises(ValueError, match=r"dual_value\(y, theta, u\)"):
        check_support(NoDualValue(), my_l1, "gd")
    with pytest.raises(ValueError, match="need an elastic net with an L1 part"):
        check_support(doc["LogCosh"](), NoConjugate(), "working_set")
    with pytest.raises(TypeError, match="skgd.losses.Loss"):
        check_support("squared_error", my_l1, "gd")
    with pytest.raises(ValueError, match="Unknown solver"):
        check_support(doc["LogCosh"](), my_l1, "lbfgs")


def test_checks_catch_a_wrong_declaration(doc):
    @dataclass(frozen=True)
    class TooFlat(doc["LogCosh"]):
        curvature_bound = 0.1

    @dataclass(frozen=True)
    class Misdeclared(doc["MyL1"]):
        def elastic_net_weights(self):
            return (self.alpha, 1.0)

    with pytest.raises(AssertionError, match="curvature_bound"):
        check_loss(TooFlat())
    with pytest.raises(AssertionError, match="elastic_net_weights"):
        check_penalty(Misdeclared(alpha=0.3))
    check_loss(doc["LogCosh"]())
    assert math.isinf(doc["MyL1"](alpha=0.1).conjugate(np.array([0.2])))
