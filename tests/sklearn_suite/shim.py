# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""SGDRegressor's and SGDClassifier's constructors on skgd's per-sample SGD.

``SGDRegressorShim`` is ``GDRegressor(solver="sgd", batch_size=1)`` and
``SGDClassifierShim`` is ``GDClassifier(solver="sgd", batch_size=1)``, each with
the scikit-learn estimator's signature and defaults; the classifier needs nothing
more.

The shim changes no behaviour: with ``batch_size=1`` and ``momentum=0``,
GDRegressor's stochastic solver *is* SGDRegressor (its uncentered model started at
zero, its step sizes, averaging, warm starts, damped sparse intercept and
parameter checks). It adapts only what the contract makes different in form:

- SGDRegressor's signature and defaults (``tol=1e-3``, ``learning_rate=
  "invscaling"``, ``eta0=0.01``, ``power_t=0.25``), on GDRegressor's parameters;
- ``intercept_`` and the averaging intercepts as arrays of shape ``(1,)``, where
  the contract gives a 0-d value (the predictions are the same);
- a 2-D ``y`` is refused with scikit-learn's single-output check: GDRegressor fits
  one problem per column (the contract's multi-target support), SGDRegressor
  fits one target.
"""

import numpy as np
from sklearn.utils.validation import column_or_1d

from skgd import GDClassifier, GDRegressor

_INTERCEPTS = ("intercept_", "_standard_intercept", "_average_intercept")


class SGDRegressorShim(GDRegressor):
    """GDRegressor with SGDRegressor's signature, defaults and attribute shapes.

    Per-sample SGD (``batch_size=1``, no momentum) with SGDRegressor's default
    ``tol`` and learning rate; see the module docstring for what is adapted.
    """

    def __init__(
        self,
        loss="squared_error",
        *,
        penalty="l2",
        alpha=0.0001,
        l1_ratio=0.15,
        fit_intercept=True,
        max_iter=1000,
        tol=1e-3,
        shuffle=True,
        verbose=0,
        epsilon=0.1,
        random_state=None,
        learning_rate="invscaling",
        eta0=0.01,
        power_t=0.25,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=5,
        warm_start=False,
        average=False,
    ):
        super().__init__(
            loss=loss,
            penalty=penalty,
            alpha=alpha,
            l1_ratio=l1_ratio,
            fit_intercept=fit_intercept,
            solver="sgd",
            max_iter=max_iter,
            tol=tol,
            n_iter_no_change=n_iter_no_change,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            random_state=random_state,
            verbose=verbose,
            warm_start=warm_start,
            batch_size=1,
            shuffle=shuffle,
            learning_rate=learning_rate,
            eta0=eta0,
            power_t=power_t,
            momentum=0.0,
            average=average,
        )

    def fit(self, X, y, coef_init=None, intercept_init=None, sample_weight=None):
        """Fit as GDRegressor does; single-output ``y``, intercepts of shape (1,)."""
        y = _single_output(y)
        super().fit(
            X,
            y,
            coef_init=coef_init,
            intercept_init=intercept_init,
            sample_weight=sample_weight,
        )
        return self._as_arrays()

    def partial_fit(self, X, y, sample_weight=None):
        """One pass as GDRegressor does; single-output ``y``, intercepts (1,)."""
        y = _single_output(y)
        super().partial_fit(X, y, sample_weight=sample_weight)
        return self._as_arrays()

    def _as_arrays(self):
        for name in _INTERCEPTS:
            if hasattr(self, name):
                setattr(self, name, np.atleast_1d(getattr(self, name)))
        return self


def _single_output(y):
    """Return ``y`` as SGDRegressor's validation would see it (1-D or an error)."""
    if getattr(y, "ndim", 1) == 2:
        return column_or_1d(y, warn=True)
    return y


class SGDClassifierShim(GDClassifier):
    """GDClassifier with SGDClassifier's signature and defaults.

    Per-sample SGD (``batch_size=1``, no momentum) with SGDClassifier's default
    loss (``"hinge"``), ``tol`` and learning rate (``"optimal"``, ``power_t=0.5``).
    """

    def __init__(
        self,
        loss="hinge",
        *,
        penalty="l2",
        alpha=0.0001,
        l1_ratio=0.15,
        fit_intercept=True,
        max_iter=1000,
        tol=1e-3,
        shuffle=True,
        verbose=0,
        epsilon=0.1,
        n_jobs=None,
        random_state=None,
        learning_rate="optimal",
        eta0=0.01,
        power_t=0.5,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=5,
        class_weight=None,
        warm_start=False,
        average=False,
    ):
        super().__init__(
            loss=loss,
            penalty=penalty,
            alpha=alpha,
            l1_ratio=l1_ratio,
            fit_intercept=fit_intercept,
            solver="sgd",
            max_iter=max_iter,
            tol=tol,
            n_iter_no_change=n_iter_no_change,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            random_state=random_state,
            verbose=verbose,
            warm_start=warm_start,
            class_weight=class_weight,
            n_jobs=n_jobs,
            batch_size=1,
            shuffle=shuffle,
            learning_rate=learning_rate,
            eta0=eta0,
            power_t=power_t,
            momentum=0.0,
            epsilon=epsilon,
            average=average,
        )
