# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""ONNX export through skl2onnx: converted models predict as ``predict`` does.

Registration is explicit (:func:`skgd.register_onnx_converter`, called once below);
the tests of registration itself run in fresh interpreters. Classifiers: the
``label`` output equals ``predict`` exactly and ``probabilities``
equals ``predict_proba`` (for hinge, the decision scores) to float32 precision.
"""

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skgd
from skgd import GDClassifier, GDRegressor

skl2onnx = pytest.importorskip("skl2onnx")
onnxruntime = pytest.importorskip("onnxruntime")
# The documented first step of every export: import skgd registers nothing.
skgd.register_onnx_converter()


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


def _run_fresh(code):
    """Run ``code`` in a fresh interpreter, where nothing was registered yet."""
    subprocess.run([sys.executable, "-c", code], check=True)


_FIT_AND_CONVERT = (
    "import numpy as np\n"
    "X = np.arange(12.0).reshape(6, 2); y = X @ [1.0, 2.0]\n"
    "reg = skgd.GDRegressor().fit(X, y)\n"
    "clf = skgd.GDClassifier().fit(X, y > y.mean())\n"
    "def convert():\n"
    "    skl2onnx.to_onnx(reg, X[:1].astype(np.float32))\n"
    "    skl2onnx.to_onnx(clf, X[:1].astype(np.float32))\n"
)


@pytest.mark.parametrize(
    "imports", ["import skgd; import skl2onnx", "import skl2onnx; import skgd"]
)
def test_register_onnx_converter_after_imports_in_any_order(imports):
    _run_fresh(
        f"{imports}\n{_FIT_AND_CONVERT}skgd.register_onnx_converter()\nconvert()\n"
    )


def test_import_skgd_after_skl2onnx_registers():
    # skl2onnx already loaded: import skgd registers at once, hooking nothing.
    _run_fresh(f"import skl2onnx; import skgd\n{_FIT_AND_CONVERT}convert()\n")


def test_to_onnx_without_registration_names_the_model():
    # skgd imported first registers nothing; skl2onnx's error names the model
    # type, and the docs say what to call.
    _run_fresh(
        f"import skgd; import skl2onnx\n{_FIT_AND_CONVERT}"
        "from skl2onnx.common.exceptions import MissingShapeCalculator\n"
        "try:\n"
        "    convert()\n"
        "except MissingShapeCalculator as exc:\n"
        "    assert 'GDRegressor' in str(exc), exc\n"
        "else:\n"
        "    raise AssertionError('converted without registration')\n"
    )


def test_import_skgd_does_not_import_skl2onnx():
    code = "import sys, skgd; assert 'skl2onnx' not in sys.modules, 'imported'"
    _run_fresh(code)


def _user_guide_onnx_examples():
    """Return the literal blocks of the user guide's ONNX section, in order."""
    guide = Path(__file__).parents[1] / "docs" / "user_guide.rst"
    if not guide.exists():  # an installed package without its docs
        pytest.skip("docs/user_guide.rst is not available")
    section = guide.read_text().split(".. _onnx_export:", 1)[1]
    section = section.split("\n.. _", 1)[0]
    blocks, block, inside = [], [], False
    for line in section.splitlines():
        if inside and (line.startswith("    ") or not line.strip()):
            block.append(line[4:])
            continue
        if inside:
            blocks.append("\n".join(block).strip() + "\n")
            block, inside = [], False
        inside = line.rstrip().endswith("::")
    if inside:
        blocks.append("\n".join(block).strip() + "\n")
    return blocks


def test_user_guide_onnx_examples_run():
    blocks = _user_guide_onnx_examples()
    assert len(blocks) >= 2
    _run_fresh("\n".join(blocks))


# ------------------------------------------------------------------ classifier
def _classification_data(n_classes, labels, seed=0):
    """Blobs in 4 features on mixed scales, labelled by ints, strings or floats."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=2.0, size=(n_classes, 4))
    codes = rng.integers(n_classes, size=120)
    X = (centers[codes] + rng.normal(size=(120, 4))) * [1.0, 10.0, 0.1, 3.0] + 2.0
    names = {
        "int": np.array([-3, 5, 7, 42])[:n_classes],
        "str": np.array(["ant", "bee", "cat", "dog"])[:n_classes],
        "float": np.array([0.0, 1.0, 2.0, 3.0])[:n_classes],
        "bool": np.array([False, True]),
    }[labels]
    return X, names[codes]


def _run_all(onx, X):
    sess = onnxruntime.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    (name,) = [i.name for i in sess.get_inputs()]
    return sess.run(None, {name: X})


def _expected_second_output(model, X):
    """predict_proba, or for hinge the scores as skl2onnx gives SGDClassifier's."""
    if hasattr(model, "predict_proba"):
        return model.predict_proba(X)
    scores = model.decision_function(X)
    return np.c_[-scores, scores] if scores.ndim == 1 else scores


def _assert_labels_match(got, expected, model, X):
    # float32 scores could flip a label whose two best scores nearly tie; the data
    # keep every gap far above float32 rounding, so labels must agree exactly.
    scores = np.sort(_expected_second_output(model, X), axis=1)
    assert np.min(scores[:, -1] - scores[:, -2]) > 1e-4
    np.testing.assert_array_equal(got, expected)


def _assert_proba_close(got, expected):
    # rtol 1e-5 is float32's precision; the atol covers probabilities computed as
    # (1 +- f) / 2 near f = -+1 (modified_huber), which inherit the float32
    # rounding of the score f as an absolute error.
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("loss", ["log_loss", "hinge", "modified_huber"])
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("labels", ["int", "str"])
@pytest.mark.parametrize("in_pipeline", [False, True])
def test_onnx_classifier_matches_predict_and_proba(
    loss, n_classes, labels, in_pipeline
):
    X, y = _classification_data(n_classes, labels)
    clf = GDClassifier(loss=loss, alpha=1e-2, tol=1e-8)
    model = make_pipeline(StandardScaler(), clf) if in_pipeline else clf
    with warnings.catch_warnings():
        # hinge at tol=1e-8 may stop on max_iter; the export is the point here.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    X32 = X.astype(np.float32)
    onx = skl2onnx.to_onnx(model, X32[:1], options={GDClassifier: {"zipmap": False}})
    label, second = _run_all(onx, X32)
    assert label.shape == (X.shape[0],)
    assert label.dtype == (np.int64 if labels == "int" else object)
    assert second.dtype == np.float32
    assert second.shape == (X.shape[0], n_classes)
    _assert_labels_match(label, model.predict(X32), model, X32)
    _assert_proba_close(second, _expected_second_output(model, X32))


@pytest.mark.parametrize("loss", ["log_loss", "modified_huber"])
def test_onnx_classifier_probabilities_sum_to_one(loss):
    X, y = _classification_data(3, "int")
    clf = GDClassifier(loss=loss, alpha=1e-2).fit(X, y)
    onx = skl2onnx.to_onnx(clf, X[:1].astype(np.float32), options={"zipmap": False})
    _, proba = _run_all(onx, X.astype(np.float32))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)


def test_onnx_modified_huber_all_zero_rows_are_uniform():
    # Rows where every one-vs-rest score is <= -1 have all probabilities 0 before
    # normalising; predict_proba makes them uniform, and so must the graph.
    X, y = _classification_data(3, "int")
    clf = GDClassifier(loss="modified_huber", alpha=1e-2).fit(X, y)
    far = np.zeros((3, X.shape[1]))
    far[:, 0] = [-1e4, 0.0, 1e4]
    clf.coef_ = np.zeros_like(clf.coef_)
    clf.intercept_ = np.array([-2.0, -3.0, -1.5])
    clf.coef_[2, 0] = 1.0  # rows 0 and 1: every score <= -1; row 2: class 2
    expected = clf.predict_proba(far)
    assert np.allclose(expected[:2], 1.0 / 3.0)
    onx = skl2onnx.to_onnx(clf, far[:1].astype(np.float32), options={"zipmap": False})
    label, proba = _run_all(onx, far.astype(np.float32))
    np.testing.assert_allclose(proba, expected, rtol=1e-6)
    np.testing.assert_array_equal(label, clf.predict(far))


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("loss", ["log_loss", "hinge", "modified_huber"])
def test_onnx_classifier_float64_input_gives_float64_graph(n_classes, loss):
    X, y = _classification_data(n_classes, "int")
    clf = GDClassifier(loss=loss, alpha=1e-2, max_iter=50)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    onx = skl2onnx.to_onnx(clf, X[:1], options={"zipmap": False})
    label, second = _run_all(onx, X)
    assert second.dtype == np.float64
    np.testing.assert_array_equal(label, clf.predict(X))
    np.testing.assert_allclose(
        second, _expected_second_output(clf, X), rtol=1e-12, atol=1e-15
    )


@pytest.mark.parametrize("labels", ["float", "bool"])
def test_onnx_classifier_integral_float_and_bool_labels_become_int64(labels):
    X, y = _classification_data(2, labels)
    clf = GDClassifier(alpha=1e-2).fit(X, y)
    onx = skl2onnx.to_onnx(clf, X[:1].astype(np.float32), options={"zipmap": False})
    label, _ = _run_all(onx, X.astype(np.float32))
    assert label.dtype == np.int64
    np.testing.assert_array_equal(label, clf.predict(X.astype(np.float32)))


@pytest.mark.parametrize("zipmap", [True, False])
def test_onnx_classifier_rejects_non_integral_float_labels(zipmap):
    # fit itself refuses continuous targets; labels such as these reach the
    # converter only through an edited classes_, but ONNX could not carry them.
    X, y = _classification_data(2, "int")
    clf = GDClassifier().fit(X, y)
    clf.classes_ = np.array([0.5, 1.5])
    # With a ZipMap, skl2onnx's parser says so first, in its own words.
    with pytest.raises(RuntimeError, match="integers? or strings?"):
        skl2onnx.to_onnx(clf, X[:1].astype(np.float32), options={"zipmap": zipmap})


@pytest.mark.parametrize("labels", ["int", "str"])
def test_onnx_classifier_default_zipmap(labels):
    # skl2onnx's default for classifiers: probabilities as one dict per row.
    X, y = _classification_data(3, labels)
    clf = GDClassifier(alpha=1e-2).fit(X, y)
    label, dicts = _run_all(
        skl2onnx.to_onnx(clf, X[:1].astype(np.float32)), X.astype(np.float32)
    )
    np.testing.assert_array_equal(label, clf.predict(X.astype(np.float32)))
    proba = np.array([[row[c] for c in clf.classes_.tolist()] for row in dicts])
    _assert_proba_close(proba, clf.predict_proba(X.astype(np.float32)))


@pytest.mark.parametrize("n_classes", [2, 3])
def test_onnx_classifier_raw_scores_option(n_classes):
    X, y = _classification_data(n_classes, "int")
    clf = GDClassifier(alpha=1e-2).fit(X, y)
    onx = skl2onnx.to_onnx(
        clf,
        X[:1].astype(np.float32),
        options={"zipmap": False, "raw_scores": True},
    )
    _, scores = _run_all(onx, X.astype(np.float32))
    expected = clf.decision_function(X.astype(np.float32))
    if n_classes == 2:
        expected = np.c_[-expected, expected]
    _assert_proba_close(scores, expected)


def test_onnx_classifier_without_intercept_and_int64_input():
    X, y = _classification_data(3, "int")
    X = np.round(X)
    clf = GDClassifier(loss="modified_huber", fit_intercept=False, alpha=1e-2)
    clf.fit(X, y)
    Xi = X.astype(np.int64)
    onx = skl2onnx.to_onnx(clf, Xi[:1], options={"zipmap": False})
    label, proba = _run_all(onx, Xi)
    assert proba.dtype == np.float32
    np.testing.assert_array_equal(label, clf.predict(X))
    _assert_proba_close(proba, clf.predict_proba(X))


def test_onnx_classifier_nocl_and_output_class_labels_options():
    X, y = _classification_data(3, "str")
    clf = GDClassifier(alpha=1e-2).fit(X, y)
    X32 = X.astype(np.float32)
    nocl = {"zipmap": False, "nocl": True}
    label, _ = _run_all(skl2onnx.to_onnx(clf, X32[:1], options=nocl), X32)
    np.testing.assert_array_equal(label, np.searchsorted(clf.classes_, clf.predict(X)))
    with_classes = {"zipmap": False, "output_class_labels": True}
    *_, classes = _run_all(skl2onnx.to_onnx(clf, X32[:1], options=with_classes), X32)
    np.testing.assert_array_equal(classes, clf.classes_)
