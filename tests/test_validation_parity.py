# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Bad input gets the same clear error whatever the array kind, and bad parameters of
the functions (not only of the estimators) are refused before any work."""

import numpy as np
import pytest
from _data import make_problem

from skgd import GDRegressor, gd_path
from skgd._sklearn_compat import InvalidParameterError


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"alphas": [-1.0]}, ValueError, "non-negative"),
        ({"alphas": [0.5, np.nan]}, ValueError, "finite"),
        ({"alphas": []}, ValueError, "non-empty"),
        ({"alphas": 0.1}, InvalidParameterError, "alphas"),
        ({"alphas": 0}, InvalidParameterError, "alphas"),
        ({"l1_ratio": 1.5}, InvalidParameterError, "l1_ratio"),
        ({"l1_ratio": np.nan}, InvalidParameterError, "l1_ratio"),
        ({"tol": -1e-4}, InvalidParameterError, "tol"),
        ({"max_iter": 0}, InvalidParameterError, "max_iter"),
        ({"eps": 0.0}, InvalidParameterError, "eps"),
        ({"coef_init": np.full(6, np.nan)}, ValueError, "NaN"),
        ({"coef_init": np.zeros(5)}, ValueError, r"shape \(6,\)"),
    ],
)
def test_gd_path_refuses_bad_parameters(kwargs, error, match):
    X, y = make_problem(0, 30, 6)
    with pytest.raises(error, match=match):
        gd_path(X, y, **kwargs)


def test_gd_path_explicit_alphas_and_coef_init_still_work():
    X, y = make_problem(0, 30, 6)
    alphas, coefs, _ = gd_path(X, y, alphas=[0.1, 1.0], coef_init=np.zeros(6))
    np.testing.assert_array_equal(alphas, [1.0, 0.1])
    assert coefs.shape == (6, 2)
    assert np.all(np.isfinite(coefs))


da = pytest.importorskip("dask.array")


def _dask(a):
    return da.from_array(a, chunks=10)


@pytest.mark.parametrize("what", ["X", "y", "sample_weight"])
def test_complex_data_is_refused_on_every_kind(what):
    X, y = make_problem(0, 30, 3)
    data = {"X": X, "y": y, "sample_weight": np.ones(30)}
    data[what] = data[what] + 1j
    for kind in (np.asarray, _dask):
        X_, y_, s_ = (kind(data[k]) for k in ("X", "y", "sample_weight"))
        if kind is _dask:
            X_ = da.from_array(data["X"], chunks=(10, 3))
        with pytest.raises(ValueError, match="[Cc]omplex"):
            GDRegressor().fit(X_, y_, sample_weight=s_)


def test_dask_predict_on_nan_raises_as_numpy_does():
    X, y = make_problem(0, 30, 3)
    est = GDRegressor().fit(X, y)
    X_bad = X.copy()
    X_bad[17, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        est.predict(X_bad)
    pred = est.predict(da.from_array(X_bad, chunks=(10, 3)))  # lazy: no error yet
    with pytest.raises(ValueError, match="NaN"):
        pred.compute()
    good = est.predict(da.from_array(X, chunks=(10, 3))).compute()
    np.testing.assert_allclose(good, est.predict(X), rtol=1e-12)
