# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""The fit's shortcuts past scikit-learn's checks keep its verdicts and errors.

A fit validates its parameters with constraint objects built once (and remembers
scalar values that met them), its labels without ``type_of_target`` where the
verdict is known, a plain float X without ``check_array``, and stores the usual
``__init__`` call without binding the signature: each must still raise, warn and
set what scikit-learn does.
"""

import inspect

import numpy as np
import pandas as pd
import pytest
from sklearn.utils._param_validation import InvalidParameterError

from skgd import GDClassifier, GDRegressor

X = np.random.RandomState(0).normal(size=(40, 3))
y = (X[:, 0] > 0).astype(int)


def test_invalid_parameter_after_valid_fits():
    """A value remembered as valid does not hide another parameter's error."""
    GDClassifier(alpha=1e-3).fit(X, y)
    with pytest.raises(InvalidParameterError, match="'alpha' parameter"):
        GDClassifier(alpha=-1.0).fit(X, y)
    with pytest.raises(InvalidParameterError, match="'max_iter' parameter"):
        GDClassifier(max_iter=10.0).fit(X, y)  # a float where an int is due


@pytest.mark.parametrize(
    "labels",
    [y, y.astype(float), y.astype(bool), np.where(y, "a", "b")],
    ids=["int", "float", "bool", "str"],
)
def test_labels_of_known_kinds(labels):
    """Integral labels of any kind fit, with their classes."""
    clf = GDClassifier().fit(X, labels)
    np.testing.assert_array_equal(clf.classes_, np.unique(labels))


def test_continuous_labels_refused():
    """Non-integral floats are scikit-learn's continuous target."""
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        GDClassifier().fit(X, X[:, 0])


def test_many_classes_warn():
    """More classes than half of more than 20 samples: scikit-learn's warning."""
    with pytest.warns(UserWarning, match="number of unique classes"):
        GDClassifier(max_iter=5, tol=None).fit(X, np.arange(40) % 30)


def test_inconsistent_lengths():
    """The class codes' length is checked against X, in scikit-learn's words."""
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        GDClassifier().fit(X, y[:-1])


def test_non_finite_x_refused():
    """An X whose sum is not finite goes through check_array."""
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        GDClassifier().fit(bad, y)


def test_feature_names_dropped_by_an_array_fit():
    """A fit on an array after one on a DataFrame drops feature_names_in_."""
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    clf = GDClassifier().fit(frame, y)
    np.testing.assert_array_equal(clf.feature_names_in_, ["a", "b", "c"])
    clf.fit(X[:, :2], y)
    assert clf.n_features_in_ == 2
    assert not hasattr(clf, "feature_names_in_")


def test_init_errors_and_order():
    """Unusual calls raise Python's errors; the usual ones store every parameter."""
    with pytest.raises(TypeError, match="too many positional arguments"):
        GDRegressor("squared_error", "l1")
    with pytest.raises(TypeError, match="unexpected keyword argument 'foo'"):
        GDRegressor(foo=1)
    with pytest.raises(TypeError, match="multiple values for argument 'loss'"):
        GDRegressor("huber", loss="huber")
    est = GDRegressor("huber", alpha=2.0)
    assert est.get_params()["loss"] == "huber"
    assert est.alpha == 2.0
    assert list(vars(est)) == list(inspect.signature(GDRegressor).parameters)
