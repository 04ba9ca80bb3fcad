# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Guarantees beyond correctness: atomic fits, thread-safe prediction, determinism."""

import pickle
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from _data import make_problem

import skgd._estimator
from skgd import GDRegressor


def test_guarantees_interrupted_fit_leaves_previous_model_unchanged(monkeypatch):
    X, y = make_problem(0, 200, 10)
    est = GDRegressor(penalty="l1", alpha=0.01).fit(X, y)
    before = {k: np.copy(v) for k, v in vars(est).items() if k.endswith("_")}
    original = skgd._estimator.solve_gd

    def interrupted(*args, **kwargs):
        def stop(iteration, w, value):
            if iteration == 3:
                raise KeyboardInterrupt

        return original(*args, **{**kwargs, "callback": stop})

    monkeypatch.setattr(skgd._estimator, "solve_gd", interrupted)
    with pytest.raises(KeyboardInterrupt):
        est.set_params(alpha=1.0).fit(X[:100], -y[:100])
    after = {k: v for k, v in vars(est).items() if k.endswith("_")}
    assert before.keys() == after.keys()
    for key, value in before.items():
        np.testing.assert_array_equal(after[key], value, err_msg=key)


def test_guarantees_concurrent_predict_equals_serial():
    X, y = make_problem(1, 500, 20)
    est = GDRegressor(penalty="elasticnet").fit(X, y)
    chunks = np.array_split(np.tile(X, (20, 1)), 40)
    serial = [est.predict(c) for c in chunks]
    with ThreadPoolExecutor(max_workers=8) as pool:
        parallel = list(pool.map(est.predict, chunks))
    for a, b in zip(serial, parallel, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("loss", ["squared_error", "huber", "epsilon_insensitive"])
def test_guarantees_fits_are_bit_identical_and_survive_pickling(loss):
    X, y = make_problem(2, 150, 8)
    kw = {"loss": loss, "penalty": "l1", "alpha": 0.01, "max_iter": 5000}
    fits = [GDRegressor(**kw).fit(X, y) for _ in "ab"]
    np.testing.assert_array_equal(fits[0].coef_, fits[1].coef_)
    assert fits[0].intercept_ == fits[1].intercept_
    assert fits[0].loss_curve_ == fits[1].loss_curve_
    again = pickle.loads(pickle.dumps(fits[0]))
    np.testing.assert_array_equal(again.predict(X), fits[0].predict(X))
