# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""GDRegressor: a thin scikit-learn shell around the objective and the solvers.

It checks parameters and data, builds one objective per target, calls a solver and
stores the results. It holds no numerical algorithm of its own.
"""

import functools
import math
import numbers
import warnings

import numpy as np
from array_api_compat import numpy as np_compat
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.metrics import r2_score
from sklearn.model_selection import ShuffleSplit

from skgd._backend import is_dask
from skgd._objective import LinearObjective
from skgd._sklearn_compat import (
    HasMethods,
    Interval,
    StrOptions,
    _fit_context,
    check_is_fitted,
)
from skgd._validation import check_fit_data, check_predict_data, check_stream_data
from skgd.losses import LOSSES, get_loss
from skgd.penalties import get_penalty
from skgd.solvers._gd import solve_gd
from skgd.solvers._result import warn_not_converged

Integral, Real = numbers.Integral, numbers.Real

# Defaults of the stochastic solvers (see the class docstring for how they were chosen).
_DEFAULT_BATCH_SIZE = 256
_DEFAULT_LEARNING_RATE = "adaptive"
_DEFAULT_ETA0 = 0.01
_MINIBATCH_ATTRIBUTES = (
    "_minibatch_state",
    "_dask_curve",
    "t_",
    "best_loss_",
    "validation_scores_",
    "best_validation_score_",
    "_standard_coef",
    "_standard_intercept",
    "_average_coef",
    "_average_intercept",
)
_AVERAGING_ATTRIBUTES = _MINIBATCH_ATTRIBUTES[-4:]
# SGDRegressor damps the intercept's updates on sparse data by this factor
# (sklearn.linear_model._base.SPARSE_INTERCEPT_DECAY): the intercept moves on every
# row while a sparse feature moves only on the rows where it is stored.
_SPARSE_INTERCEPT_DECAY = 0.01


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
    l1_ratio : float or None, default=0.15
        Share of the L1 term for ``penalty="elasticnet"``, in ``[0, 1]``; unused
        by the other penalties, where None is accepted (as in SGDRegressor).
    epsilon : float, default=0.1
        The epsilon of the huber and epsilon-insensitive losses, in ``[0, inf)``.
    fit_intercept : bool, default=True
        Whether to fit an (unpenalized) intercept.
    solver : {"auto", "gd", "sgd", "adam"}, default="auto"
        ``"gd"``: full-batch accelerated proximal gradient descent, to the optimum,
        with no step size to tune. ``"sgd"``: minibatch stochastic (proximal)
        gradient descent with ``learning_rate``, ``momentum`` and ``average``.
        ``"adam"``: minibatch Adam with ``eta0`` as its step. ``"auto"`` picks
        ``"gd"`` for in-memory data.
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
        to stop on. ``"gd"`` ignores it, as MLPRegressor's lbfgs does, and so does
        ``partial_fit`` (one pass over the batch it is given, nothing held out;
        SGDRegressor raises there): score a held-out chunk of the stream instead.
    validation_fraction : float, default=0.1
        Share of the data held out for early stopping, in ``(0, 1)``.
    random_state : int, RandomState instance or None, default=None
        Seed of the stochastic solvers' shuffling; ``"gd"`` is deterministic.
    verbose : int, default=0
        Print one progress line per iteration when positive.
    warm_start : bool, default=False
        Whether to start from the previous fit's ``coef_`` and ``intercept_``. The
        stochastic solvers start from the last iterate (not the running average)
        with a fresh optimizer: the step counter ``t_`` starts again at 1 and the
        momentum, Adam moments and average are reset, as SGDRegressor and
        MLPRegressor do. :meth:`partial_fit` is the way to continue a run.
    batch_size : int, default=256
        Rows per minibatch of ``"sgd"`` and ``"adam"``, in ``[1, inf)``; a step
        applies to the mean gradient of its batch. 1 with ``momentum=0`` is
        SGDRegressor (see Notes). 256 keeps each step a vectorized product over a
        block of rows, so the Python work per step is amortised over many rows
        (``partial_fit`` on 1,000-row chunks runs faster than SGDRegressor's), keeps
        the gradient noise at the default step size low (on a 100-feature stream of
        1,000-row chunks it reaches a test R^2 of 0.795, against 0.790 with 128
        and 0.791 for SGDRegressor) and still gives small data sets several updates
        per epoch.
    shuffle : bool, default=True
        Whether the stochastic solvers shuffle the rows before each epoch.
    learning_rate : {"constant", "optimal", "invscaling", "adaptive"}, \
            default="adaptive"
        Step-size schedule of the stochastic solvers, with SGDRegressor's formulas;
        ``t`` counts updates (batches), from 1. ``"constant"``: ``eta0``.
        ``"optimal"``: ``1 / (alpha (t0 + t - 1))`` with SGDRegressor's heuristic
        ``t0`` (needs ``alpha > 0``). ``"invscaling"``: ``eta0 / t**power_t``.
        ``"adaptive"``: ``eta0``, divided by 5 each time ``n_iter_no_change``
        epochs fail to improve by ``tol``; the fit stops once it is below 1e-6.
        For ``"adam"`` the schedule gives Adam's step.
    eta0 : float, default=0.01
        Initial step size of the stochastic solvers, in ``(0, inf)``.
        With ``learning_rate="adaptive"``, ``momentum=0.9`` and ``batch_size=256``
        (the defaults), both ``"sgd"`` and ``"adam"`` reach an R^2 within 0.01 of
        the optimum's on standardized data without tuning.
    power_t : float, default=0.25
        Exponent of ``"invscaling"`` (SGDRegressor's default).
    momentum : float, default=0.9
        Momentum of ``"sgd"``, in ``[0, 1]`` (MLPRegressor's default): it speeds
        up the flat directions tenfold while the stability limit of the step grows
        too. ``momentum=0`` with ``batch_size=1`` is SGDRegressor's update.
    nesterovs_momentum : bool, default=True
        Whether ``"sgd"`` uses Nesterov's momentum (when ``momentum > 0``).
    average : bool or int, default=False
        Averaged SGD (Polyak-Ruppert): ``True`` averages all iterates, an int
        ``n > 1`` starts once ``n`` rows have been seen; ``coef_`` is then the
        average. It converges with L1 and elastic net too (the average of proximal
        iterates), but is not exactly sparse.
    beta_1 : float, default=0.9
        Adam's decay of the first moment, in ``[0, 1)``.
    beta_2 : float, default=0.999
        Adam's decay of the second moment, in ``[0, 1)``.
    adam_eps : float, default=1e-8
        Adam's stability constant, in ``(0, inf)`` (MLPRegressor's ``epsilon``;
        ``epsilon`` here is the loss's).

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
        ``len(loss_curve_) == n_iter_``. For the stochastic solvers, each epoch's
        running average of the batch objectives (SGDRegressor's epoch objective);
        :meth:`partial_fit` appends one value per call.
    t_ : float
        Stochastic solvers: number of updates made plus one (with
        ``batch_size=1``, SGDRegressor's ``t_``).
    best_loss_ : float or None
        Stochastic solvers: the lowest epoch loss, None under early stopping.
    validation_scores_ : list of float or None
        Stochastic solvers with ``early_stopping``: the validation R^2 after each
        epoch (mean over targets); None otherwise.
    best_validation_score_ : float or None
        The best of ``validation_scores_``, whose coefficients are kept.
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
    The stochastic solvers (``"sgd"``, ``"adam"``) fit ``b`` as a free,
    unpenalized variable, as SGDRegressor does: batches see only some rows. In
    :meth:`fit` they center X implicitly with its column means (one pass), so
    features with large offsets do not limit the step size, and start ``b`` at the
    weighted mean of ``y``; a stream (:meth:`partial_fit`) has no column means
    known in advance and works on the uncentered model ``X @ w + b``. Standardize
    the features for them (the step size depends on their scale, unlike
    ``"gd"``'s).

    ``solver="sgd"`` with ``batch_size=1`` and ``momentum=0`` is SGDRegressor, its
    formulas included: the uncentered model from ``b = 0`` (or ``coef_init`` and
    ``intercept_init``), its step sizes and ``t_``, its averaging (``average``,
    ``_average_coef``, ``_standard_coef``), its warm starts, the intercept's steps
    damped by 0.01 on sparse X, and no divergence test beyond non-finite values
    (its decaying schedules may recover from a transient blow-up). Its
    L1/elastic-net steps are proximal (exact zeros) where SGDRegressor uses a
    cumulative truncation; both reach the same optimum, and the sample weights
    are normalised as in the objective above. The squared-L2 part of the
    penalty is weight decay; the L1 part is a proximal soft-threshold after each
    step (per coordinate for Adam), so L1 gives exact zeros. A running epoch loss
    10^4 times the loss at the start (or at zero coefficients), or a non-finite
    one, stops the fit with a ``ValueError`` naming the learning-rate settings;
    ``coef_`` is never left non-finite. Sparse X stays sparse (each batch is a row
    slice of it) and float32 stays float32.

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

    The stochastic solvers want standardized features:

    >>> from sklearn.preprocessing import StandardScaler
    >>> Xs = StandardScaler().fit_transform(X)
    >>> sgd = GDRegressor(solver="sgd", random_state=0).fit(Xs, y)
    >>> round(sgd.score(Xs, y), 3)
    0.514
    """

    _parameter_constraints = {
        "loss": [StrOptions(set(LOSSES)), HasMethods(["pointwise", "gradient"])],
        "penalty": [
            StrOptions({"l2", "l1", "elasticnet"}),
            HasMethods(["prox", "value"]),
            None,
        ],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both"), None],
        "epsilon": [Interval(Real, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
        "solver": [StrOptions({"auto", "gd", "sgd", "adam"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "learning_rate": [
            StrOptions({"constant", "optimal", "invscaling", "adaptive"})
        ],
        "eta0": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, None, None, closed="neither")],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "average": [Interval(Integral, 0, None, closed="neither"), "boolean"],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "adam_eps": [Interval(Real, 0, None, closed="neither")],
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
        batch_size=_DEFAULT_BATCH_SIZE,
        shuffle=True,
        learning_rate=_DEFAULT_LEARNING_RATE,
        eta0=_DEFAULT_ETA0,
        power_t=0.25,
        momentum=0.9,
        nesterovs_momentum=True,
        average=False,
        beta_1=0.9,
        beta_2=0.999,
        adam_eps=1e-8,
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
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.learning_rate = learning_rate
        self.eta0 = eta0
        self.power_t = power_t
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.average = average
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.adam_eps = adam_eps

    def _check_params(self):
        """Resolve the parameters into the objects fit uses (never stored on self)."""
        loss = get_loss(self.loss, epsilon=self.epsilon)
        if self.penalty == "elasticnet" and self.l1_ratio is None:
            raise ValueError("l1_ratio must be set when penalty is 'elasticnet'.")
        l1_ratio = 0.15 if self.l1_ratio is None else self.l1_ratio
        penalty = get_penalty(self.penalty, alpha=self.alpha, l1_ratio=l1_ratio)
        solver = "gd" if self.solver == "auto" else self.solver
        if self.learning_rate == "optimal" and self.alpha == 0:
            raise ValueError(
                "alpha must be > 0 since learning_rate is 'optimal'. alpha is used "
                "to compute the optimal learning rate."
            )
        return loss, penalty, solver

    def _warn_power_t(self):
        """Warn about a negative ``power_t`` as SGDRegressor does (once per fit)."""
        if self.power_t < 0:
            # SGDRegressor deprecated negative exponents (a step that grows with t)
            # in scikit-learn 1.8; the same values get the same warning here.
            warnings.warn(
                "Negative values for `power_t` are deprecated (as in scikit-learn "
                "1.8's SGDRegressor) and will raise an error in a future release. "
                "Use values in the range [0.0, inf) instead.",
                FutureWarning,
                stacklevel=3,
            )

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
        return self._fit_checked(
            X, y, sample_weight, backend, coef_init, intercept_init
        )

    def _fit_checked(
        self, X, y, sample_weight, backend, coef_init=None, intercept_init=None
    ):
        """Fit on validated data: :meth:`fit` past its checks.

        ``y`` is 1-D (one problem) or 2-D (one problem per column); with a loss of
        several outputs (the multinomial one) a 1-D ``y`` gives ``coef_`` of shape
        ``(n_features, n_outputs)``. GDClassifier fits through this entry point on
        the targets it codes from the labels.
        """
        loss, penalty, solver = self._check_params()
        if solver in ("sgd", "adam"):
            self._warn_power_t()
            return self._fit_minibatch(
                X,
                y,
                sample_weight,
                backend,
                loss,
                penalty,
                solver,
                coef_init=coef_init,
                intercept_init=intercept_init,
                partial=False,
            )
        xp, cxp = backend.xp, backend.coef_xp
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
            coef_init, intercept_init, n_targets, base.coef_shape, X.dtype, backend
        )

        coefs, intercepts, results = [], [], []
        for k in range(n_targets):
            objective = base if k == 0 else base.with_target(Y[:, k])
            w0 = W0[k, ...]
            c0 = (
                objective.offset(w0, _offset_of(B0[k, ...]))
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
        for name in _MINIBATCH_ATTRIBUTES:  # a gd fit leaves no stochastic state
            self.__dict__.pop(name, None)
        coef = cxp.stack(coefs)
        if base.n_outputs == 1:
            intercept = cxp.asarray(intercepts, dtype=X.dtype, device=backend.device)
        else:
            intercept = cxp.stack([cxp.astype(b, X.dtype) for b in intercepts])
        self.n_iter_ = int(max(r.n_iter for r in results))
        self.loss_curve_ = _sum_curves([r.objective_curve for r in results])
        if y.ndim == 1:
            self.coef_ = coef[0, ...]
            self.intercept_ = (
                np.dtype(X.dtype).type(intercepts[0])
                if cxp is np_compat and base.n_outputs == 1
                else intercept[0, ...]
            )
        else:
            self.coef_ = coef
            self.intercept_ = intercept
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Make one stochastic pass over ``X``, continuing the optimizer's state.

        The solver is ``"adam"`` when ``solver="adam"`` and ``"sgd"`` otherwise. The
        step counter (so the learning-rate schedule goes on where it was), the
        momentum or Adam moments and the running average are kept between calls and
        after a fit by the same solver; after a fit by another solver the pass
        starts from its coefficients. ``tol`` and early stopping do not apply: each
        call is one epoch over the batch given. A fitted stream's NumPy chunks are
        checked directly (shape, dtype and finiteness, as ``validate_data`` would);
        other inputs go through ``validate_data``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A batch of training data, with the number of features of the first
            call.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights, not all zero.

        Returns
        -------
        self : GDRegressor
            The updated estimator.
        """
        first = not hasattr(self, "coef_")
        if first:
            self._warn_power_t()
            X, y, sample_weight, backend = check_fit_data(
                self, X, y, sample_weight, reset=True
            )
        else:
            X, y, sample_weight, backend = check_stream_data(self, X, y, sample_weight)
        if not first:
            n_targets = 1 if y.ndim == 1 else y.shape[1]
            fitted = 1 if np.ndim(self.coef_) == 1 else self.coef_.shape[0]
            if n_targets != fitted or (y.ndim == 1) != (np.ndim(self.coef_) == 1):
                raise ValueError(
                    f"y has {n_targets} target(s) but the model was fitted on "
                    f"{fitted}; partial_fit needs the same targets in every call."
                )
        return self._partial_fit_checked(X, y, sample_weight, backend)

    def _partial_fit_checked(self, X, y, sample_weight, backend):
        """Make one stochastic pass on validated data: :meth:`partial_fit`'s work."""
        loss, penalty, _ = self._check_params()
        solver = "adam" if self.solver == "adam" else "sgd"
        return self._fit_minibatch(
            X, y, sample_weight, backend, loss, penalty, solver, partial=True
        )

    def _fit_minibatch(
        self,
        X,
        y,
        sample_weight,
        backend,
        loss,
        penalty,
        solver,
        *,
        coef_init=None,
        intercept_init=None,
        partial,
    ):
        """Fit (or, with ``partial``, make one pass) with a stochastic solver."""
        from skgd._stream import fit_minibatch

        init = (coef_init, intercept_init)
        return fit_minibatch(
            self, X, y, sample_weight, backend, loss, penalty, solver, init, partial
        )

    def _stream_dask_chunks(
        self,
        X,
        y,
        sample_weight,
        loss,
        penalty,
        solver,
        *,
        coef_init,
        intercept_init,
        partial,
    ):
        """Run a stochastic solver on Dask input, one row chunk at a time."""
        from skgd._stream import stream_dask_chunks

        init = (coef_init, intercept_init)
        return stream_dask_chunks(
            self, X, y, sample_weight, loss, penalty, solver, init, partial
        )

    def _validation_split(self, X, Y, sample_weight, backend):
        """Hold out ``validation_fraction`` of the rows for early stopping.

        The split is SGDRegressor's: ``ShuffleSplit`` seeded with ``random_state``
        itself, so the same seed holds out the same rows. Returns the training
        rows, the weights with the held-out rows zeroed (so the objective's
        normalised weights cover the training rows only) and the validation data
        ``(X_val, Y_val, weights_val)``.
        """
        n_samples = X.shape[0]
        cv = ShuffleSplit(
            test_size=self.validation_fraction, random_state=self.random_state
        )
        train, val = next(cv.split(np.zeros((n_samples, 1))))
        if train.shape[0] == 0 or val.shape[0] == 0:
            raise ValueError(
                f"Splitting {n_samples} samples into a train set and a validation "
                f"set with validation_fraction={self.validation_fraction!r} led to "
                "an empty set. Change validation_fraction, add samples, or disable "
                "early_stopping."
            )
        weight = (
            np.ones(n_samples, dtype=X.dtype)
            if sample_weight is None
            else sample_weight
        )
        if not np.any(weight[val] > 0) or not np.any(weight[train] > 0):
            raise ValueError(
                "The sample weights of the train or validation set are all zero; "
                "use another random_state or disable early_stopping."
            )
        mask = np.zeros(n_samples, dtype=X.dtype)
        mask[train] = 1.0
        validation = (backend.take_rows(X, val), Y[val], weight[val])
        return np.sort(train), weight * mask, validation

    def _start_point(
        self, coef_init, intercept_init, n_targets, coef_shape, dtype, backend
    ):
        """Return the start: coefficients (n_targets, *coef_shape) and intercepts.

        ``coef_shape`` is ``(n_features,)``, or ``(n_features, K)`` for a loss of
        ``K`` outputs, whose intercepts are then of shape ``(n_targets, K)``.
        """
        cxp, dev = backend.coef_xp, backend.device
        n_features = coef_shape[0]
        size = math.prod(coef_shape)
        offset_shape = (n_targets, *coef_shape[1:])
        W0 = cxp.zeros((n_targets, *coef_shape), dtype=dtype, device=dev)
        B0 = None
        warm = self.warm_start and hasattr(self, "coef_")
        if warm and coef_init is None:
            prev = cxp.asarray(self.coef_)
            if prev.size == n_targets * size:
                coef_init = prev
                if intercept_init is None:
                    intercept_init = cxp.asarray(self.intercept_)
        if coef_init is not None:
            coef_init = cxp.asarray(coef_init, dtype=dtype, device=dev)
            if coef_init.size != n_targets * size:
                raise ValueError(
                    f"coef_init has shape {coef_init.shape}; expected "
                    f"({n_features},) or ({n_targets}, {n_features})."
                )
            W0 = cxp.reshape(coef_init, (n_targets, *coef_shape))
        if intercept_init is not None and self.fit_intercept:
            b = cxp.reshape(cxp.asarray(intercept_init, dtype=dtype), (-1,))
            if len(offset_shape) > 1:
                b = cxp.reshape(b, offset_shape[1:])
            B0 = cxp.broadcast_to(b, offset_shape)
        finite = bool(cxp.all(cxp.isfinite(W0)))
        if not finite or (B0 is not None and not bool(cxp.all(cxp.isfinite(B0)))):
            raise ValueError("coef_init and intercept_init must be finite.")
        return W0, B0

    def _validation_scorer(self, backend, X_val, Y_val, weight_val, k):
        """Return ``score(w, b)``: the weighted R^2 of target ``k`` on held-out rows.

        Early stopping keeps the coefficients with the best score; a subclass for
        another task (the classifier's accuracy) overrides this.
        """
        y_val = Y_val[:, k]

        def score(w, b):
            pred = np.asarray(backend.matvec(X_val, w)) + float(b)
            return float(r2_score(y_val, pred, sample_weight=weight_val))

        return score

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
        return linear_predict(self, X, "predict")

    def __sklearn_tags__(self):
        """Declare sparse, Array API and multi-output support."""
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        # The full-batch solver runs in any Array API namespace; the stochastic
        # solvers take numpy and sparse input only (for now).
        tags.array_api_support = self.solver in ("auto", "gd")
        tags.target_tags.multi_output = True
        return tags


def linear_predict(estimator, X, method):
    """Return ``X @ coef_.T + intercept_`` of a fitted linear estimator.

    ``X`` is checked against the fit (its namespace, device and width; ``method``
    names the public method in the errors). The coefficients take X's dtype when
    they differ; a Dask X gives a lazy result, computed blockwise.
    """
    check_is_fitted(estimator)
    X, backend = check_predict_data(estimator, X, method=method)
    coef = estimator.coef_
    if coef.dtype != X.dtype:
        xp = backend.coef_xp
        coef = xp.astype(coef, xp.result_type(coef.dtype, X.dtype))
    coef = coef if coef.ndim == 1 else coef.T
    if is_dask(X):
        return (X @ coef) + estimator.intercept_
    return backend.matvec(X, coef) + estimator.intercept_


def _offset_of(b):
    """Return a start intercept: a float, or the array of a loss of several outputs."""
    return float(b) if b.ndim == 0 else b


def _is_seed(random_state):
    """Return whether ``random_state`` is an int seed (not a RandomState or None)."""
    return isinstance(random_state, numbers.Integral) and not isinstance(
        random_state, bool
    )


# Rows up to which _SeededPermutations caches: 16 such permutations hold 8 MiB.
_PERMUTATION_CACHE_ROWS = 2**16


@functools.lru_cache(maxsize=16)
def _first_permutation(seed, n):
    """Return ``RandomState(seed).permutation(n)``, read-only (it is shared)."""
    perm = np.random.RandomState(seed).permutation(n)
    perm.flags.writeable = False
    return perm


class _SeededPermutations:
    """``check_random_state(seed)`` for a pass that draws a single permutation.

    With an int ``random_state`` each ``partial_fit`` call shuffles its rows with a
    fresh ``RandomState(seed)`` (as SGDRegressor's does), so the permutation depends
    only on the seed and the number of rows; seeding a Mersenne twister costs about
    0.1 ms, a fifth of a stochastic pass over 1,000 rows, so it is cached.
    """

    def __init__(self, seed):
        self.seed = seed

    def permutation(self, n):
        """Return the first permutation of ``range(n)`` drawn by the seed."""
        if n > _PERMUTATION_CACHE_ROWS:
            return np.random.RandomState(self.seed).permutation(n)
        return _first_permutation(self.seed, n)


def _squeeze_offset(intercepts, dtype):
    """Return the intercept of a 1-D ``y``: a 0-d numpy value, or a ``(K,)`` array."""
    first = intercepts[0]
    return dtype.type(first) if np.ndim(first) == 0 else first


def _sum_curves(curves):
    """Sum per-target objective curves, holding a finished curve at its last value."""
    n = max(len(c) for c in curves)
    total = [0.0] * n
    for curve in curves:
        for i in range(n):
            if curve:
                total[i] += curve[min(i, len(curve) - 1)]
    return total
