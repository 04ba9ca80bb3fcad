# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""GDRegressor: the regression estimator on :class:`skgd._base.GDBase`.

It validates the data of its public methods and hands them to the base's fit; it
adds the regression losses and accepted penalty objects, the ``partial_fit`` of a
stream of targets, and the stochastic solvers' fit (``_fit_minibatch``, over row
chunks for Dask) with its start point and early-stopping split and score.
"""

import functools
import math
import numbers

import numpy as np
from array_api_compat import numpy as np_compat
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score
from sklearn.model_selection import ShuffleSplit
from sklearn.utils import check_random_state

from skgd._backend import get_backend, is_dask, is_sparse
from skgd._base import (
    MINIBATCH_ATTRIBUTES,
    GDBase,
    _offset_of,
    _sum_curves,
    fill_parameter_docs,
    init_with,
    linear_predict,
)
from skgd._objective import LinearObjective
from skgd._sklearn_compat import HasMethods, Interval, StrOptions, _fit_context
from skgd._validation import check_fit_data, check_stream_data
from skgd.losses import LOSSES
from skgd.optimizers import adam, get_schedule, sgd
from skgd.solvers import solve_minibatch
from skgd.solvers._minibatch import _BLOWUP
from skgd.solvers._result import warn_not_converged

Real = numbers.Real

_AVERAGING_ATTRIBUTES = MINIBATCH_ATTRIBUTES[-4:]
# SGDRegressor damps the intercept's updates on sparse data by this factor
# (sklearn.linear_model._base.SPARSE_INTERCEPT_DECAY): the intercept moves on every
# row while a sparse feature moves only on the rows where it is stored.
_SPARSE_INTERCEPT_DECAY = 0.01


@fill_parameter_docs
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
    {alpha}
    {l1_ratio}
    epsilon : float, default=0.1
        The epsilon of the huber and epsilon-insensitive losses, in ``[0, inf)``.
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
        same reference. None runs ``max_iter`` iterations.
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
        than SGDRegressor's), keeps the gradient noise at the default step size
        low (on a 100-feature stream of 1,000-row chunks it reaches a test R^2 of
        0.795, against 0.790 with 128 and 0.791 for SGDRegressor) and still gives
        small data sets several updates per epoch.
    {shuffle}
    {learning_rate}
    {eta0}
        With ``learning_rate="adaptive"``, ``momentum=0.9`` and ``batch_size=256``
        (the defaults), both ``"sgd"`` and ``"adam"`` reach an R^2 within 0.01 of
        the optimum's on standardized data without tuning.
    {power_t}
    {momentum}
    {nesterovs_momentum}
    {average}
    {beta_1}
    {beta_2}
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
        **GDBase._parameter_constraints,
        "loss": [StrOptions(set(LOSSES)), HasMethods(["pointwise", "gradient"])],
        "penalty": [
            StrOptions({"l2", "l1", "elasticnet"}),
            HasMethods(["prox", "value"]),
            None,
        ],
        "epsilon": [Interval(Real, 0, None, closed="left")],
    }

    __init__ = init_with("squared_error", after="l1_ratio", extra={"epsilon": 0.1})

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
        if not first:
            n_targets = 1 if y.ndim == 1 else y.shape[1]
            fitted = 1 if np.ndim(self.coef_) == 1 else self.coef_.shape[0]
            if n_targets != fitted or (y.ndim == 1) != (np.ndim(self.coef_) == 1):
                raise ValueError(
                    f"y has {n_targets} target(s) but the model was fitted on "
                    f"{fitted}; partial_fit needs the same targets in every call."
                )
        return self._fit_validated(X, y, sample_weight, backend, partial=True)

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
        if is_dask(X):
            return self._stream_dask_chunks(
                X,
                y,
                sample_weight,
                loss,
                penalty,
                solver,
                coef_init=coef_init,
                intercept_init=intercept_init,
                partial=partial,
            )
        if backend.coef_xp is not np_compat:
            raise ValueError(
                f"solver={solver!r} takes numpy, scipy.sparse and Dask arrays; for "
                f"{type(X).__module__} arrays use solver='gd' (or 'auto')."
            )
        xp = backend.xp
        n_samples, n_features = X.shape
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        n_targets = Y.shape[1]
        n_outputs = getattr(loss, "n_outputs", 1)
        coef_shape = (n_features,) if n_outputs == 1 else (n_features, n_outputs)
        if partial and _is_seed(self.random_state) and self.shuffle:
            rng = _SeededPermutations(int(self.random_state))
        else:
            rng = check_random_state(self.random_state)
        # batch_size=1 without momentum is SGDRegressor, formulas included: its
        # uncentered model from b = 0, its damped intercept on sparse data, and no
        # divergence test beyond non-finite values (its decaying schedules may
        # recover from a transient blow-up, e.g. "optimal" with a large first step).
        plain = solver == "sgd" and self.batch_size == 1 and self.momentum == 0
        previous = getattr(self, "_minibatch_state", None)
        resumable = (
            coef_init is None
            and intercept_init is None
            and previous is not None
            and previous["solver"] == solver
            and previous["coef"].shape == (n_targets, *coef_shape)
        )
        if resumable and partial:
            # One more pass of the stream: the optimizer's state goes on.
            W0, B0 = previous["coef"], previous["intercept"]
            states = previous["states"]
        elif resumable and self.warm_start:
            # A new fit from the last (not averaged) iterate with a fresh optimizer,
            # as SGDRegressor (t_ back to 1) and MLPRegressor (a new optimizer) do.
            W0, B0 = previous["coef"], previous["intercept"]
            states = [None] * n_targets
        else:
            if partial and hasattr(self, "coef_"):
                # After a fit by another solver: start from its coefficients.
                coef_init, intercept_init = self.coef_, self.intercept_
            W0, B0 = self._start_point(
                coef_init, intercept_init, n_targets, coef_shape, X.dtype, backend
            )
            states = [None] * n_targets

        rows, train_weight, validation = None, sample_weight, None
        if self.early_stopping and not partial:
            rows, train_weight, validation = self._validation_split(
                X, Y, sample_weight, backend
            )
        schedule = get_schedule(
            self.learning_rate,
            eta0=self.eta0,
            power_t=self.power_t,
            alpha=self.alpha,
            loss=loss,
        )
        if solver == "adam":
            rule = adam(self.beta_1, self.beta_2, self.adam_eps)
        else:
            rule = sgd(self.momentum, self.nesterovs_momentum)
        # fit centers X implicitly (in memory: one pass gives the means), which
        # keeps features with large offsets from limiting the step size; a stream
        # (partial_fit) cannot, and uses SGDRegressor's uncentered model, as does
        # SGDRegressor's own setting.
        base = LinearObjective.minibatch(
            backend,
            X,
            y if y.ndim == 1 else xp.asarray(Y[:, 0]),
            loss,
            penalty,
            sample_weight=train_weight,
            fit_intercept=self.fit_intercept,
            centered=not (partial or plain),
        )
        results = []
        for k in range(n_targets):
            objective = base if k == 0 else base.with_target(xp.asarray(Y[:, k]))
            w0 = xp.asarray(W0[k])
            if B0 is not None:
                c0 = objective.offset(w0, _offset_of(B0[k, ...]))
            elif plain:
                c0 = objective.offset(w0, 0.0)
            else:
                c0 = objective.initial_offset()
            score = None
            if validation is not None:
                score = self._validation_scorer(backend, *validation, k)
            res = solve_minibatch(
                objective,
                w0,
                c0 if self.fit_intercept else objective.offset(w0, 0.0),
                rule=rule,
                schedule=schedule,
                batch_size=self.batch_size,
                max_iter=1 if partial else self.max_iter,
                tol=None if partial else self.tol,
                n_iter_no_change=self.n_iter_no_change,
                random_state=rng,
                shuffle=self.shuffle,
                average=int(self.average),
                rows=rows,
                state=states[k],
                validation_score=score,
                verbose=self.verbose,
                solver_name=solver,
                divergence_factor=None if plain else _BLOWUP,
                intercept_step_scale=(
                    _SPARSE_INTERCEPT_DECAY if plain and is_sparse(X) else 1.0
                ),
            )
            if not partial and not res.converged and self.tol is not None:
                warn_not_converged(solver, self.max_iter)
            results.append(res)

        dtype = X.dtype

        def stack(arrays):
            return np.stack([np.asarray(a, dtype=dtype) for a in arrays])

        coef = stack([r.coef for r in results])
        intercept = stack([r.intercept for r in results])
        standard = [r.extra["standard"] for r in results]
        averaged = [r.extra["averaged"] for r in results]
        states = [r.extra["state"] for r in results]
        curve = _sum_curves([r.objective_curve for r in results])
        n_iter = int(max(r.n_iter for r in results))
        if partial and hasattr(self, "coef_"):
            # One more epoch of one long stream: loss_curve_ keeps len == n_iter_.
            self.loss_curve_ = list(getattr(self, "loss_curve_", [])) + curve
            self.n_iter_ = len(self.loss_curve_)
        else:
            self.loss_curve_ = curve
            self.n_iter_ = n_iter
        self.t_ = float(1 + max(s["t"] for s in states))
        self._minibatch_state = {
            "solver": solver,
            "coef": stack([w for w, _ in standard]),
            "intercept": stack([c for _, c in standard]),
            "states": states,
        }
        squeeze = y.ndim == 1
        if validation is not None:
            scores = [r.extra["validation_scores"] for r in results]
            self.validation_scores_ = _sum_curves(scores)
            if n_targets > 1:
                self.validation_scores_ = [
                    v / n_targets for v in self.validation_scores_
                ]
            self.best_validation_score_ = max(self.validation_scores_)
            self.best_loss_ = None
        else:
            self.validation_scores_ = None
            self.best_validation_score_ = None
            self.best_loss_ = min(self.loss_curve_)
        # Like SGDRegressor, the averaging attributes exist only with averaging.
        for name in _AVERAGING_ATTRIBUTES:
            self.__dict__.pop(name, None)
        if self.average:
            self._standard_coef = self._minibatch_state["coef"]
            self._standard_intercept = self._minibatch_state["intercept"]
            if all(a is not None for a in averaged):
                self._average_coef = stack([w for w, _ in averaged])
                self._average_intercept = stack([c for _, c in averaged])
        if squeeze:
            for name in ("_standard_coef", "_average_coef"):
                if hasattr(self, name):
                    setattr(self, name, getattr(self, name)[0])
            for name in ("_standard_intercept", "_average_intercept"):
                if hasattr(self, name):
                    setattr(self, name, _squeeze_offset(getattr(self, name), dtype))
            self.coef_ = coef[0]
            self.intercept_ = _squeeze_offset(intercept, dtype)
        else:
            self.coef_ = coef
            self.intercept_ = intercept
        return self

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
        """Run a stochastic solver on Dask input, one row chunk at a time.

        Each epoch visits the row chunks in a seeded random order (``shuffle``); each
        chunk is computed on the workers and arrives as one numpy block (the size of
        a chunk, never the whole of X), on which one stochastic pass runs exactly as
        :meth:`partial_fit` would, continuing the optimizer's state. The epoch loss is
        the weighted mean of the chunks' running losses, and ``tol`` and
        ``n_iter_no_change`` apply to it as for in-memory data.
        """
        if self.early_stopping:
            raise ValueError(
                "early_stopping is not available for Dask input; hold out a "
                "validation set yourself, or use solver='gd'."
            )
        rng = check_random_state(self.random_state)
        n_chunks = X.numblocks[0]
        state = getattr(self, "_minibatch_state", None)
        if not partial and not self.warm_start:
            self.__dict__.pop("_minibatch_state", None)
        elif not partial and state is not None:
            # A warm start: the last iterate, with a fresh optimizer (see warm_start).
            self._minibatch_state = dict(state, states=[None] * len(state["states"]))
        curve, best, stalled = [], np.inf, 0
        for _ in range(1 if partial else self.max_iter):
            order = rng.permutation(n_chunks) if self.shuffle else range(n_chunks)
            total = weight_sum = 0.0
            for b in order:
                Xb = np.asarray(X.blocks[b].compute())
                yb = np.asarray(y.blocks[b].compute())
                sb = None
                if sample_weight is not None:
                    sb = np.asarray(sample_weight.blocks[b].compute())
                weight = float(sb.sum()) if sb is not None else float(len(yb))
                if weight == 0:
                    continue
                self._fit_minibatch(
                    Xb,
                    yb,
                    sb,
                    get_backend(Xb),
                    loss,
                    penalty,
                    solver,
                    coef_init=coef_init,
                    intercept_init=intercept_init,
                    partial=True,
                )
                coef_init = intercept_init = None
                total += weight * self.loss_curve_[-1]
                weight_sum += weight
            epoch_loss = total / weight_sum
            curve.append(epoch_loss)
            if self.tol is not None and not partial:
                stalled = stalled + 1 if epoch_loss > best - self.tol else 0
                best = min(best, epoch_loss)
                if stalled >= self.n_iter_no_change:
                    break
        else:
            if not partial and self.tol is not None:
                warn_not_converged(solver, self.max_iter)
        previous = [] if not partial else list(getattr(self, "_dask_curve", []))
        self._dask_curve = previous + curve
        self.loss_curve_ = list(self._dask_curve)
        self.n_iter_ = len(self.loss_curve_)
        self.best_loss_ = min(self.loss_curve_)
        return self

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
