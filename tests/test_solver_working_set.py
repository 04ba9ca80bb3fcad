# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Working sets for L1 penalties: same optima as sklearn, certified, less work.

Both modes are exercised: ``"gram"`` (squared loss, Gram matrix of all features:
small problems and paths) and ``"samples"`` (checks by passes over X, forced here by
lowering the module's thresholds where the data alone would not select it).
"""

import numpy as np
import pytest
import scipy.sparse as sp
from _data import TIGHT_TOL
from sklearn.linear_model import ElasticNet, Lasso

# This file tests a private seam: the working-set route of solve_gd, its thresholds.
import skgd._planner as planner
import skgd.solvers._working_set as ws_module
from skgd import GDRegressor, gd_path
from skgd._backend import get_backend
from skgd._objective import LinearObjective
from skgd._path import data_alpha_max
from skgd.losses import Huber, SquaredError
from skgd.penalties import L1L2
from skgd.solvers._gd import solve_gd
from skgd.solvers._working_set import working_set_mode


def _sparse_truth(seed, n_samples, n_features, n_informative=8):
    """Correlated, offset, mixed-scale X whose target uses a few columns."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    X[:, 1:] = 0.6 * X[:, :-1] + 0.8 * X[:, 1:]
    X = X * 10.0 ** rng.uniform(-1, 1, n_features) + rng.uniform(-3, 3, n_features)
    idx = rng.choice(n_features, n_informative, replace=False)
    w = np.zeros(n_features)
    w[idx] = rng.normal(scale=3.0, size=n_informative) / X[:, idx].std(axis=0)
    y = X @ w + 1.0 + 0.5 * rng.standard_normal(n_samples)
    return X, y


def _alpha(X, y, fraction):
    """``fraction`` of the smallest alpha that zeroes every coefficient."""
    return fraction * np.max(np.abs((X - X.mean(0)).T @ (y - y.mean()))) / len(y)


@pytest.fixture
def samples_mode(monkeypatch):
    """Force checks by passes over X, whatever the problem's shape."""
    monkeypatch.setattr(ws_module, "_MIN_FEATURES", 1)
    monkeypatch.setattr(planner, "WORKING_SET_GRAM_MAX_FEATURES", 0)


def _objective(X, y, penalty, **kw):
    return LinearObjective(get_backend(X), X, y, SquaredError(), penalty, **kw)


def _reference(penalty, alpha, X, y, sample_weight=None, fit_intercept=True):
    kw = {"alpha": alpha, "tol": 1e-14, "max_iter": 10**6}
    kw["fit_intercept"] = fit_intercept
    if penalty == "elasticnet":
        est = ElasticNet(l1_ratio=0.5, **kw)
    else:
        est = Lasso(**kw)
    return est.fit(X, y, sample_weight=sample_weight)


def _check_equal(ours, ref):
    scale = np.max(np.abs(ref.coef_))
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-6, atol=1e-8 * scale)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-6, atol=1e-8)
    if ours.coef_.ndim == 1 and isinstance(ref, Lasso):
        np.testing.assert_array_equal(ours.coef_ == 0, ref.coef_ == 0)


def test_working_set_mode_rule(monkeypatch):
    X, y = _sparse_truth(0, 300, 100)
    assert working_set_mode(_objective(X, y, L1L2(0.1, 1.0))) == "gram"
    with monkeypatch.context() as m:
        m.setattr(planner, "WORKING_SET_GRAM_MAX_FEATURES", 99)
        assert working_set_mode(_objective(X, y, L1L2(0.1, 1.0))) == "samples"
    wide, y_wide = _sparse_truth(0, 50, 400)
    assert working_set_mode(_objective(wide, y_wide, L1L2(0.1, 0.5))) == "samples"
    # No L1 part, or too few features for passes to pay: the plain solver.
    assert working_set_mode(_objective(X, y, L1L2(0.1, 0.0))) is None
    few = LinearObjective(get_backend(X), X[:, :10], y, Huber(1.0), L1L2(0.1, 1.0))
    assert working_set_mode(few) is None
    Xs = sp.csr_matrix(X)
    assert working_set_mode(_objective(Xs, y, L1L2(0.1, 1.0))) == "samples"


@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
@pytest.mark.parametrize(
    ("shape", "fraction"), [((300, 150), 0.1), ((80, 400), 0.2), ((600, 300), 0.05)]
)
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_working_set_matches_sklearn_on_sparse_solutions(
    penalty, shape, fraction, fit_intercept
):
    X, y = _sparse_truth(1, *shape)
    alpha = _alpha(X, y, fraction)
    ref = _reference(penalty, alpha, X, y, fit_intercept=fit_intercept)
    ours = GDRegressor(
        penalty=penalty,
        alpha=alpha,
        l1_ratio=0.5,
        fit_intercept=fit_intercept,
        tol=TIGHT_TOL[penalty],
        max_iter=100_000,
    ).fit(X, y)
    _check_equal(ours, ref)


@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("kind", ["dense", "csr", "csc"])
def test_working_set_samples_mode_matches_sklearn(
    penalty, weighted, kind, diabetes, samples_mode
):
    X, y = diabetes
    s = np.random.default_rng(0).uniform(0.2, 2, len(y)) if weighted else None
    Xk = X if kind == "dense" else getattr(sp, f"{kind}_matrix")(X)
    ref = _reference(penalty, 0.5, X, y, sample_weight=s)
    ours = GDRegressor(
        penalty=penalty, alpha=0.5, l1_ratio=0.5, tol=TIGHT_TOL[penalty]
    ).fit(Xk, y, sample_weight=s)
    _check_equal(ours, ref)


@pytest.mark.parametrize("kind", ["dense", "csr"])
@pytest.mark.parametrize("penalty", [L1L2(0.05, 1.0), L1L2(0.05, 0.5)])
def test_working_set_gap_of_full_problem_below_tol(kind, penalty):
    X, y = _sparse_truth(2, 200, 500)
    Xk = X if kind == "dense" else sp.csr_matrix(X)
    objective = _objective(Xk, y, penalty)
    tol = 1e-8
    res = solve_gd(
        objective, np.zeros(500), objective.initial_offset(), max_iter=10_000, tol=tol
    )
    assert res.converged
    assert res.extra["measure"] <= tol
    # Recomputed independently, in the X form, for the returned coefficients.
    fresh = _objective(Xk, y, penalty)
    raw = fresh.raw(res.coef, res.extra["offset"])
    _, grad_w, _ = fresh.gradient(raw)
    assert fresh.duality_gap(res.coef, raw, grad_w) <= tol * fresh.zero_value()
    # The working sets grew with the support (dense ones, with near violators,
    # by at most twice its size at a time).
    n_support = int(np.sum(res.coef != 0))
    steps = np.diff([0, *res.extra["working_set_sizes"]])
    assert max(steps) <= 2 * n_support + 16


def test_working_set_restricts_work(monkeypatch):
    # 2,000 features, 8 informative: the subproblems stay small and the full
    # problem is checked (one pass over X each) a handful of times.
    X, y = _sparse_truth(3, 1000, 2000)
    objective = _objective(X, y, L1L2(_alpha(X, y, 0.2), 1.0))
    assert working_set_mode(objective) == "samples"
    backend = objective.backend
    passes = []
    rmatvec = backend.rmatvec
    monkeypatch.setattr(
        backend,
        "rmatvec",
        lambda A, r: passes.append(A.shape[1]) or rmatvec(A, r),
    )
    res = solve_gd(
        objective,
        np.zeros(2000),
        objective.initial_offset(),
        max_iter=10_000,
        tol=1e-10,
    )
    assert res.converged
    n_support = int(np.sum(res.coef != 0))
    assert 0 < n_support < 50
    sizes = res.extra["working_set_sizes"]
    assert max(sizes) <= 4 * max(n_support, 16)
    full_passes = sum(1 for p in passes if p == 2000)
    assert full_passes == res.extra["checks"] <= 5
    ref = Lasso(alpha=objective.penalty.alpha, tol=1e-12, max_iter=10**5).fit(X, y)
    np.testing.assert_array_equal(res.coef != 0, ref.coef_ != 0)


@pytest.mark.parametrize("mode", ["gram", "samples"])
def test_working_set_loss_curve_and_callback(mode, monkeypatch):
    if mode == "samples":
        monkeypatch.setattr(planner, "WORKING_SET_GRAM_MAX_FEATURES", 0)
    X, y = _sparse_truth(4, 400, 200)
    penalty = L1L2(_alpha(X, y, 0.1), 1.0)
    objective = _objective(X, y, penalty)
    seen = []
    res = solve_gd(
        objective,
        np.zeros(200),
        objective.initial_offset(),
        max_iter=10_000,
        tol=1e-12,
        callback=lambda it, w, value: seen.append((it, w, value)),
    )
    assert res.converged
    assert len(res.objective_curve) == res.n_iter == len(seen)
    assert [it for it, _, _ in seen] == list(range(1, res.n_iter + 1))
    # Each value is the full objective at the full coefficient vector passed.
    for _, w, value in seen[:: max(1, len(seen) // 5)]:
        b = objective.intercept(w, objective.initial_offset())
        r = y - X @ w - b
        full = 0.5 * np.mean(r * r) + penalty.alpha * np.abs(w).sum()
        assert value == pytest.approx(full, rel=1e-9)


@pytest.mark.parametrize("loss", [Huber(1.0), SquaredError()])
def test_working_set_other_losses_and_sparse_match_plain_solver(loss, monkeypatch):
    X, y = _sparse_truth(5, 150, 120)
    y[:5] += 20.0
    Xs = sp.csc_matrix(X)
    penalty = L1L2(_alpha(X, y, 0.03), 0.8)
    objective = LinearObjective(get_backend(Xs), Xs, y, loss, penalty)
    assert working_set_mode(objective) == "samples"
    res = solve_gd(
        objective, np.zeros(120), objective.initial_offset(), max_iter=50_000, tol=1e-13
    )
    monkeypatch.setattr(ws_module, "_MIN_FEATURES", 10**9)
    plain = LinearObjective(get_backend(Xs), Xs, y, loss, penalty)
    ref = solve_gd(
        plain, np.zeros(120), plain.initial_offset(), max_iter=50_000, tol=1e-13
    )
    assert res.converged
    assert ref.converged
    assert 1 < max(res.extra["working_set_sizes"]) < 60
    scale = np.max(np.abs(ref.coef))
    np.testing.assert_allclose(res.coef, ref.coef, rtol=1e-6, atol=1e-7 * scale)
    assert res.intercept == pytest.approx(ref.intercept, rel=1e-6)


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
@pytest.mark.parametrize("shape", [(300, 120), (60, 300)])
def test_working_set_path_equals_independent_fits(l1_ratio, shape):
    X, y = _sparse_truth(6, *shape)
    tol = TIGHT_TOL["l1" if l1_ratio == 1 else "elasticnet"]
    alphas, coefs, intercepts = gd_path(
        X, y, l1_ratio=l1_ratio, alphas=10, eps=1e-2, tol=tol, max_iter=100_000
    )
    for k in (2, 6, 9):
        ref = _reference("l1" if l1_ratio == 1 else "elasticnet", alphas[k], X, y)
        if l1_ratio != 1:
            ref = ElasticNet(
                alpha=alphas[k], l1_ratio=l1_ratio, tol=1e-14, max_iter=10**6
            ).fit(X, y)
        scale = np.max(np.abs(ref.coef_))
        np.testing.assert_allclose(coefs[:, k], ref.coef_, rtol=1e-6, atol=1e-8 * scale)
        assert intercepts[k] == pytest.approx(ref.intercept_, rel=1e-6, abs=1e-8)


@pytest.mark.parametrize("mode", ["gram", "samples"])
@pytest.mark.parametrize("n_alphas", [30, 3])
def test_working_set_path_strong_rule_one_check_per_alpha(mode, n_alphas, request):
    # Each alpha of a path starts from the set the previous gradient predicts
    # (sequential strong rule): on a fine grid one check of the full problem per
    # alpha; on a coarse one (bad predictions) more, the answers certified alike.
    import skgd._path as path_module

    if mode == "samples":
        request.getfixturevalue("samples_mode")
    X, y = _sparse_truth(7, 60, 300)
    found = []
    solve = path_module.solve_working_set

    def counting(*args, **kwargs):
        res = solve(*args, **kwargs)
        found.append(res.extra["checks"])
        return res

    tol = TIGHT_TOL["elasticnet"]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(path_module, "solve_working_set", counting)
        alphas, coefs, intercepts = gd_path(
            X, y, l1_ratio=0.8, alphas=n_alphas, eps=1e-2, tol=tol, max_iter=10**5
        )
    assert len(found) == n_alphas
    if n_alphas == 30:
        assert sum(found) <= 1.2 * n_alphas
    for k in (1, n_alphas // 2, n_alphas - 1):
        ref = ElasticNet(alpha=alphas[k], l1_ratio=0.8, tol=1e-14, max_iter=10**6).fit(
            X, y
        )
        scale = np.max(np.abs(ref.coef_))
        np.testing.assert_allclose(coefs[:, k], ref.coef_, rtol=1e-6, atol=1e-8 * scale)
        assert intercepts[k] == pytest.approx(ref.intercept_, rel=1e-6, abs=1e-8)


@pytest.mark.parametrize("mode", ["gram", "samples"])
def test_working_set_path_from_above_alpha_max(mode, request):
    # A path whose first alphas lie above alpha_max (a fold's own alpha_max below
    # the full data's grid) keeps w = 0 there, and the strong rule then adds no
    # feature to the empty set: the path goes on (it failed on the empty set's
    # gathering), zero down to alpha_max and the lasso's answer below.
    if mode == "samples":
        request.getfixturevalue("samples_mode")
    X, y = _sparse_truth(3, 50, 400)
    top = data_alpha_max(X, y, 1.0)
    grid = top * np.array([4.0, 3.0, 2.0, 1.0, 0.5, 0.2])
    tol = TIGHT_TOL["l1"]
    alphas, coefs, intercepts = gd_path(
        X, y, l1_ratio=1.0, alphas=grid, tol=tol, max_iter=10**5
    )
    assert not np.any(coefs[:, :4])
    for k in (4, 5):
        ref = Lasso(alpha=alphas[k], tol=1e-14, max_iter=10**6).fit(X, y)
        scale = np.max(np.abs(ref.coef_))
        np.testing.assert_allclose(coefs[:, k], ref.coef_, rtol=1e-6, atol=1e-8 * scale)
        assert intercepts[k] == pytest.approx(ref.intercept_, rel=1e-6, abs=1e-8)


@pytest.mark.parametrize("rho", [0.7, 0.9])
def test_working_set_gram_subproblems_solved_to_tol_at_once(rho):
    # AR(1) columns: a subproblem on the Gram matrix of its set is solved to the
    # tolerance of the full problem at once, so no round only refines the last
    # set's accuracy (each set is larger than the one before), and each
    # subproblem is followed by exactly one check.
    rng = np.random.default_rng(5)
    X = rng.standard_normal((1500, 300))
    for j in range(1, 300):
        X[:, j] = rho * X[:, j - 1] + np.sqrt(1 - rho**2) * X[:, j]
    w = np.zeros(300)
    w[rng.choice(300, 15, replace=False)] = rng.normal(size=15)
    y = X @ w + rng.standard_normal(1500)
    alpha = _alpha(X, y, 0.05)
    objective = _objective(X, y, L1L2(alpha, 1.0))
    assert working_set_mode(objective) == "samples"
    res = solve_gd(
        objective, np.zeros(300), objective.initial_offset(), max_iter=10_000, tol=1e-10
    )
    assert res.converged
    sizes = res.extra["working_set_sizes"]
    assert all(a < b for a, b in zip(sizes, sizes[1:], strict=False))
    assert res.extra["checks"] == len(sizes) + 1 <= 6
    ref = Lasso(alpha=alpha, tol=1e-14, max_iter=10**6).fit(X, y)
    scale = np.max(np.abs(ref.coef_))
    np.testing.assert_allclose(res.coef, ref.coef_, rtol=1e-6, atol=1e-7 * scale)


@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
@pytest.mark.parametrize("fraction", [0.3, 0.01, 1e-3])
def test_working_set_complete_gram_problem_by_coordinate_descent(penalty, fraction):
    # At most 64 features in the Gram form: the complete problem is the only
    # subproblem, solved by coordinate descent on G (a run counts as one
    # iteration; accelerated proximal gradient took tens here). Ill-conditioned
    # (AR(1) rho 0.98) and badly scaled columns; the answer is sklearn's, and the
    # optimality conditions hold in float64, checked here independently.
    rng = np.random.default_rng(11)
    n, p = 4000, 50
    X = rng.standard_normal((n, p))
    for j in range(1, p):
        X[:, j] = 0.98 * X[:, j - 1] + np.sqrt(1 - 0.98**2) * X[:, j]
    X = X * 10.0 ** rng.uniform(-2, 2, p) + rng.uniform(-5, 5, p)
    w = np.zeros(p)
    w[rng.choice(p, 10, replace=False)] = rng.normal(size=10) / X.std(0)[:10]
    y = X @ w + 2.0 + 0.3 * rng.standard_normal(n)
    l1_ratio = 1.0 if penalty == "l1" else 0.5
    alpha = _alpha(X, y, fraction) / l1_ratio
    tol = 1e-10
    est = GDRegressor(penalty=penalty, alpha=alpha, l1_ratio=l1_ratio, tol=tol)
    est.fit(X, y)
    assert est.n_iter_ <= 4
    ref = _reference(penalty, alpha, X, y)
    scale = np.max(np.abs(ref.coef_))
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-5, atol=1e-7 * scale)
    # KKT in float64: |X_c.T r / n + l2 w| <= l1 off the support, = on it.
    Xc, yc = X - X.mean(0), y - y.mean()
    r = yc - Xc @ est.coef_
    l1, l2 = alpha * l1_ratio, alpha * (1 - l1_ratio)
    grad = Xc.T @ r / n - l2 * est.coef_
    col = np.sqrt(np.mean(Xc**2, axis=0))
    on = est.coef_ != 0
    # Relative to each column's scale (the gap bounds the error in that metric).
    slack = np.sqrt(2 * tol * np.mean(yc**2)) * col
    assert np.all(np.abs(grad[~on]) <= l1 + slack[~on])
    np.testing.assert_array_less(
        np.abs(grad[on] - l1 * np.sign(est.coef_[on])), slack[on] + 1e-12
    )


def test_gram_space_rows_follow_the_set_appended_reordered_or_shrunk():
    # The Gram space keeps G's rows of its set in a buffer and takes only the rows
    # of features appended to the set; any other set (reordered, shrunk) is
    # taken afresh. Each time the rows are exactly G's.
    from skgd._planner import in_form

    X, y = _sparse_truth(11, 200, 30)
    objective = LinearObjective(get_backend(X), X, y, SquaredError(), L1L2(0.1, 0.5))
    objective = in_form(objective, "gram")
    G = np.asarray(objective.G)
    space = ws_module._GramSpace(objective, 1.0)
    for cols in ([3, 7], [3, 7, 1, 29, 4], [3, 7, 1, 29, 4, 0], [7, 3], [5], []):
        space.gather(np.asarray(cols, dtype=np.int64))
        np.testing.assert_array_equal(space._rows(), G[cols])
    grown = list(range(30))
    space.gather(np.asarray(grown, dtype=np.int64))
    np.testing.assert_array_equal(space._rows(), G)


def test_products_with_a_wide_set_stay_below_the_threaded_size(monkeypatch):
    # Where one call on one BLAS thread may not be made (serial_product gives
    # None: another thread runs in the process), X.T @ R for the gathered columns
    # goes in products narrow enough to run in row blocks on the calling thread,
    # however wide the set: each product is at most _THREADED_PRODUCT_ELEMENTS
    # multiply-adds, and together they are X.T @ R.
    from skgd._backend._dense import _THREADED_PRODUCT_ELEMENTS

    monkeypatch.setattr(ws_module, "serial_product", lambda X, R: None)

    rng = np.random.default_rng(12)
    X = rng.standard_normal((2_000, 300))
    R = rng.standard_normal((2_000, 40))
    backend = get_backend(X)
    widths = []
    rmatvec = backend.rmatvec

    def spy(A, r):
        widths.append(r.shape[1])
        return rmatvec(A, r)

    backend.rmatvec = spy
    out = ws_module._products(backend, np, X, R)
    assert max(widths) * X.size <= _THREADED_PRODUCT_ELEMENTS
    assert sum(widths) == 40
    np.testing.assert_allclose(out, X.T @ R, rtol=1e-12, atol=1e-10)
