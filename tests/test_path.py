# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from _data import TIGHT_TOL, make_problem
from sklearn.linear_model import ElasticNet, ElasticNetCV, LassoCV, enet_path
from sklearn.model_selection import GroupKFold, KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skgd import GDRegressor, GDRegressorCV, gd_path
from skgd.penalties import L1L2
from skgd.solvers import _gram_enet, _working_set


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_path_solutions_equal_independent_fits(l1_ratio, diabetes):
    X, y = diabetes
    tol = TIGHT_TOL["l1" if l1_ratio == 1 else "elasticnet"]
    alphas, coefs, intercepts = gd_path(X, y, l1_ratio=l1_ratio, alphas=8, tol=tol)
    assert np.all(np.diff(alphas) < 0)
    for k in (0, 3, 7):
        ref = GDRegressor(
            penalty="elasticnet", alpha=alphas[k], l1_ratio=l1_ratio, tol=tol
        ).fit(X, y)
        np.testing.assert_allclose(coefs[:, k], ref.coef_, rtol=1e-7, atol=1e-7)
        assert intercepts[k] == pytest.approx(ref.intercept_, rel=1e-9)
    # The first alpha is alpha_max: all zeros, and just below it some are not.
    assert np.all(coefs[:, 0] == 0)
    _, below, _ = gd_path(X, y, l1_ratio=l1_ratio, alphas=[alphas[0] * 0.99], tol=tol)
    assert np.any(below != 0)


def test_path_matches_sklearn_enet_path_on_centered_data(seed):
    X, y = make_problem(seed, 60, 8, offset=False)
    X, y = X - X.mean(0), y - y.mean()
    grid = np.geomspace(1.0, 1e-3, 6)
    ours = gd_path(X, y, l1_ratio=0.7, alphas=grid, tol=1e-20, max_iter=5000)[1]
    theirs = enet_path(X, y, l1_ratio=0.7, alphas=grid, tol=1e-14, max_iter=10**5)[1]
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("weighted", [False, True])
def test_path_cv_matches_elasticnetcv(weighted, diabetes):
    X, y = diabetes
    s = np.random.default_rng(0).uniform(0.2, 2, len(y)) if weighted else None
    kw = {"l1_ratio": [0.3, 0.9], "alphas": 15, "cv": KFold(4)}
    ours = GDRegressorCV(tol=1e-16, max_iter=20_000, **kw).fit(X, y, sample_weight=s)
    ref = ElasticNetCV(tol=1e-14, max_iter=10**5, **kw).fit(X, y, sample_weight=s)
    np.testing.assert_allclose(ours.alphas_, ref.alphas_, rtol=1e-12)
    np.testing.assert_allclose(ours.mse_path_, ref.mse_path_, rtol=1e-6)
    assert ours.alpha_ == pytest.approx(ref.alpha_, rel=1e-12)
    assert ours.l1_ratio_ == ref.l1_ratio_
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-5, atol=1e-6)
    assert ours.intercept_ == pytest.approx(ref.intercept_, rel=1e-6)


@pytest.mark.parametrize("n_jobs", [None, 2])
def test_path_cv_threads_silence_the_compiled_loop_once(n_jobs, monkeypatch):
    # Folds on two threads: the compiled loop's warning (every run cut by a
    # budget of one epoch here) is silenced by one filter around them all,
    # not by a catch_warnings in each thread, which restore each other's
    # filters: none gets through, and the filters are as they were.
    monkeypatch.setattr(_gram_enet, "_CD_MAX_EPOCHS", 1)
    X, y = make_problem(3, 2_000, 30)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        filters = list(warnings.filters)
        for _ in range(3):
            GDRegressorCV(alphas=10, cv=KFold(5), n_jobs=n_jobs).fit(X, y)
        assert warnings.filters == filters
    assert not [w for w in caught if "Objective did not converge" in str(w.message)]


def test_path_cv_lasso_case_and_sparse_input():
    X = sp.random(120, 20, density=0.3, format="csr", random_state=0)
    y = X @ np.arange(20.0) + np.random.default_rng(0).normal(size=120)
    ours = GDRegressorCV(l1_ratio=1.0, alphas=10, cv=KFold(3), tol=1e-14).fit(X, y)
    ref = LassoCV(alphas=10, cv=KFold(3), tol=1e-14, max_iter=10**5).fit(X, y)
    assert ours.alphas_.shape == (10,)
    assert ours.mse_path_.shape == (10, 3)
    np.testing.assert_allclose(ours.mse_path_, ref.mse_path_, rtol=1e-5)
    assert ours.alpha_ == pytest.approx(ref.alpha_)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-5)


def test_path_cv_scoring_groups_pipeline_and_jobs(diabetes):
    X, y = diabetes
    cv = GDRegressorCV(alphas=6, cv=3, scoring="neg_mean_absolute_error", n_jobs=2)
    cv.fit(X, y)
    assert cv.scores_path_.shape == (6, 3)
    k = int(np.argmax(cv.scores_path_.mean(axis=1)))
    assert cv.alpha_ == cv.alphas_[k]
    groups = np.arange(len(y)) % 4
    grouped = GDRegressorCV(alphas=5, cv=GroupKFold(4)).fit(X, y, groups=groups)
    assert grouped.mse_path_.shape == (5, 4)
    scores = cross_val_score(
        make_pipeline(StandardScaler(), GDRegressorCV(alphas=5, cv=3)), X, y, cv=3
    )
    assert scores.mean() > 0.4


def test_path_l1_ratio_zero_needs_explicit_alphas(diabetes):
    X, y = diabetes
    with pytest.raises(ValueError, match="l1_ratio > 0"):
        gd_path(X, y, l1_ratio=0.0)
    ridge = GDRegressorCV(l1_ratio=0.0, alphas=[1.0, 0.1, 0.01], cv=3).fit(X, y)
    assert ridge.alpha_ in (1.0, 0.1, 0.01)


def test_path_refuses_data_it_would_gather():
    da = pytest.importorskip("dask.array")
    X = da.ones((20, 3), chunks=5)
    with pytest.raises(ValueError, match="in-memory"):
        GDRegressorCV().fit(X, np.ones(20))
    with pytest.raises(ValueError, match="in-memory"):
        gd_path(X, np.ones(20))
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError, match="numpy or scipy.sparse"):
        GDRegressorCV().fit(torch.ones((20, 3)), torch.ones(20))


@pytest.mark.parametrize("dense_support", [True, False])
def test_path_cv_refit_in_the_gram_form_where_most_features_stay(
    dense_support, monkeypatch
):
    # Where the folds' solutions at the chosen alpha use more than half of the
    # features, the refit solves the full problem in the Gram form (no GDRegressor
    # fit); elsewhere it is a GDRegressor fit. Either way: ElasticNet's solution
    # at that alpha, to the tolerance, with GDRegressor's attribute types.
    rng = np.random.default_rng(3)
    X = rng.standard_normal((300, 40)) * rng.uniform(0.5, 3, 40) + 2.0
    w = rng.standard_normal(40) if dense_support else np.r_[3.0, -2.0, np.zeros(38)]
    noise = 0.5 if dense_support else 10.0  # (a larger alpha chosen: few features)
    y = X @ w + noise * rng.standard_normal(300) + 1.0
    refits = []
    fit = GDRegressor.fit

    def spy(self, *args, **kwargs):
        refits.append(self)
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(GDRegressor, "fit", spy)
    ours = GDRegressorCV(l1_ratio=0.5, alphas=12, cv=KFold(3), tol=1e-12).fit(X, y)
    monkeypatch.undo()
    support = np.count_nonzero(ours.coef_)
    assert (support > 20) == dense_support
    assert len(refits) == (0 if dense_support else 1)
    ref = ElasticNet(alpha=ours.alpha_, l1_ratio=0.5, tol=1e-14, max_iter=10**5)
    ref.fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-6, atol=1e-8)
    assert ours.intercept_ == pytest.approx(ref.intercept_, rel=1e-8)
    assert isinstance(ours.intercept_, np.float64)
    assert isinstance(ours.n_iter_, int)
    assert ours.n_iter_ >= 1


def _correlated(n, p, seed, rho=0.7):
    """AR(1)-correlated columns of mixed scales and offsets, a sparse truth."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    for j in range(1, p):
        X[:, j] = rho * X[:, j - 1] + np.sqrt(1 - rho**2) * X[:, j]
    X = X * rng.uniform(0.5, 20.0, p) + rng.uniform(-5.0, 5.0, p)
    coef = np.zeros(p)
    coef[: p // 5] = rng.uniform(-3.0, 3.0, p // 5)
    return X, X @ coef + rng.standard_normal(n)


@pytest.mark.parametrize("positive", [False, True])
def test_path_cv_start_screen_changes_no_result(positive, monkeypatch):
    # The screen only skips start gaps that would have missed the threshold:
    # with it and without it the search takes the same steps.
    X, y = _correlated(2_000, 40, seed=7)
    grid = ElasticNetCV(l1_ratio=0.5, alphas=30, cv=KFold(5)).fit(X, y).alphas_
    kw = {
        "l1_ratio": 0.5,
        "alphas": grid,
        "cv": KFold(5, shuffle=True, random_state=0),
        "positive": positive,
    }
    new = GDRegressorCV(**kw).fit(X, y)
    monkeypatch.setattr(_working_set, "start_cannot_certify", lambda *a: False)
    old = GDRegressorCV(**kw).fit(X, y)
    np.testing.assert_allclose(new.mse_path_, old.mse_path_, rtol=1e-10)
    np.testing.assert_allclose(new.coef_, old.coef_, rtol=1e-10, atol=1e-12)
    assert new.alpha_ == old.alpha_
    if not positive:
        # (Both to a tight tolerance: at the default one the paths differ
        # within it, 4e-3 of an MSE near alpha_max.)
        tight = GDRegressorCV(**kw, tol=1e-12, max_iter=10**4).fit(X, y)
        ref = ElasticNetCV(**kw, tol=1e-12, max_iter=10**5).fit(X, y)
        assert tight.alpha_ == ref.alpha_ == new.alpha_
        np.testing.assert_allclose(tight.mse_path_, ref.mse_path_, rtol=1e-8)


@pytest.mark.parametrize("positive", [False, True])
def test_start_screen_is_a_lower_bound_on_the_gap(positive):
    # Wherever the screen says a start cannot be certified, its duality gap (the
    # certificate it skips) is above the threshold, on warm starts of a path
    # (the previous alpha's solution) and on random points.
    X, y = _correlated(500, 30, seed=3)
    Xc, yc = X - X.mean(0), y - y.mean()
    G, q, yy = Xc.T @ Xc, Xc.T @ yc, float(yc @ yc)
    rng = np.random.default_rng(0)
    alpha_max = float(np.max(np.abs(q))) / 0.5
    screened = 0
    for alpha in alpha_max * np.geomspace(1.0, 1e-3, 12):
        penalty = L1L2(alpha=alpha, l1_ratio=0.5, positive=positive)
        prev = L1L2(alpha=alpha * 1.3, l1_ratio=0.5, positive=positive)
        w_prev = _gram_enet.solve_gram_cd(
            G, q, yy, prev, np.zeros(30), threshold=1e-12 * yy, max_iter=100, xp=np
        )[0]
        for w in [w_prev, w_prev + 1e-3 * rng.standard_normal(30)]:
            w = np.maximum(w, 0.0) if positive else w
            oracle = _gram_enet._oracle(
                G, q, yy, penalty, np, max_iter=0, threshold=0.0, lasso_form=True
            )
            gap = oracle.point(w).gap
            for threshold in [gap / 1000, gap / 100, gap / 10, gap, 10 * gap]:
                skip = _gram_enet.start_cannot_certify(
                    G, q, yy, penalty, w, threshold, np
                )
                assert not skip or gap > threshold
                screened += skip
    assert screened > 10


@pytest.mark.parametrize(
    ("l1_ratio", "positive"), [(0.5, False), (0.5, True), (1.0, False)]
)
def test_path_cv_parts_left_to_check_change_no_result(l1_ratio, positive, monkeypatch):
    # A working set's run of coordinate descent that meets its threshold by the
    # loop's own gap is not measured again (the check of the full problem
    # certifies it): with that measure and without it the search takes the
    # same steps.
    X, y = _correlated(200, 300, seed=5)
    cv = KFold(5, shuffle=True, random_state=0)
    kw = {"l1_ratio": l1_ratio, "alphas": 40, "cv": cv, "positive": positive}
    calls = []
    part = _working_set._solve_part
    monkeypatch.setattr(
        _working_set, "_solve_part", lambda *a, **k: calls.append(1) or part(*a, **k)
    )
    new = GDRegressorCV(**kw).fit(X, y)
    assert len(calls) > 100
    monkeypatch.setattr(_working_set, "_solve_part", _gram_enet.solve_gram_cd)
    old = GDRegressorCV(**kw).fit(X, y)
    np.testing.assert_allclose(new.mse_path_, old.mse_path_, rtol=1e-10)
    np.testing.assert_allclose(new.coef_, old.coef_, rtol=1e-10, atol=1e-12)
    assert new.alpha_ == old.alpha_


@pytest.mark.parametrize("positive", [False, True])
def test_uncertified_run_is_the_certified_one(positive):
    # certify=False returns the loop's point itself, and its gap (the lasso
    # form's dual point) bounds ours there (which takes the smaller of the
    # lasso form's and the elastic net's own); where the loop misses the
    # threshold, the certified route runs as without it.
    X, y = _correlated(500, 30, seed=11)
    Xc, yc = X - X.mean(0), y - y.mean()
    G, q, yy = Xc.T @ Xc, Xc.T @ yc, float(yc @ yc)
    alpha_max = float(np.max(np.abs(q))) / 0.5
    kw = {"max_iter": 100, "xp": np, "lasso_form": True}
    left = 0
    for alpha in alpha_max * np.geomspace(0.9, 1e-3, 8):
        penalty = L1L2(alpha=alpha, l1_ratio=0.5, positive=positive)
        for threshold in [1e-4 * yy, 1e-9 * yy, 0.0]:
            args = (G, q, yy, penalty, np.zeros(30))
            w, gap, curve = _gram_enet.solve_gram_cd(
                *args, threshold=threshold, certify=False, **kw
            )
            w_ref, gap_ref, curve_ref = _gram_enet.solve_gram_cd(
                *args, threshold=threshold, **kw
            )
            oracle = _gram_enet._oracle(
                G, q, yy, penalty, np, max_iter=0, threshold=0.0, lasso_form=True
            )
            point = oracle.point(w)
            assert oracle.value(point) == pytest.approx(curve[0], rel=1e-12)
            if threshold > 0:
                # (The loop met it: its point, the certified route's first.)
                np.testing.assert_array_equal(w, w_ref)
                assert len(curve) == 1
                assert 0 <= gap <= threshold
                assert point.gap <= gap * (1 + 1e-6) + 1e-13 * yy
                left += 1
            else:
                np.testing.assert_array_equal(w, w_ref)
                assert gap == gap_ref
                assert curve == curve_ref
    assert left == 16
