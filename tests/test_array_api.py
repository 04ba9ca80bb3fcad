# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Array API inputs (array_api_strict, torch on CPU; CUDA/MPS when present).

These run on CPU in CI; on a GPU machine the same tests run on the device
(``benchmarks/gpu.sh``). sklearn's Array API checks need SCIPY_ARRAY_API=1 set
before scipy is imported, as the README's test command does.
"""

import numpy as np
import pytest
import sklearn
from _data import make_problem

from skgd import GDRegressor

pytestmark = pytest.mark.array_api


def _namespaces():
    out = []
    try:
        import array_api_strict

        out.append(pytest.param(array_api_strict, None, id="array_api_strict"))
    except ImportError:  # pragma: no cover
        pass
    try:
        import torch

        out.append(pytest.param(torch, "cpu", id="torch-cpu"))
        if torch.cuda.is_available():  # pragma: no cover - GPU machines only
            out.append(pytest.param(torch, "cuda", id="torch-cuda"))
    except ImportError:  # pragma: no cover
        pass
    return out


def _to(xp, dev, a, dtype):
    if xp.__name__ == "torch":
        return xp.asarray(a, dtype=getattr(xp, dtype), device=dev)
    return xp.asarray(a, dtype=getattr(xp, dtype))


def _to_numpy(a):
    if hasattr(a, "cpu"):
        return a.cpu().numpy()
    return np.asarray(a)


@pytest.mark.parametrize(("xp", "dev"), _namespaces())
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(
    ("loss", "penalty"),
    [
        ("squared_error", "l1"),
        ("squared_error", "elasticnet"),
        ("squared_error", None),
        ("huber", "l2"),
    ],
)
def test_array_api_fit_predict_match_numpy(xp, dev, dtype, loss, penalty, seed):
    X, y = make_problem(seed, 80, 7)
    Y2 = np.column_stack([y, -y])
    # (One solver on every namespace: "auto" picks Newton on numpy only.)
    kw = {"loss": loss, "penalty": penalty, "alpha": 0.05, "tol": 1e-10, "solver": "gd"}
    if dtype == "float32":
        kw["tol"] = 1e-6
    ref = GDRegressor(**kw).fit(X.astype(dtype), y)
    Xx, yx = _to(xp, dev, X, dtype), _to(xp, dev, y, dtype)
    with sklearn.config_context(array_api_dispatch=True):
        est = GDRegressor(**kw).fit(Xx, yx)
        pred = est.predict(Xx)
        multi = GDRegressor(**kw).fit(Xx, _to(xp, dev, Y2, dtype))
    # Fitted attributes and predictions live in the input's namespace and device.
    for arr in (est.coef_, est.intercept_, pred, multi.coef_, multi.intercept_):
        assert type(arr) is type(Xx)
        assert str(arr.device) == str(Xx.device)
    assert est.coef_.dtype == Xx.dtype
    rtol = 1e-7 if dtype == "float64" else 1e-4
    scale = np.abs(ref.coef_).max()
    np.testing.assert_allclose(
        _to_numpy(est.coef_), ref.coef_, rtol=rtol, atol=rtol * scale
    )
    np.testing.assert_allclose(
        _to_numpy(pred),
        ref.predict(X.astype(dtype)),
        rtol=rtol,
        atol=rtol * np.abs(y).max(),
    )
    assert multi.coef_.shape == (2, 7)


@pytest.mark.parametrize(("xp", "dev"), _namespaces())
def test_array_api_predict_in_another_namespace_raises(xp, dev):
    X, y = make_problem(0, 30, 3)
    with sklearn.config_context(array_api_dispatch=True):
        est = GDRegressor().fit(_to(xp, dev, X, "float64"), _to(xp, dev, y, "float64"))
        with pytest.raises(ValueError, match="same namespace"):
            est.predict(X)
    with pytest.raises(ValueError, match="fitted on"):
        est.predict(X)


def test_array_api_gpu_tensor_without_dispatch_is_refused(monkeypatch):
    torch = pytest.importorskip("torch")
    import skgd._validation as validation  # private seam: fake the device

    X = torch.ones((4, 2), dtype=torch.float64)
    # Pretend the tensor lives on a GPU: the refusal must come before any transfer.
    monkeypatch.setattr(validation, "device", lambda a: "cuda:0")
    with pytest.raises(ValueError, match="array_api_dispatch"):
        GDRegressor().fit(X, torch.ones(4, dtype=torch.float64))


def test_array_api_cpu_tensor_without_dispatch_converts_to_numpy():
    torch = pytest.importorskip("torch")
    X, y = make_problem(0, 30, 3)
    est = GDRegressor().fit(torch.asarray(X), torch.asarray(y))
    assert isinstance(est.coef_, np.ndarray)
    np.testing.assert_allclose(est.coef_, GDRegressor().fit(X, y).coef_)


@pytest.mark.parametrize(("xp", "dev"), _namespaces())
@pytest.mark.parametrize("loss", ["log_loss", "hinge", "modified_huber"])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_array_api_classifier_matches_numpy(xp, dev, loss, n_classes):
    from sklearn.datasets import load_iris

    from skgd import GDClassifier

    X, y = load_iris(return_X_y=True)
    X = (X - X.mean(0)) / X.std(0)
    if n_classes == 2:
        X, y = X[50:], y[50:]
    kw = {"loss": loss, "alpha": 1e-2, "tol": 1e-10 if loss != "hinge" else 1e-3}
    kw["solver"] = "gd"  # (one solver on every namespace)
    ref = GDClassifier(**kw).fit(X, y)
    Xx, yx = _to(xp, dev, X, "float64"), _to(xp, dev, y, "int64")
    with sklearn.config_context(array_api_dispatch=True):
        est = GDClassifier(**kw).fit(Xx, yx)
        pred = est.predict(Xx)
        decision = est.decision_function(Xx)
    for arr in (est.coef_, est.intercept_, est.classes_, pred, decision):
        assert type(arr) is type(Xx)
    np.testing.assert_allclose(_to_numpy(est.coef_), ref.coef_, rtol=1e-7, atol=1e-9)
    np.testing.assert_array_equal(_to_numpy(pred), ref.predict(X))


@pytest.mark.parametrize(("xp", "dev"), _namespaces())
@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
def test_array_api_newton_l1_matches_numpy(xp, dev, penalty):
    # Newton's L1 steps take a pseudo-inverse, whose ``hermitian`` argument the
    # standard's pinv lacks (array_api_strict refused the call).
    from sklearn.datasets import load_breast_cancer

    from skgd import GDClassifier

    X, y = load_breast_cancer(return_X_y=True)
    X = (X - X.mean(0)) / X.std(0)
    kw = {"penalty": penalty, "alpha": 1e-2, "tol": 1e-10, "solver": "newton"}
    ref = GDClassifier(**kw).fit(X, y)
    Xx, yx = _to(xp, dev, X, "float64"), _to(xp, dev, y, "int64")
    with sklearn.config_context(array_api_dispatch=True):
        est = GDClassifier(**kw).fit(Xx, yx)
    assert type(est.coef_) is type(Xx)
    np.testing.assert_allclose(_to_numpy(est.coef_), ref.coef_, rtol=1e-6, atol=1e-8)
