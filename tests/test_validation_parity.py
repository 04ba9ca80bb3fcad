# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Bad input gets the same clear error whatever the array kind, and bad parameters of
the functions (not only of the estimators) are refused before any work."""

import os

import numpy as np
import pytest
import scipy.sparse as sp
from _data import make_problem

from skgd import GDClassifier, GDRegressor, gd_path
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


# The bad-input table: each entry breaks one input of a good problem, and every
# input kind must refuse it with numpy's error (the pattern is the part all
# kinds share; Dask's NaN check of X runs on the workers, its message is the same).
BAD_INPUTS = {
    "nan_X": ("X", lambda a: _put(a, (3, 1), np.nan), r"^Input X contains NaN"),
    "inf_X": ("X", lambda a: _put(a, (3, 1), np.inf), r"^Input X contains infinity"),
    "complex_X": ("X", lambda a: a + 1j, r"^Complex data not supported"),
    "complex_y": ("y", lambda a: a + 1j, r"^Complex data not supported"),
    "nan_y": ("y", lambda a: _put(a, 4, np.nan), r"^Input y contains NaN"),
    "inf_y": ("y", lambda a: _put(a, 4, -np.inf), r"^Input y contains infinity"),
    "negative_weight": (
        "sample_weight",
        lambda a: _put(a, 2, -1.0),
        r"^Negative values in data passed to `sample_weight`",
    ),
    "nan_weight": (
        "sample_weight",
        lambda a: _put(a, 2, np.nan),
        r"^Input sample_weight contains NaN",
    ),
    "short_y": ("y", lambda a: a[:-1], r"inconsistent numbers of samples: \[30, 29\]"),
    "short_weight": (
        "sample_weight",
        lambda a: a[:-1],
        r"^sample_weight.shape == \(29,\), expected \(30,\)",
    ),
    "continuous_labels": ("labels", lambda a: a, r"^Unknown label type: continuous"),
    "one_class": ("labels", np.zeros_like, r"at least 2 classes"),
    "no_rows": ("rows", lambda a: a[:0], r"0 sample\(s\)"),
    "no_columns": ("X", lambda a: a[:, :0], r"^Found array with 0 feature\(s\)"),
    "three_dim_X": ("X", lambda a: a[:, :, None], r"dim 3|3 dimensions"),
}


def _put(a, index, value):
    a = a.copy()
    a[index] = value
    return a


def _kinds():
    out = ["numpy", "csr", "csc", "pandas", "dask"]
    if os.environ.get("SCIPY_ARRAY_API") == "1":
        out.append(pytest.param("torch", marks=pytest.mark.array_api))
    return out


def _as_kind(kind, name, a):
    if kind in ("csr", "csc") and name == "X" and a.ndim == 2:
        return sp.csr_matrix(a) if kind == "csr" else sp.csc_matrix(a)
    if kind == "pandas" and a.ndim <= 2:
        pd = pytest.importorskip("pandas")
        return pd.DataFrame(a) if a.ndim == 2 else pd.Series(a)
    if kind == "dask":
        return da.from_array(a, chunks=(10,) + a.shape[1:] if a.shape[0] else -1)
    if kind == "torch":
        torch = pytest.importorskip("torch")
        return torch.asarray(a)
    return a


def _broken_data(bad, kind):
    """Return the broken input's name, the error's pattern and the broken problem.

    The good problem's X, y and weights with the table's entry ``bad`` applied, as
    arrays of ``kind`` (a dict of X, y and sample_weight); the sparse kinds skip
    the entries that break neither X nor the rows.
    """
    what, breaks, pattern = BAD_INPUTS[bad]
    if kind in ("csr", "csc") and what not in ("X", "rows"):
        pytest.skip("the sparse kinds differ from numpy in X only")
    X, y = make_problem(0, 30, 3)
    data = {"X": X, "y": y, "sample_weight": np.ones(30)}
    if what == "labels":
        data["y"] = breaks(y)
    elif what == "rows":
        data = {k: breaks(v) for k, v in data.items()}
    else:
        data[what] = breaks(data[what])
    return what, pattern, {k: _as_kind(kind, k, v) for k, v in data.items()}


@pytest.mark.parametrize("kind", _kinds())
@pytest.mark.parametrize("bad", list(BAD_INPUTS))
def test_bad_input_matrix_gets_numpy_error_on_every_kind(bad, kind):
    import sklearn

    what, pattern, args = _broken_data(bad, kind)
    make = GDClassifier if what == "labels" else GDRegressor
    with (
        sklearn.config_context(array_api_dispatch=kind == "torch"),
        pytest.raises(ValueError, match=pattern),
    ):
        make().fit(args["X"], args["y"], sample_weight=args["sample_weight"])


# (torch arrays take solver="gd" only: no stream.)
@pytest.mark.parametrize("kind", ["numpy", "csr", "csc", "pandas", "dask"])
@pytest.mark.parametrize("bad", [b for b in BAD_INPUTS if b != "one_class"])
def test_bad_input_matrix_gets_numpy_error_in_a_later_partial_fit(bad, kind):
    # A fitted stream's later batches take another, faster path through
    # validation (check_stream_data): the same table, the same errors. (One
    # class in a later batch is valid: the classes are known by then.)
    what, pattern, args = _broken_data(bad, kind)
    X, y = make_problem(0, 30, 3)
    if what == "labels":
        est = GDClassifier(solver="sgd")
        est.partial_fit(_as_kind(kind, "X", X), (y > 0).astype(int), classes=[0, 1])
    else:
        est = GDRegressor(solver="sgd")
        est.partial_fit(_as_kind(kind, "X", X), _as_kind(kind, "y", y))
    with pytest.raises(ValueError, match=pattern):
        est.partial_fit(args["X"], args["y"], sample_weight=args["sample_weight"])


@pytest.mark.parametrize("kind", ["numpy", "csr", "pandas", "dask"])
@pytest.mark.parametrize("method", ["predict", "partial_fit"])
def test_x_without_columns_gets_numpy_error_in_every_method(kind, method):
    # A DataFrame without columns gave "at least one array or dtype is
    # required" (scikit-learn's check_array fails on it before its own check).
    X, y = make_problem(0, 30, 3)
    est = GDRegressor(solver="sgd").fit(X, y)
    empty = _as_kind(kind, "X", X[:, :0])
    call = getattr(est, method)
    with pytest.raises(ValueError, match=r"^Found array with 0 feature\(s\)"):
        call(empty) if method == "predict" else call(empty, _as_kind(kind, "y", y))


def test_warm_start_on_data_of_another_width_starts_afresh():
    # It gave a broadcast error; the previous coefficients do not fit the new
    # width, so the fit starts from zero, as a cold fit does.
    X, y = make_problem(0, 30, 3)
    wide = np.c_[X, X[:, :1] ** 2]
    est = GDRegressor(solver="gd", warm_start=True).fit(X, y)
    cold = GDRegressor(solver="gd").fit(wide, y)
    np.testing.assert_array_equal(est.fit(wide, y).coef_, cold.coef_)


# What predict refuses: the entries of the table that break X, and a width other
# than the fitted one.
PREDICT_BAD_INPUTS = {
    **{
        name: BAD_INPUTS[name][1:]
        for name in ("nan_X", "inf_X", "complex_X", "no_columns", "three_dim_X")
    },
    "wide_X": (
        lambda a: np.c_[a, a[:, :1]],
        r"X has 4 features, but GDRegressor is expecting 3 features",
    ),
}


@pytest.mark.parametrize("kind", _kinds())
@pytest.mark.parametrize("bad", list(PREDICT_BAD_INPUTS))
def test_bad_input_matrix_gets_numpy_error_in_predict(bad, kind):
    import sklearn

    breaks, pattern = PREDICT_BAD_INPUTS[bad]
    X, y = make_problem(0, 30, 3)
    with sklearn.config_context(array_api_dispatch=kind == "torch"):
        est = GDRegressor().fit(_as_kind(kind, "X", X), _as_kind(kind, "y", y))
        X_bad = _as_kind(kind, "X", breaks(X))
        # (Dask checks the values of X on the workers, when they are computed.)
        with pytest.raises(ValueError, match=pattern):
            getattr(est.predict(X_bad), "compute", lambda: None)()
