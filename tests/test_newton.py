"""The proximal Newton solver: its optima, its stopping measures and its routing."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from skgd import GDClassifier, GDRegressor
from skgd._backend import get_backend
from skgd._objective import LinearObjective
from skgd.losses import Huber, LogLoss, MultinomialLogLoss, SquaredError
from skgd.penalties import L1, L2, NoPenalty
from skgd.solvers._routing import full_batch_solver


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _sklearn(X, y, **params):
    with warnings.catch_warnings():
        # (penalty=None is deprecated in recent scikit-learn, C=inf is not in old.)
        warnings.simplefilter("ignore", FutureWarning)
        return LogisticRegression(max_iter=10_000, **params).fit(X, y)


def test_l2_log_loss_equals_logistic_regression(cancer):
    X, y = cancer
    alpha = 1e-3
    est = GDClassifier(penalty="l2", alpha=alpha, solver="newton", tol=1e-10)
    est.fit(X, y)
    sk = _sklearn(
        X, y, C=1.0 / (alpha * X.shape[0]), solver="newton-cholesky", tol=1e-14
    )
    np.testing.assert_allclose(est.coef_, sk.coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(est.intercept_, sk.intercept_, rtol=1e-6)
    assert est.n_iter_ <= 15


def test_no_penalty_equals_logistic_regression(cancer):
    # Ten features: the full breast cancer data are separable (no optimum).
    X, y = cancer[0][:, :10], cancer[1]
    sk = _sklearn(X, y, penalty=None, solver="newton-cholesky", tol=1e-12)
    tight = GDClassifier(penalty=None, solver="newton", tol=1e-10).fit(X, y)
    np.testing.assert_allclose(tight.coef_, sk.coef_, rtol=1e-6)
    np.testing.assert_allclose(tight.intercept_, sk.intercept_, rtol=1e-6)
    # At the default tol on a well-conditioned problem.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 6))
    y = (X @ rng.normal(size=6) + rng.logistic(size=2000) > 0).astype(int)
    sk = _sklearn(X, y, penalty=None, solver="newton-cholesky", tol=1e-12)
    est = GDClassifier(penalty=None).fit(X, y)
    np.testing.assert_allclose(est.coef_, sk.coef_, rtol=1e-3)
    assert est.n_iter_ <= 10


def test_l1_log_loss_few_steps(cancer):
    X, y = cancer
    newton = GDClassifier(penalty="l1", alpha=1e-2, solver="newton", tol=1e-12)
    newton.fit(X, y)
    gd = GDClassifier(
        penalty="l1", alpha=1e-2, solver="gd", tol=1e-12, max_iter=100_000
    )
    gd.fit(X, y)
    assert newton.n_iter_ < 30
    np.testing.assert_allclose(newton.coef_, gd.coef_, atol=1e-7)
    np.testing.assert_allclose(newton.intercept_, gd.intercept_, atol=1e-7)
    assert np.array_equal(newton.coef_ == 0, gd.coef_ == 0)


def _l1_log_objective(X, y, w, b, alpha):
    """Mean log loss (labels 0/1) plus ``alpha ||w||_1``, in float64."""
    return _log_objective(X, y, w, b, 0.0) + alpha * np.abs(w).sum()


@pytest.mark.parametrize("tol", [1e-2, 1e-4, 1e-8])
def test_l1_log_loss_skips_only_gaps_its_step_rules_out(cancer, monkeypatch, tol):
    """The step is searched before the point is measured: its decrease is a
    lower bound on the point's suboptimality, and no gap is made where that
    bound is already above the threshold. Every gap made is at least the
    decrease (it bounds the same suboptimality from above), some are spared,
    and the certified fit is within tol of the optimum."""
    import math

    from skgd.solvers import _newton

    X, y = cancer
    alpha = 1e-2
    exact = GDClassifier(penalty="l1", alpha=alpha, solver="newton", tol=1e-14)
    exact.fit(X, y)
    best = _l1_log_objective(X, y, exact.coef_[0], exact.intercept_[0], alpha)
    p1 = y.mean()
    ref = -(p1 * np.log(p1) + (1 - p1) * np.log(1 - p1))
    gaps, records = [], []
    gap = LinearObjective.duality_gap
    measure = _newton._StopRule.measure

    def gap_spy(self, *args, **kwargs):
        gaps.append(gap(self, *args, **kwargs))
        return gaps[-1]

    def measure_spy(self, *args, drop=-math.inf, **kwargs):
        made = len(gaps)
        out = measure(self, *args, drop=drop, **kwargs)
        records.append((drop, self.threshold, gaps[made:]))
        return out

    monkeypatch.setattr(LinearObjective, "duality_gap", gap_spy)
    monkeypatch.setattr(_newton._StopRule, "measure", measure_spy)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = GDClassifier(penalty="l1", alpha=alpha, solver="newton", tol=tol)
        est.fit(X, y)
    value = _l1_log_objective(X, y, est.coef_[0], est.intercept_[0], alpha)
    assert value - best <= tol * ref + 1e-15
    skipped = [r for r in records if r[0] > r[1]]
    assert skipped
    assert all(not made for _, _, made in skipped)
    assert all(g >= drop - 1e-15 for drop, _, made in records for g in made)
    assert any(made for _, _, made in records)


def _regression(n=200, p=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    y = X @ rng.normal(size=p) + rng.standard_t(2, size=n)
    return X, y


PENALTIES = [("l2", 0.1), ("l1", 0.02), ("elasticnet", 0.05), (None, 0.0)]


@pytest.mark.parametrize(("penalty", "alpha"), PENALTIES)
@pytest.mark.parametrize(
    "loss", ["huber", "squared_epsilon_insensitive", "modified_huber"]
)
def test_equals_gd(loss, penalty, alpha):
    X, y = _regression()
    params = dict(loss=loss, penalty=penalty, alpha=alpha, l1_ratio=0.5, tol=1e-12)
    if loss == "modified_huber":
        y = (y > 0).astype(int)
        make = GDClassifier
    else:
        make = GDRegressor
        params["epsilon"] = 1.0
    with warnings.catch_warnings():
        # gd without a penalty is not certified at this tol.
        warnings.simplefilter("ignore", ConvergenceWarning)
        gd = make(solver="gd", max_iter=100_000, **params).fit(X, y)
    newton = make(solver="newton", **params).fit(X, y)
    assert newton.n_iter_ < 30
    # (Without a penalty "gd" stops on a measure that does not bound its error.)
    atol = 1e-6 if penalty else 1e-4
    np.testing.assert_allclose(newton.coef_, gd.coef_, rtol=1e-5, atol=atol)
    np.testing.assert_allclose(newton.intercept_, gd.intercept_, atol=atol)


@pytest.mark.parametrize(("penalty", "alpha"), PENALTIES[:3])
def test_input_kinds(penalty, alpha):
    """Sparse, float32, sample weights and no intercept give the same optimum."""
    X, y = _regression(p=5, seed=1)
    X[X < -0.5] = 0.0
    rng = np.random.default_rng(1)
    sw = rng.uniform(0.2, 3.0, size=X.shape[0])
    params = dict(loss="huber", epsilon=1.0, penalty=penalty, alpha=alpha, tol=1e-12)
    for fit_intercept in (True, False):
        kw = dict(params, fit_intercept=fit_intercept)
        dense = GDRegressor(solver="newton", **kw).fit(X, y, sample_weight=sw)
        gd = GDRegressor(solver="gd", max_iter=100_000, **kw).fit(
            X, y, sample_weight=sw
        )
        # (A gap of 1e-12 bounds the coefficients' error by about 1e-5 here.)
        np.testing.assert_allclose(dense.coef_, gd.coef_, atol=1e-5)
        sparse = GDRegressor(solver="newton", **kw)
        sparse.fit(sp.csr_matrix(X), y, sample_weight=sw)
        np.testing.assert_allclose(sparse.coef_, dense.coef_, atol=1e-9)
        np.testing.assert_allclose(sparse.intercept_, dense.intercept_, atol=1e-9)
        single = GDRegressor(solver="newton", **dict(kw, tol=1e-5))
        single.fit(X.astype(np.float32), y.astype(np.float32), sample_weight=sw)
        assert single.coef_.dtype == np.float32
        np.testing.assert_allclose(single.coef_, dense.coef_, atol=2e-3)


def test_multi_target():
    X, y = _regression(p=4, seed=2)
    Y = np.column_stack([y, -2.0 * y + 1.0])
    params = dict(loss="huber", epsilon=1.0, alpha=0.01, tol=1e-12)
    both = GDRegressor(solver="newton", **params).fit(X, Y)
    for k in range(2):
        one = GDRegressor(solver="newton", **params).fit(X, Y[:, k])
        np.testing.assert_allclose(both.coef_[k], one.coef_, atol=1e-12)


def _log_objective(X, y, w, b, alpha):
    """Mean log loss (labels 0/1) plus ``alpha / 2 ||w||^2``."""
    z = X @ w + b
    s = np.where(y > 0, 1.0, -1.0)
    return np.mean(np.logaddexp(0.0, -s * z)) + 0.5 * alpha * (w @ w)


def _ar1(n, p, rho, seed):
    rng = np.random.default_rng(seed)
    X = np.empty((n, p))
    X[:, 0] = rng.normal(size=n)
    for j in range(1, p):
        X[:, j] = rho * X[:, j - 1] + np.sqrt(1 - rho**2) * rng.normal(size=n)
    return X


@pytest.mark.parametrize("design", ["ar1", "scaled"])
@pytest.mark.parametrize("alpha", [1e-3, 0.0])
def test_converged_fit_is_within_tol(design, alpha):
    """A fit that claims convergence is within tol of the optimum, relative."""
    n, p = 2000, 30
    X = _ar1(n, p, 0.95, seed=3)
    rng = np.random.default_rng(3)
    y = (X @ rng.normal(size=p) + rng.logistic(size=n) > 0).astype(int)
    if design == "scaled":
        X = X * np.logspace(-3, 3, p)
    C = 1.0 / (alpha * n) if alpha else np.inf
    sk = _sklearn(X, y, C=C, solver="newton-cholesky", tol=1e-14)
    best = _log_objective(X, y, sk.coef_[0], sk.intercept_[0], alpha)
    p1 = y.mean()
    ref = _log_objective(X, y, 0.0 * sk.coef_[0], np.log(p1 / (1 - p1)), alpha)
    for tol in (1e-4, 1e-8):
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            est = GDClassifier(penalty="l2", alpha=alpha, solver="newton", tol=tol)
            est.fit(X, y)
        value = _log_objective(X, y, est.coef_[0], est.intercept_[0], alpha)
        assert value - best <= tol * ref + 1e-15
        assert est.n_iter_ < 40


def test_warns_when_not_certified(cancer):
    X, y = cancer
    est = GDClassifier(penalty="l1", alpha=1e-3, solver="newton", max_iter=1)
    with pytest.warns(ConvergenceWarning, match="solver='newton'"):
        est.fit(X, y)
    assert est.n_iter_ == 1
    assert len(est.loss_curve_) == 1


def test_loss_curve_decreases(cancer):
    X, y = cancer
    est = GDClassifier(penalty="l1", alpha=1e-3, solver="newton", tol=1e-10)
    est.fit(X, y)
    curve = np.asarray(est.loss_curve_)
    assert len(curve) == est.n_iter_
    assert np.all(np.diff(curve) <= 1e-15)


def _objective(X, loss, penalty, y=None):
    backend = get_backend(X)
    y = np.zeros(X.shape[0]) if y is None else y
    return LinearObjective(backend, X, y, loss, penalty, fit_intercept=True)


def test_routing():
    X = np.random.default_rng(0).normal(size=(100, 5))
    name = lambda *args: full_batch_solver(*args)[0]
    assert name(_objective(X, LogLoss(), L2(1e-3)), "auto") == "newton"
    assert name(_objective(X, Huber(), L1(1e-3)), "auto") == "newton"
    assert name(_objective(sp.csr_matrix(X), LogLoss(), NoPenalty()), "auto") == (
        "newton"
    )
    assert name(_objective(X, LogLoss(), L2(1e-3)), "gd") == "gd"
    # The squared loss keeps its exact routes; the multinomial loss is L-BFGS's,
    # with an L1 part too (on split coefficients w = w+ - w-, bounded below by 0).
    assert name(_objective(X, SquaredError(), L2(1e-3)), "auto") == "gd"
    assert name(_objective(X, SquaredError(), L2(1e-3)), "newton") == "gd"
    multi = _objective(X, MultinomialLogLoss(n_classes=3), L2(1e-3))
    assert name(multi, "newton") == "lbfgs"
    assert name(multi, "auto") == "lbfgs"
    assert name(_objective(X, MultinomialLogLoss(n_classes=3), L1(1e-3)), "auto") == (
        "lbfgs"
    )
    # Without a penalty, "auto" takes Newton where the curvature is positive
    # everywhere (the decrement certifies there) or, up to 64 features, where
    # the loss's conjugate is quadratic on a box (the box gap certifies huber).
    assert name(_objective(X, Huber(), NoPenalty()), "auto") == "newton"
    tall = np.random.default_rng(0).normal(size=(200, 65))
    assert name(_objective(tall, Huber(), NoPenalty()), "auto") == "gd"
    assert name(_objective(X, Huber(), NoPenalty()), "newton") == "newton"
    # Wider than tall, or too few samples: "auto" keeps "gd"; "newton" does not.
    wide = np.random.default_rng(0).normal(size=(10, 50))
    assert name(_objective(wide, LogLoss(), L2(1e-3)), "auto") == "gd"
    assert name(_objective(wide, LogLoss(), L2(1e-3)), "newton") == "newton"
    # Non-smooth losses fall back to "gd".
    est = GDRegressor(loss="epsilon_insensitive", solver="newton", max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, X[:, 0])


@pytest.mark.parametrize("kind", ["dask", "torch"])
def test_dask_and_array_api(kind):
    """solver="newton" runs on Dask and torch; "auto" keeps "gd" there."""
    X, y = _regression(n=120, p=4, seed=4)
    y = (y > 0).astype(int)
    params = dict(penalty="l1", alpha=0.01, tol=1e-10)
    ref = GDClassifier(solver="newton", **params).fit(X, y)
    if kind == "dask":
        da = pytest.importorskip("dask.array")
        Xk, yk = da.from_array(X, chunks=40), da.from_array(y, chunks=40)
    else:
        torch = pytest.importorskip("torch")
        Xk, yk = torch.asarray(X), torch.asarray(y)
    est = GDClassifier(solver="newton", **params).fit(Xk, yk)
    np.testing.assert_allclose(np.asarray(est.coef_), ref.coef_, atol=1e-9)
    assert est.n_iter_ == ref.n_iter_
    objective = _objective(Xk, LogLoss(), L2(1e-3), y=Xk[:, 0])
    assert full_batch_solver(objective, "auto")[0] == "gd"
