# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""GDRegressor: the regression estimator on :class:`skgd._base.GDBase`.

It validates the data of its public methods and hands them to the base's fit,
which holds the parameters and the solving; it adds the regression losses, penalty
objects as ``penalty``, the target checks of ``partial_fit``, the held-out R^2 of
early stopping, and prediction. It holds no numerical algorithm of its own.
"""

import numbers

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.metrics import d2_tweedie_score, r2_score

from skgd._base import GDBase, fill_shared_docs, init_with, linear_predict
from skgd._sklearn_compat import HasMethods, Interval, StrOptions, _fit_context
from skgd._validation import check_fit_data, check_stream_data
from skgd.losses import LOSSES, TweedieDeviance, get_loss

Real = numbers.Real


@fill_shared_docs
class GDRegressor(RegressorMixin, GDBase):
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
    :class:`~sklearn.linear_model.LinearRegression` (``None``). With
    ``loss="poisson"``, ``"gamma"`` or ``"tweedie"`` the data term is the mean half
    deviance of ``mu = exp(x^T w + b)`` (a log link) and ``predict`` returns ``mu``:
    with ``penalty="l2"`` (or None) the solution is that of
    :class:`~sklearn.linear_model.PoissonRegressor`,
    :class:`~sklearn.linear_model.GammaRegressor` and
    :class:`~sklearn.linear_model.TweedieRegressor` with ``link="log"``, at the same
    ``alpha``; L1 and the elastic net, which they lack, give exact zeros.

    Read more in the :ref:`User Guide <gd_regressor>`.

    Parameters
    ----------
    loss : {"squared_error", "huber", "epsilon_insensitive", \
            "squared_epsilon_insensitive", "quantile", "poisson", "gamma", \
            "tweedie"} or Loss, default="squared_error"
        The per-sample loss, with SGDRegressor's definitions; a
        :class:`skgd.losses.Loss` instance is used as is. ``"quantile"`` is the
        pinball loss ``max(q r, (q - 1) r)`` of the residual ``r = y - f``, whose
        minimiser predicts the ``q``-quantile of ``y`` given ``X``
        (QuantileRegressor's objective with ``penalty="l1"``, or None for its
        ``alpha=0``). ``"poisson"`` (``y >= 0``,
        some ``y > 0``), ``"gamma"`` (``y > 0``) and ``"tweedie"`` (see ``power``)
        are half deviances with a log link (:class:`skgd.losses.PoissonDeviance`,
        :class:`~skgd.losses.GammaDeviance`, :class:`~skgd.losses.TweedieDeviance`);
        targets outside their domain raise a ValueError. ``"auto"`` fits them by
        proximal Newton where it pays (as for the other losses) and by ``"gd"``
        elsewhere, whose step test reads their curvature (which has no global
        bound) along each step; Poisson and Gamma fits are certified by the
        duality gap, Tweedie ones (no closed-form conjugate) by the Newton
        decrement, or on ``"gd"`` with a penalty by the duality gap of a
        numerical conjugate (``1 < power < 2``). See
        :ref:`the User Guide <glm_losses>`.
    penalty : {"l2", "l1", "elasticnet"}, Penalty or None, default="l2"
        The penalty on ``w``; None for none. A :class:`skgd.penalties.Penalty`
        instance is used as is (``alpha`` and ``l1_ratio`` are then ignored).
    {alpha}
    {l1_ratio}
    {positive}
    {penalty_weights}
    epsilon : float, default=0.1
        The epsilon of the huber and epsilon-insensitive losses, in ``[0, inf)``.
    power : float, default=1.5
        The power of ``loss="tweedie"``, TweedieRegressor's: in ``(-inf, 0]`` (any
        ``y``, with some ``y > 0``) or ``[1, inf)`` (``y >= 0`` below 2, ``y > 0``
        from 2). 0 is the normal distribution, 1 Poisson, 2 Gamma, 3 the inverse
        Gaussian. The loss is convex in ``w`` for powers in ``[1, 2]`` only:
        outside, a fit reaches a stationary point, as scikit-learn's does, and no
        certificate of optimality exists (the Newton steps then use the absolute
        value of the curvature). Ignored by the other losses.
    quantile : float, default=0.5
        The quantile ``q`` of ``loss="quantile"``, in ``(0, 1)`` (ignored by the
        other losses), as QuantileRegressor's.
    fit_intercept : bool, default=True
        Whether to fit an (unpenalized) intercept.
    {solver}
    {max_iter}
    tol : float or None, default=1e-4
        Stopping tolerance, in ``[0, inf)``. For ``"gd"`` it bounds the **duality
        gap** relative to the objective at zero coefficients: a certified bound on
        the relative suboptimality (sklearn's Lasso uses the same measure). That
        holds for every loss when the penalty has a positive ``alpha``. Without a
        penalty no finite dual point exists away from the optimum, and ``tol``
        bounds the equivalent measure ``L/2 ||w - prox(w - grad/(L d))||_D^2``, the
        decrease one more proximal-gradient step would guarantee, relative to the
        same reference. The squared loss without a penalty on dense data with at
        least as many rows as columns (up to 512) is instead solved exactly, the
        minimum-norm solution as LinearRegression's, and that measure certifies it
        (``n_iter_ == 1``). None runs the iterative solvers for ``max_iter``
        iterations; fits solved directly or on the Gram matrix (a ridge of the
        squared loss, some lasso fits) can report fewer.
    {n_iter_no_change}
    early_stopping : bool, default=False
        Whether the stochastic solvers hold out ``validation_fraction`` of the data
        to stop on. ``"gd"`` ignores it, as MLPRegressor's lbfgs does, and so does
        ``partial_fit`` (one pass over the batch it is given, nothing held out;
        SGDRegressor raises there): score a held-out chunk of the stream instead.
    {validation_fraction}
    {random_state}
    {verbose}
    {warm_start}
    {batch_size}
        1 with ``momentum=0`` is SGDRegressor (see Notes). 256 keeps each step a
        vectorized product over a block of rows, so the Python work per step is
        amortised over many rows (``partial_fit`` on 1,000-row chunks runs faster
        than SGDRegressor's) and still gives small data sets several updates per
        epoch. A stream's default steps are per row, so its accuracy hardly
        depends on the batch size: on a 100-feature stream of 1,000-row chunks
        (benchmark case 4) it reaches a test R^2 of 0.797 with 256 as with 128,
        against 0.791 for SGDRegressor.
    {shuffle}
    {learning_rate}
    {eta0}
        With ``learning_rate="adaptive"``, ``momentum=0.9`` and ``batch_size=256``
        (the defaults), both ``"sgd"`` and ``"adam"`` reach an R^2 within 0.01 of
        the optimum's on standardized data without tuning.
    {power_t momentum nesterovs_momentum average beta_1 beta_2}
    {adam_eps}
        ``epsilon`` here is the loss's.

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
    target_scale_ : float
        Stochastic solvers: the power of two that ``y`` was divided by for the
        solver (see Notes), 1.0 for targets of a usual scale (largest ``|y|``
        between about 1e-77 and 1e77 in float64, 5e-10 and 4e9 with float32 X).
        A stream fixes it at its first :meth:`partial_fit` call (or at the fit
        that the calls continue): later calls divide their ``y`` by the same
        scale, and one whose ``y`` would overflow at it raises a ValueError.
    {dual_gap_}
    {n_features_in_}
    {feature_names_in_}

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

    Targets of any finite scale are fitted: where the squares of ``y`` would
    overflow or underflow, every solver fits the equivalent problem in ``y / s``
    (``s`` a power of two, the loss's ``epsilon`` and the penalty's strengths
    mapped to match) and multiplies the solution by ``s``: the optimum is that of
    the problem in ``y``. For ``"sgd"`` with a loss homogeneous of degree 2 in the
    residual (squared error, Huber) and a ``"constant"`` or ``"invscaling"``
    step, the path in ``y / s`` is the path in ``y`` divided by ``s``, to
    rounding. Other losses and schedules, and ``"adam"`` (whose ``adam_eps`` does
    not scale), reach the same optimum by another path; ``tol`` then applies to
    the epoch losses of ``y / s``. ``loss_curve_`` is in ``y``'s units (inf or 0
    where those overflow or underflow). The columns of a 2-D ``y`` share ``s``:
    columns too far apart in scale for that (one whose values underflow at the
    others' scale; for the stochastic solvers, one outside 1e-77 to 1e77 of it,
    in float64) raise a ValueError.

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
    .. [1] A. Beck and M. Teboulle, "A fast iterative shrinkage-thresholding
       algorithm for linear inverse problems", SIAM J. Imaging Sci., 2009.
    .. [2] B. O'Donoghue and E. Candes, "Adaptive restart for accelerated gradient
       schemes", Found. Comput. Math., 2015.
    .. [3] Y. Nesterov, "Smooth minimization of non-smooth functions", Math.
       Program., 2005 (the Moreau envelopes of the epsilon-insensitive loss).

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
        **GDBase._parameter_constraints,
        "loss": [StrOptions(set(LOSSES)), HasMethods(["pointwise", "gradient"])],
        "power": [
            Interval(Real, None, 0, closed="right"),
            Interval(Real, 1, None, closed="left"),
        ],
        "penalty": [
            StrOptions({"l2", "l1", "elasticnet"}),
            HasMethods(["prox", "value"]),
            None,
        ],
        "epsilon": [Interval(Real, 0, None, closed="left")],
        "quantile": [Interval(Real, 0, 1, closed="neither")],
    }

    __init__ = init_with(
        "squared_error",
        after="l1_ratio",
        extra={"epsilon": 0.1, "power": 1.5, "quantile": 0.5},
    )

    def _check_params(self, n_classes=None):
        """Resolve the parameters, the Tweedie ``power`` into the loss among them."""
        loss, penalty, solver = super()._check_params(n_classes)
        if isinstance(self.loss, str) and issubclass(
            LOSSES[self.loss], TweedieDeviance
        ):
            loss = get_loss(self.loss, power=self.power)
        return loss, penalty, solver

    def _fit_validated(self, X, y, sample_weight, backend, **kwargs):
        """Check the targets against a deviance's domain, then fit (see GDBase)."""
        loss = self._check_params()[0]
        if _is_deviance(loss):
            xp = backend.xp
            bounds = backend.to_floats(xp.min(y), xp.max(y))
            loss.check_targets(
                *bounds,
                some_positive=not kwargs.get("partial"),
                float_max=float(xp.finfo(y.dtype).max),
            )
        return super()._fit_validated(X, y, sample_weight, backend, **kwargs)

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
        sample_weight = self._scaled_weights([sample_weight], X, backend, partial=False)
        return self._fit_validated(
            X,
            y,
            sample_weight,
            backend,
            coef_init=coef_init,
            intercept_init=intercept_init,
        )

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
        sample_weight = self._scaled_weights([sample_weight], X, backend, partial=True)
        if not first:
            n_targets = 1 if y.ndim == 1 else y.shape[1]
            fitted = 1 if np.ndim(self.coef_) == 1 else self.coef_.shape[0]
            if n_targets != fitted:
                raise ValueError(
                    f"y has {n_targets} target(s) but the model was fitted on "
                    f"{fitted}; partial_fit needs the same targets in every call."
                )
            if (y.ndim == 1) != (np.ndim(self.coef_) == 1):
                # Same count, other layout: coef_'s shape would change mid-stream.
                shapes = ("1-D y", "2-D y of shape (n_samples, 1)")
                given, fitted_on = shapes if y.ndim == 1 else shapes[::-1]
                raise ValueError(
                    f"partial_fit got a {given} but the model was fitted on a "
                    f"{fitted_on}; pass y with the same number of dimensions in "
                    "every call."
                )
        return self._fit_validated(X, y, sample_weight, backend, partial=True)

    def _validation_scorer(self, backend, X_val, Y_val, weight_val, k):
        """Return ``score(w, b)``: the weighted R^2 of target ``k`` on held-out rows.

        Early stopping keeps the coefficients with the best score (the classifier
        scores accuracy instead); for a deviance, the D^2 of :meth:`score`.
        """
        y_val = Y_val[:, k]
        loss = self._check_params()[0]

        def score(w, b):
            pred = np.asarray(backend.matvec(X_val, w)) + float(b)
            return float(_score(loss, y_val, loss.inverse_link(pred), weight_val))

        return score

    def predict(self, X):
        """Predict with the linear model: ``X @ coef_ + intercept_``.

        For ``loss="poisson"``, ``"gamma"`` and ``"tweedie"`` the mean
        ``exp(X @ coef_ + intercept_)`` (the inverse of the log link).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples, with the features seen in fit; a Dask array gives a lazy
            prediction.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
            Predictions, in X's dtype when the model was fitted on that dtype.
        """
        raw = linear_predict(self, X, "predict")
        loss = get_loss(self.loss, epsilon=self.epsilon, power=self.power)
        return loss.inverse_link(raw)

    def score(self, X, y, sample_weight=None):
        """Return R^2, or D^2 (the deviance explained) for a deviance loss.

        For ``loss="poisson"``, ``"gamma"`` and ``"tweedie"``, as scikit-learn's
        GLMs: :func:`~sklearn.metrics.d2_tweedie_score` with the loss's power,
        ``1 - D(y, mu) / D(y, mean(y))``. For the other losses
        :func:`~sklearn.metrics.r2_score` (RegressorMixin's score).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Test samples.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            True targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            R^2 or D^2 of ``self.predict(X)``; 1 is a perfect fit.
        """
        loss = self._check_params()[0]
        if not _is_deviance(loss):
            return super().score(X, y, sample_weight=sample_weight)
        pred = np.asarray(self.predict(X))
        weight = None if sample_weight is None else np.asarray(sample_weight)
        return float(_score(loss, np.asarray(y), pred, weight))

    def __sklearn_tags__(self):
        """Declare sparse, Array API and multi-output support."""
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        # The full-batch solver runs in any Array API namespace; the stochastic
        # solvers take numpy and sparse input only (for now).
        tags.array_api_support = self.solver in ("auto", "gd", "newton")
        tags.target_tags.multi_output = True
        return tags


def _is_deviance(loss):
    """Return whether ``loss`` is a deviance with a target domain (and D^2 score)."""
    return hasattr(loss, "check_targets") and hasattr(loss, "power")


def _score(loss, y, pred, sample_weight):
    """Return the R^2 of the prediction ``pred``, or its D^2 for a deviance."""
    if not _is_deviance(loss):
        return r2_score(y, pred, sample_weight=sample_weight)
    if y.ndim == 1:
        return d2_tweedie_score(y, pred, sample_weight=sample_weight, power=loss.power)
    # Several targets: their mean, as r2_score's default "uniform_average".
    return np.mean(
        [_score(loss, y[:, k], pred[:, k], sample_weight) for k in range(y.shape[1])]
    )
