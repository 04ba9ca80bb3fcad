# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""ONNX export through skl2onnx: converted models predict as ``predict`` does."""

import subprocess
import sys

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skgd
from skgd import GDRegressor

skl2onnx = pytest.importorskip("skl2onnx")
onnxruntime = pytest.importorskip("onnxruntime")


def _data(n_targets, dtype=np.float64, seed=42):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(40, 5)) * [1.0, 10.0, 0.1, 3.0, 100.0] + 2.0
    coef = rng.normal(size=(5, n_targets or 1))
    y = X @ coef + rng.normal(scale=0.1, size=(40, coef.shape[1])) + 1.5
    return X.astype(dtype), (y.ravel() if n_targets is None else y).astype(dtype)


def _run(onx, X):
    sess = onnxruntime.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    (name,) = [i.name for i in sess.get_inputs()]
    return sess.run(None, {name: X})[0]


@pytest.mark.parametrize("n_targets", [None, 1, 3])
@pytest.mark.parametrize("in_pipeline", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_onnx_predictions_match_predict(n_targets, in_pipeline, fit_intercept):
    X, y = _data(n_targets)
    reg = GDRegressor(penalty="elasticnet", alpha=0.01, fit_intercept=fit_intercept)
    model = make_pipeline(StandardScaler(), reg) if in_pipeline else reg
    model.fit(X, y)
    onx = skl2onnx.to_onnx(model, X[:1].astype(np.float32))
    got = _run(onx, X.astype(np.float32))
    expected = model.predict(X)
    assert got.dtype == np.float32
    assert got.shape == (X.shape[0], 1 if n_targets is None else n_targets)
    scale = np.abs(expected).max()
    np.testing.assert_allclose(got.reshape(expected.shape), expected, atol=1e-5 * scale)


@pytest.mark.parametrize("n_targets", [None, 2])
def test_onnx_float64_input_gives_float64_graph(n_targets):
    X, y = _data(n_targets)
    reg = GDRegressor(alpha=0.01).fit(X, y)
    onx = skl2onnx.to_onnx(reg, X[:1])
    got = _run(onx, X)
    expected = reg.predict(X)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got.reshape(expected.shape), expected, rtol=1e-12)


def test_onnx_float32_model():
    X, y = _data(None, dtype=np.float32)
    reg = GDRegressor(penalty="l1", alpha=0.1).fit(X, y)
    got = _run(skl2onnx.to_onnx(reg, X[:1]), X)
    np.testing.assert_allclose(got.ravel(), reg.predict(X), rtol=1e-5, atol=1e-4)


def test_register_onnx_converter_is_idempotent():
    skgd.register_onnx_converter()
    skgd.register_onnx_converter()
    X, y = _data(None)
    reg = GDRegressor().fit(X, y)
    assert skl2onnx.to_onnx(reg, X[:1].astype(np.float32)) is not None


@pytest.mark.parametrize(
    "imports", ["import skgd; import skl2onnx", "import skl2onnx; import skgd"]
)
def test_import_skgd_registers_in_any_order(imports):
    # A fresh interpreter: registration must follow from the two imports alone.
    code = (
        f"{imports}\n"
        "import numpy as np\n"
        "X = np.arange(12.0).reshape(6, 2); y = X @ [1.0, 2.0]\n"
        "reg = skgd.GDRegressor().fit(X, y)\n"
        "skl2onnx.to_onnx(reg, X[:1].astype(np.float32))\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_import_skgd_does_not_import_skl2onnx():
    code = "import sys, skgd; assert 'skl2onnx' not in sys.modules, 'imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
