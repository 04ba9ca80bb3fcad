# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""GDRegressor: a thin scikit-learn shell around the objective and the solvers.

It checks parameters and data, builds one objective per target, calls a solver and
stores the results. It holds no numerical algorithm of its own.
"""

import numbers

import numpy as np
from array_api_compat import numpy as np_compat
from sklearn.base import BaseEstimator, RegressorMixin

from skgd._backend import is_dask
from skgd._objective import LinearObjective
from skgd._sklearn_compat import (
    HasMethods,
    Interval,
    StrOptions,
    _fit_context,
    check_is_fitted,
)
from skgd._validation import check_fit_data, check_predict_data
from skgd.losses import LOSSES, get_loss
from skgd.penalties import get_penalty
from skgd.solvers import solve_gd
from skgd.solvers._result import warn_not_converged

Integral, Real = numbers.Integral, numbers.Real


class GDRegressor(RegressorMixin, BaseEstimator):
    r"""Linear regression fitted by gradient descent, to the exact optimum.

    Minimises, over coefficients :math:`w` and intercept :math:`b`,

    .. math::

        \frac{1}{S} \sum_i s_i L(y_i, x_i^\top w + b)
        + \alpha \left(\rho \|w\|_1 + \frac{1 - \rho}{2} \|w\|_2^2\right),

    with sample weights :math:`s_i` (all 1 by default), :math:`S = \sum_i s_i` and
    :math:`\rho` the ``l1_ratio``. With the squared loss the solution is that of
    :class:`~sklearn.linear_model.Lasso` (``penalty="l1"``),
    :class:`~sklearn.linear_model.ElasticNet` (``"elasticnet"``),
    :class:`~sklearn.linear_model.Ridge` with ``alpha * S`` (``"l2"``) and
    :class:`~sklearn.linear_model.LinearRegression` (``None``).

    Read more in the :ref:`User Guide <gd_regressor>`.

    Parameters
    ----------
    loss : {"squared_error", "huber", "epsilon_insensitive", \
            "squared_epsilon_insensitive"} or Loss, default="squared_error"
        The per-sample loss, with SGDRegressor's definitions; a
        :class:`skgd.losses.Loss` instance is used as is.
    penalty : {"l2", "l1", "elasticnet"}, Penalty or None, default="l2"
        The penalty on ``w``; None for none. A :class:`skgd.penalties.Penalty`
        instance is used as is (``alpha`` and ``l1_ratio`` are then ignored).
    alpha : float, default=1e-4
        Strength of the penalty, in ``[0, inf)``.
    l1_ratio : float, default=0.15
        Share of the L1 term for ``penalty="elasticnet"``, in ``[0, 1]``.
    epsilon : float, default=0.1
        The epsilon of the huber and epsilon-insensitive losses, in ``[0, inf)``.
    fit_intercept : bool, default=True
        Whether to fit an (unpenalized) intercept.
    solver : {"auto", "gd"}, default="auto"
        ``"gd"``: full-batch accelerated proximal gradient descent, to the optimum,
        with no step size to tune. ``"auto"`` picks ``"gd"`` for in-memory data.
    max_iter : int, default=1000
        Maximum number of iterations (passes over the data), in ``[1, inf)``.
    tol : float or None, default=1e-4
        Stopping tolerance, in ``[0, inf)``. For ``"gd"`` it bounds the **duality
        gap** relative to the objective at zero coefficients: a certified bound on
        the relative suboptimality (sklearn's Lasso uses the same measure). That
        holds for every loss when the penalty has a positive ``alpha``. Without a
        penalty no finite dual point exists away from the optimum, and ``tol``
        bounds the equivalent measure ``L/2 ||w - prox(w - grad/(L d))||_D^2``, the
        decrease one more proximal-gradient step would guarantee, relative to the
        same reference. None runs ``max_iter`` iterations.
    n_iter_no_change : int, default=5
        Number of epochs with no improvement before the stochastic solvers stop, in
        ``[1, inf)``. Unused by ``"gd"``, which stops on ``tol``.
    early_stopping : bool, default=False
        Whether the stochastic solvers hold out ``validation_fraction`` of the data
        to stop on. ``"gd"`` ignores it, as MLPRegressor's lbfgs does.
    validation_fraction : float, default=0.1
        Share of the data held out for early stopping, in ``(0, 1)``.
    random_state : int, RandomState instance or None, default=None
        Seed of the stochastic solvers' shuffling; ``"gd"`` is deterministic.
    verbose : int, default=0
        Print one progress line per iteration when positive.
    warm_start : bool, default=False
        Whether to start from the previous fit's ``coef_`` and ``intercept_``.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Coefficients, in X's dtype.
    intercept_ : numpy scalar or ndarray of shape (n_targets,)
        Intercept, in X's dtype.
    n_iter_ : int
        Iterations run (for 2-D ``y``, the most over targets).
    loss_curve_ : list of float
        The full penalized objective after each iteration (summed over targets);
        ``len(loss_curve_) == n_iter_``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has column names.

    See Also
    --------
    sklearn.linear_model.SGDRegressor : Stochastic gradient descent, inexact.
    sklearn.linear_model.ElasticNet : Coordinate descent for the elastic net.
    sklearn.linear_model.HuberRegressor : Huber regression by L-BFGS.

    Notes
    -----
    The ``"gd"`` solver is FISTA with adaptive restart in a diagonal metric ``D``
    holding each feature's weighted variance (Jacobi preconditioning), so features
    whose scales differ by orders of magnitude converge as fast as standardized ones.
    The step size ``1/L`` needs no tuning: ``L`` starts at the loss curvature and grows
    by backtracking on the exact curvature along each step. The intercept is fitted
    by implicit centering (``X.T @ r - x_mean * sum(r)``), so sparse X is never
    centered nor densified and sparse and dense fits agree. Each iteration costs one
    ``X @ w`` and one ``X.T @ r``. The epsilon-insensitive loss, not differentiable,
    is replaced by Moreau envelopes of decreasing width until the duality gap of the
    true problem meets ``tol``. Without a penalty on an underdetermined problem the
    metric is the identity so that, started from zero, the iterates reach the
    minimum-norm solution, as :class:`~sklearn.linear_model.LinearRegression` does.
    Dense X is never copied: float32 and float64, C and F order, are used
    as they are; float32 input gives float32 coefficients and predictions.

    References
    ----------
    A. Beck and M. Teboulle, "A fast iterative shrinkage-thresholding algorithm for
    linear inverse problems", SIAM J. Imaging Sci., 2009.

    B. O'Donoghue and E. Candes, "Adaptive restart for accelerated gradient schemes",
    Found. Comput. Math., 2015.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from skgd import GDRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = GDRegressor(penalty="l1", alpha=0.1).fit(X, y)
    >>> int((reg.coef_ == 0).sum())
    3
    >>> round(reg.score(X, y), 3)
    0.509
    """

    _parameter_constraints = {
        "loss": [StrOptions(set(LOSSES)), HasMethods(["pointwise", "gradient"])],
        "penalty": [
            StrOptions({"l2", "l1", "elasticnet"}),
            HasMethods(["prox", "value"]),
            None,
        ],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "epsilon": [Interval(Real, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
        "solver": [StrOptions({"auto", "gd"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
    }

    def __init__(
        self,
        loss="squared_error",
        *,
        penalty="l2",
        alpha=1e-4,
        l1_ratio=0.15,
        epsilon=0.1,
        fit_intercept=True,
        solver="auto",
        max_iter=1000,
        tol=1e-4,
        n_iter_no_change=5,
        early_stopping=False,
        validation_fraction=0.1,
        random_state=None,
        verbose=0,
        warm_start=False,
    ):
        self.loss = loss
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.epsilon = epsilon
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start

    def _check_params(self):
        """Resolve the parameters into the objects fit uses (never stored on self)."""
        loss = get_loss(self.loss, epsilon=self.epsilon)
        penalty = get_penalty(self.penalty, alpha=self.alpha, l1_ratio=self.l1_ratio)
        solver = "gd" if self.solver == "auto" else self.solver
        return loss, penalty, solver

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, coef_init=None, intercept_init=None, sample_weight=None):
        """Fit the model to the optimum of the objective.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. Dense float32/float64 arrays are used without copying;
            sparse matrices must be CSR or CSC and are never densified.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets; each column of a 2-D ``y`` is its own problem.
        coef_init : array-like of shape (n_features,) or (n_targets, n_features), \
                default=None
            Starting coefficients (overrides ``warm_start``).
        intercept_init : float or array-like of shape (n_targets,), default=None
            Starting intercept.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights, not all zero. Integer weights are equivalent to
            repeating rows.

        Returns
        -------
        self : GDRegressor
            The fitted estimator.
        """
        X, y, sample_weight, backend = check_fit_data(
            self, X, y, sample_weight, reset=True
        )
        loss, penalty, solver = self._check_params()
        xp, cxp = backend.xp, backend.coef_xp
        n_features = X.shape[1]
        Y = xp.reshape(y, (-1, 1)) if y.ndim == 1 else y
        n_targets = Y.shape[1]
        base = LinearObjective(
            backend,
            X,
            Y[:, 0],
            loss,
            penalty,
            sample_weight=sample_weight,
            fit_intercept=self.fit_intercept,
        )
        W0, B0 = self._start_point(
            coef_init, intercept_init, n_targets, n_features, X.dtype, backend
        )

        coefs, intercepts, results = [], [], []
        for k in range(n_targets):
            objective = base if k == 0 else base.with_target(Y[:, k])
            w0 = W0[k, :]
            c0 = (
                objective.offset(w0, float(B0[k]))
                if B0 is not None
                else objective.initial_offset()
            )
            res = solve_gd(
                objective,
                w0,
                c0,
                max_iter=self.max_iter,
                tol=0.0 if self.tol is None else self.tol,
                verbose=self.verbose,
            )
            if not res.converged and self.tol is not None:
                warn_not_converged(
                    "gd",
                    self.max_iter,
                    f"relative optimality measure {res.extra['measure']:.2e}, "
                    f"tol={self.tol:g}",
                )
            coefs.append(res.coef)
            intercepts.append(res.intercept)
            results.append(res)

        # Everything is assigned at the end: an interrupted fit changes nothing.
        coef = cxp.stack(coefs)
        intercept = cxp.asarray(intercepts, dtype=X.dtype, device=backend.device)
        self.n_iter_ = int(max(r.n_iter for r in results))
        self.loss_curve_ = _sum_curves([r.objective_curve for r in results])
        if y.ndim == 1:
            self.coef_ = coef[0, :]
            self.intercept_ = (
                np.dtype(X.dtype).type(intercepts[0])
                if cxp is np_compat
                else intercept[0]
            )
        else:
            self.coef_ = coef
            self.intercept_ = intercept
        return self

    def _start_point(
        self, coef_init, intercept_init, n_targets, n_features, dtype, backend
    ):
        """Return the start: coefficients (n_targets, n_features) and intercepts."""
        cxp, dev = backend.coef_xp, backend.device
        W0 = cxp.zeros((n_targets, n_features), dtype=dtype, device=dev)
        B0 = None
        warm = self.warm_start and hasattr(self, "coef_")
        if warm and coef_init is None:
            prev = cxp.reshape(cxp.asarray(self.coef_), (-1, n_features))
            if prev.shape[0] == n_targets:
                coef_init = prev
                if intercept_init is None:
                    intercept_init = cxp.reshape(cxp.asarray(self.intercept_), (-1,))
        if coef_init is not None:
            coef_init = cxp.asarray(coef_init, dtype=dtype, device=dev)
            if coef_init.size != n_targets * n_features:
                raise ValueError(
                    f"coef_init has shape {coef_init.shape}; expected "
                    f"({n_features},) or ({n_targets}, {n_features})."
                )
            W0 = cxp.reshape(coef_init, (n_targets, n_features))
        if intercept_init is not None and self.fit_intercept:
            B0 = cxp.broadcast_to(
                cxp.reshape(cxp.asarray(intercept_init, dtype=dtype), (-1,)),
                (n_targets,),
            )
        finite = bool(cxp.all(cxp.isfinite(W0)))
        if not finite or (B0 is not None and not bool(cxp.all(cxp.isfinite(B0)))):
            raise ValueError("coef_init and intercept_init must be finite.")
        return W0, B0

    def predict(self, X):
        """Predict with the linear model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
            Predictions, in X's dtype when the model was fitted on that dtype.
        """
        check_is_fitted(self)
        X, backend = check_predict_data(self, X)
        coef = self.coef_
        if coef.dtype != X.dtype:
            xp = backend.coef_xp
            coef = xp.astype(coef, xp.result_type(coef.dtype, X.dtype))
        if is_dask(X):
            # Lazy: blockwise products, computed when the user asks.
            return (X @ (coef if coef.ndim == 1 else coef.T)) + self.intercept_
        if coef.ndim == 1:
            return backend.matvec(X, coef) + self.intercept_
        return backend.matvec(X, coef.T) + self.intercept_

    def __sklearn_tags__(self):
        """Declare sparse, Array API and multi-output support."""
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.array_api_support = True
        tags.target_tags.multi_output = True
        return tags


def _sum_curves(curves):
    """Sum per-target objective curves, holding a finished curve at its last value."""
    n = max(len(c) for c in curves)
    total = [0.0] * n
    for curve in curves:
        for i in range(n):
            if curve:
                total[i] += curve[min(i, len(curve) - 1)]
    return total
