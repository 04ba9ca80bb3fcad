# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""SGDRegressor's constructor on top of ``GDRegressor(solver="sgd", batch_size=1)``."""

from skgd import GDRegressor


class SGDRegressorShim(GDRegressor):
    """GDRegressor with SGDRegressor's signature, defaults and starting intercept.

    Per-sample SGD (``batch_size=1``, no momentum), SGDRegressor's default ``tol``
    and learning rate, and a fit from scratch that starts the intercept at 0 as
    SGDRegressor does.
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
        """Fit as SGDRegressor does (intercept from 0 unless warm-started)."""
        if intercept_init is None and not (self.warm_start and hasattr(self, "coef_")):
            intercept_init = 0.0
        return super().fit(
            X,
            y,
            coef_init=coef_init,
            intercept_init=intercept_init,
            sample_weight=sample_weight,
        )
