# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""What a scikit-learn user reaches for: ``sparsify()`` / ``densify()`` as in the
SGD estimators, ``dual_gap_`` as in Lasso, and ONNX export of GDRegressorCV as of
ElasticNetCV."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_diabetes, load_iris
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import Lasso
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skgd import GDClassifier, GDRegressor, GDRegressorCV


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.mark.parametrize("Est", [GDRegressor, GDClassifier])
def test_sparsify_before_fit_raises(Est):
    # As sklearn's SparseCoefMixin: the message names the estimator.
    with pytest.raises(NotFittedError, match=Est.__name__):
        Est().sparsify()
    with pytest.raises(NotFittedError, match=Est.__name__):
        Est().densify()


def test_regressor_sparsify_densify(diabetes):
    X, y = diabetes
    reg = GDRegressor(penalty="l1", alpha=1.0).fit(X, y)
    dense, pred = reg.coef_.copy(), reg.predict(X)
    assert reg.sparsify() is reg
    assert sp.issparse(reg.coef_)
    assert reg.coef_.shape == dense.shape  # 1-D, as SGDRegressor's
    assert reg.coef_.nnz == np.count_nonzero(dense)
    np.testing.assert_allclose(reg.predict(X), pred)
    np.testing.assert_allclose(pickle.loads(pickle.dumps(reg)).predict(X), pred)
    assert reg.densify() is reg
    assert isinstance(reg.coef_, np.ndarray)
    np.testing.assert_array_equal(reg.coef_, dense)
    reg.densify()  # a no-op on a dense coef_
    np.testing.assert_array_equal(reg.coef_, dense)


@pytest.mark.parametrize("loss", ["log_loss", "modified_huber"])
def test_classifier_sparsify_keeps_predictions(iris, loss):
    X, y = iris
    clf = GDClassifier(loss=loss, penalty="l1", alpha=0.01).fit(X, y)
    proba, labels = clf.predict_proba(X), clf.predict(X)
    clf.sparsify()
    assert sp.issparse(clf.coef_)
    assert clf.coef_.shape == (3, X.shape[1])
    np.testing.assert_allclose(clf.predict_proba(X), proba)
    np.testing.assert_array_equal(clf.predict(X), labels)


def test_warm_start_from_sparsified_coef(diabetes):
    X, y = diabetes
    reg = GDRegressor(penalty="l1", alpha=1.0, warm_start=True).fit(X, y)
    coef = reg.coef_.copy()
    reg.sparsify().fit(X, y)
    assert isinstance(reg.coef_, np.ndarray)
    np.testing.assert_allclose(reg.coef_, coef, atol=1e-8)
    # A warm start at the optimum certifies it at once.
    assert reg.n_iter_ <= 2


@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
def test_dual_gap_bounds_suboptimality_like_lasso(diabetes, penalty):
    X, y = diabetes
    ratio = 1.0 if penalty == "l1" else 0.5
    reg = GDRegressor(penalty=penalty, alpha=0.5, l1_ratio=ratio, solver="gd")
    reg.fit(X, y)
    exact = GDRegressor(penalty=penalty, alpha=0.5, l1_ratio=ratio, tol=1e-14)
    exact.fit(X, y)

    def objective(model):
        w = model.coef_
        r = y - X @ w - model.intercept_
        pen = ratio * np.abs(w).sum() + (1 - ratio) / 2 * w @ w
        return r @ r / (2 * len(y)) + 0.5 * pen

    assert np.isscalar(reg.dual_gap_)
    subopt = objective(reg) - objective(exact)
    assert -1e-9 <= subopt <= reg.dual_gap_ + 1e-9
    # Below tol relative to the objective at zero (half the variance of y).
    assert reg.dual_gap_ <= 1e-4 * y.var() / 2
    if penalty == "l1":
        # The same scale as Lasso's (its objective's gap, divided by n_samples).
        lasso = Lasso(alpha=0.5, tol=1e-4).fit(X, y)
        assert lasso.dual_gap_ <= 1e-4 * y.var() / 2


def test_dual_gap_per_target_and_absent_after_sgd(diabetes, iris):
    X, y = diabetes
    reg = GDRegressor(penalty="l1", alpha=1.0).fit(X, np.c_[y, -y])
    assert reg.dual_gap_.shape == (2,)
    clf = GDClassifier(loss="hinge", alpha=0.1).fit(*iris)  # one-vs-rest
    assert clf.dual_gap_.shape == (3,)
    reg.set_params(solver="sgd").fit(X, y)
    assert not hasattr(reg, "dual_gap_")


def test_dual_gap_without_penalty_is_the_proximal_measure(diabetes):
    X, y = diabetes
    reg = GDRegressor(penalty=None, solver="gd").fit(sp.csr_matrix(X), y)
    assert 0 <= reg.dual_gap_ <= 1e-4 * y.var() / 2


@pytest.mark.parametrize("in_pipeline", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_onnx_regressor_cv_matches_predict(diabetes, in_pipeline, dtype):
    skl2onnx = pytest.importorskip("skl2onnx")
    onnxruntime = pytest.importorskip("onnxruntime")
    from skgd import register_onnx_converter

    register_onnx_converter()
    X, y = load_diabetes(return_X_y=True)
    cv = GDRegressorCV(l1_ratio=[0.5, 1.0], alphas=10, cv=3)
    model = make_pipeline(StandardScaler(), cv) if in_pipeline else cv
    model.fit(X, y)
    onx = skl2onnx.to_onnx(model, X[:1].astype(dtype))
    sess = onnxruntime.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    (name,) = [i.name for i in sess.get_inputs()]
    got = sess.run(None, {name: X.astype(dtype)})[0]
    expected = model.predict(X)
    assert got.dtype == dtype
    assert got.shape == (X.shape[0], 1)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    scale = np.abs(expected).max()
    np.testing.assert_allclose(got.ravel(), expected, atol=rtol * scale)


def test_onnx_sparsified_regressor(diabetes):
    skl2onnx = pytest.importorskip("skl2onnx")
    onnxruntime = pytest.importorskip("onnxruntime")
    from skgd import register_onnx_converter

    register_onnx_converter()
    X, y = diabetes
    reg = GDRegressor(penalty="l1", alpha=1.0).fit(X, y).sparsify()
    onx = skl2onnx.to_onnx(reg, X[:1])
    sess = onnxruntime.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    got = sess.run(None, {sess.get_inputs()[0].name: X})[0]
    np.testing.assert_allclose(got.ravel(), reg.predict(X), rtol=1e-12, atol=1e-9)


def test_dual_gap_of_non_smooth_loss_without_penalty(iris):
    # The interior points certify the hinge without a penalty (a linear
    # program); "gd" has no dual point for it and says so with inf.
    X, y = iris
    clf = GDClassifier(loss="hinge", penalty=None).fit(X, y == 0)
    assert clf.n_iter_ < clf.max_iter
    assert 0 <= clf.dual_gap_ <= clf.tol  # (relative to the objective at 0: 1)
    with pytest.warns(ConvergenceWarning, match="did not certify"):
        clf = GDClassifier(loss="hinge", penalty=None, solver="gd").fit(X, y == 0)
    assert clf.dual_gap_ == np.inf
