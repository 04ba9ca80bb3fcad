# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""GDRegressor inside scikit-learn's meta-estimators, with metadata routing."""

import numpy as np
import pytest
import sklearn
from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import BaggingRegressor, StackingRegressor
from sklearn.linear_model import Lasso, Ridge
from sklearn.model_selection import (
    GridSearchCV,
    KFold,
    RandomizedSearchCV,
    cross_val_score,
    cross_validate,
)
from sklearn.multioutput import MultiOutputRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skgd import GDRegressor


def test_meta_pipeline_and_grid_search_pick_same_alpha_as_lasso(diabetes):
    X, y = diabetes
    grid = {"gdregressor__alpha": [0.01, 0.1, 1.0, 3.0]}
    ours = GridSearchCV(
        make_pipeline(StandardScaler(), GDRegressor(penalty="l1", tol=1e-10)),
        grid,
        cv=KFold(5),
    ).fit(X, y)
    ref_grid = {"lasso__alpha": grid["gdregressor__alpha"]}
    ref = GridSearchCV(
        make_pipeline(StandardScaler(), Lasso(tol=1e-10, max_iter=10**5)),
        ref_grid,
        cv=KFold(5),
    ).fit(X, y)
    assert ours.best_params_["gdregressor__alpha"] == ref.best_params_["lasso__alpha"]
    np.testing.assert_allclose(
        ours.cv_results_["mean_test_score"],
        ref.cv_results_["mean_test_score"],
        rtol=1e-6,
    )


def test_meta_randomized_search_and_cross_validate(diabetes):
    X, y = diabetes
    search = RandomizedSearchCV(
        GDRegressor(),
        {"alpha": [1e-3, 1e-2, 1e-1], "penalty": ["l1", "l2"]},
        n_iter=4,
        cv=3,
        random_state=0,
    ).fit(X, y)
    assert search.best_score_ > 0.4
    # Folds of 353 or 354 training rows: Ridge(alpha * S) needs S per fold, so use
    # equal folds (440 rows, 5 folds of 352 training rows each).
    X, y = X[:440], y[:440]
    est = GDRegressor(penalty="l2", alpha=0.01, tol=1e-20)
    scores = cross_val_score(est, X, y, cv=5)
    ref = cross_val_score(Ridge(alpha=0.01 * 352), X, y, cv=5)
    np.testing.assert_allclose(scores, ref, rtol=1e-8)
    res = cross_validate(GDRegressor(), X, y, cv=3, return_estimator=True)
    assert len(res["estimator"]) == 3


def test_meta_wrappers(diabetes):
    X, y = diabetes
    Y = np.column_stack([y, np.log(y)])
    ttr = TransformedTargetRegressor(GDRegressor(), func=np.log, inverse_func=np.exp)
    assert ttr.fit(X, y).score(X, y) > 0.3
    multi = MultiOutputRegressor(GDRegressor(penalty="l1", alpha=0.1)).fit(X, Y)
    direct = GDRegressor(penalty="l1", alpha=0.1).fit(X, Y)
    np.testing.assert_allclose(multi.predict(X), direct.predict(X), rtol=1e-4)
    bag = BaggingRegressor(GDRegressor(), n_estimators=3, random_state=0).fit(X, y)
    assert bag.score(X, y) > 0.4
    stack = StackingRegressor(
        [("l1", GDRegressor(penalty="l1", alpha=0.1)), ("l2", GDRegressor())],
        final_estimator=GDRegressor(),
    ).fit(X, y)
    assert stack.score(X, y) > 0.4


def test_meta_sample_weight_routed_by_metadata_routing(diabetes):
    X, y = diabetes
    s = np.random.default_rng(0).uniform(0.1, 2.0, size=len(y))
    with sklearn.config_context(enable_metadata_routing=True):
        est = (
            GDRegressor(penalty="l2", alpha=0.1, tol=1e-12)
            .set_fit_request(sample_weight=True)
            .set_score_request(sample_weight=False)
        )
        search = GridSearchCV(est, {"alpha": [0.1]}, cv=KFold(3), refit=True)
        search.fit(X, y, sample_weight=s)
        res = cross_validate(
            est, X, y, cv=KFold(3), params={"sample_weight": s}, return_estimator=True
        )
    direct = GDRegressor(penalty="l2", alpha=0.1, tol=1e-12).fit(X, y, sample_weight=s)
    np.testing.assert_allclose(search.best_estimator_.coef_, direct.coef_, rtol=1e-8)
    unweighted = GDRegressor(penalty="l2", alpha=0.1, tol=1e-12).fit(X, y)
    assert not np.allclose(direct.coef_, unweighted.coef_, rtol=1e-3)
    # Each fold's model saw the weights of its own training rows.
    train = np.arange(len(y))[len(y) // 3 + 1 :]
    fold0 = GDRegressor(penalty="l2", alpha=0.1, tol=1e-12)
    fold0.fit(X[train], y[train], sample_weight=s[train])
    np.testing.assert_allclose(res["estimator"][0].coef_, fold0.coef_, rtol=1e-8)


@pytest.mark.parametrize("protocol", [2, 5])
def test_meta_clone_and_pickle(protocol, diabetes):
    import pickle

    X, y = diabetes
    est = GDRegressor(penalty="l1", alpha=0.1).fit(X, y)
    again = pickle.loads(pickle.dumps(est, protocol=protocol))
    np.testing.assert_array_equal(again.predict(X), est.predict(X))
    fresh = sklearn.base.clone(est)
    assert fresh.get_params() == est.get_params()
    assert not hasattr(fresh, "coef_")
