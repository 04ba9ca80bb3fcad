# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""LinearObjective: a loss of ``X @ w + b`` plus a penalty of ``w``, on any backend.

The chain rule through X, the implicit centering of X for the intercept, the diagonal
metric that makes the full-batch solver scale-free, and the duality gap are written
here and nowhere else. Solvers see vectors only; X is reached through the backend.
"""

import functools
import math

from array_api_compat import array_namespace

from skgd.losses._base import mix_dual


class LinearObjective:
    r"""The objective ``sum_i u_i L(y_i, x_i.w + b) + h(w)`` with ``u = s / sum(s)``.

    A loss of ``K > 1`` outputs per sample (``loss.n_outputs``, the multinomial log
    loss) makes ``raw`` of shape ``(n_samples, K)``, ``w`` of shape
    ``(n_features, K)`` and the offset ``c`` an array of shape ``(K,)``; the
    solvers' vector operations are elementwise, so they need not know.

    The intercept is handled by implicit centering: the model is parametrised as
    ``raw = (X - x_mean) @ w + c`` with ``x_mean`` the weighted column means, so that
    ``b = c - x_mean @ w``. Centering makes the Hessian block-diagonal between ``w``
    and ``c``, so features with large offsets do not slow the solver, and it is done
    without ever forming ``X - x_mean`` (that would densify a sparse X): the gradient
    is ``X.T @ g - x_mean * sum(g)``. For a quadratic loss the optimal ``c`` is the
    weighted mean of ``y`` whatever ``w``, so ``c`` is fixed there (``intercept_mode``
    ``"closed"``); for other losses it is a free variable (``"free"``); without an
    intercept it is 0 (``"none"``).

    Parameters
    ----------
    backend : Backend
        Operations over X.
    X : {array, sparse matrix} of shape (n_samples, n_features)
        Design matrix, only ever read.
    y : array of shape (n_samples,)
        Targets, in the namespace and dtype of the backend's vectors.
    loss : Loss
        Per-sample loss.
    penalty : Penalty
        Penalty on ``w``.
    sample_weight : array of shape (n_samples,) or None
        Non-negative weights with a positive sum.
    fit_intercept : bool
        Whether to fit ``b``.
    stats : dict or None
        Column statistics from another objective over the same X and weights
        (:meth:`with_target` passes them), to avoid recomputing them.
    """

    def __init__(
        self,
        backend,
        X,
        y,
        loss,
        penalty,
        *,
        sample_weight=None,
        fit_intercept=True,
        stats=None,
    ):
        xp = backend.xp
        self.backend, self.X, self.y = backend, X, y
        self.loss, self.penalty = loss, penalty
        # Sample-sized vectors live in xp, coefficient-sized ones in coef_xp (numpy
        # on the client for Dask, the same namespace otherwise).
        self.xp, self.coef_xp = xp, backend.coef_xp
        self.fit_intercept = fit_intercept
        self.n_samples, self.n_features = X.shape
        self.n_outputs = getattr(loss, "n_outputs", 1)
        self.coef_shape = (
            (self.n_features,)
            if self.n_outputs == 1
            else (self.n_features, self.n_outputs)
        )
        self.dtype = y.dtype
        if stats is None:
            stats = self._column_stats(sample_weight)
        self._stats = stats
        self.u = stats["u"]
        self.x_mean = stats["x_mean"]
        # An uncentered objective (see :meth:`minibatch`) has x_mean = 0, so its
        # offset c is the intercept b itself; minibatch objectives always treat c
        # as a free variable (a batch cannot use the closed form over all rows).
        self.centered = stats.get("centered", True)
        if not fit_intercept:
            self.intercept_mode = "none"
            self.y_offset = self._zero_offset()
        else:
            closed = loss.is_quadratic and not stats.get("free_offset", False)
            self.intercept_mode = "closed" if closed else "free"
            self.y_offset = self._coef_value(loss.constant_fit(y, self.u))

    @classmethod
    def minibatch(
        cls,
        backend,
        X,
        y,
        loss,
        penalty,
        *,
        sample_weight=None,
        fit_intercept=True,
        centered=True,
    ):
        """Return the objective of the stochastic solvers: the offset is always free.

        With ``centered=True`` the model is the implicitly centered one of the
        full-batch solver, ``raw = (X - x_mean) @ w + c``, but ``c`` is a variable
        of the stochastic step, not its closed form: a batch sees only some rows.
        Centering with the means of all rows decouples ``c`` from ``w``, so features
        with large offsets do not shrink the stable step size; it needs the data in
        memory (one pass for the statistics). With ``centered=False`` (a stream, as
        in ``partial_fit``, where the means are not known in advance and would move
        from call to call) the model is ``raw = X @ w + b`` as in SGDRegressor, and
        no pass over X is made: only the normalised weights are computed, and the
        metric methods (which need column statistics) are unavailable.

        Parameters
        ----------
        backend : Backend
            Operations over X.
        X : {array, sparse matrix} of shape (n_samples, n_features)
            Design matrix.
        y : array of shape (n_samples,)
            Targets.
        loss : Loss
            Per-sample loss.
        penalty : Penalty
            Penalty on ``w``.
        sample_weight : array of shape (n_samples,) or None, default=None
            Non-negative weights with a positive sum.
        fit_intercept : bool, default=True
            Whether ``b`` is fitted (else it is 0).
        centered : bool, default=True
            Whether to center X implicitly with its weighted column means.

        Returns
        -------
        objective : LinearObjective
            An objective whose offset is a free variable.
        """
        # Equal weights are one known scalar: the fused batch step then skips their
        # gather (see batch_gradient).
        uniform = None
        if sample_weight is None:
            uniform = float(backend.coef_xp.asarray(1.0 / X.shape[0], dtype=y.dtype))
        if centered:
            full = cls(
                backend,
                X,
                y,
                loss,
                penalty,
                sample_weight=sample_weight,
                fit_intercept=fit_intercept,
            )
            # The column mask must be in the statistics before they are copied, or
            # every batch would recompute it from its own rows.
            return full._replace_stats(
                dict(full._metric_stats(), free_offset=True, uniform=uniform)
            )
        xp, cxp = backend.xp, backend.coef_xp
        n_samples, n_features = X.shape
        if sample_weight is None:
            u = backend.full(n_samples, 1.0 / n_samples, y.dtype)
        else:
            u = sample_weight / xp.sum(sample_weight)
        stats = {
            "u": u,
            "uniform": uniform,
            "x_mean": cxp.zeros(n_features, dtype=y.dtype, device=backend.device),
            "active": cxp.ones(n_features, dtype=cxp.bool, device=backend.device),
            "centered": False,
            "free_offset": True,
        }
        return cls(
            backend, X, y, loss, penalty, fit_intercept=fit_intercept, stats=stats
        )

    def _replace_stats(self, stats):
        """Return the same objective with other (compatible) statistics."""
        return LinearObjective(
            self.backend,
            self.X,
            self.y,
            self.loss,
            self.penalty,
            fit_intercept=self.fit_intercept,
            stats=stats,
        )

    def _coef_value(self, x):
        """Return an offset-sized result: a float, or a ``(K,)`` array of coef_xp."""
        if self.n_outputs == 1:
            return self.backend.to_float(x)
        return self.backend.to_coef(x)

    def _zero_offset(self):
        """Return the zero offset: 0.0, or zeros of shape ``(K,)``."""
        if self.n_outputs == 1:
            return 0.0
        cxp = self.coef_xp
        return cxp.zeros(self.n_outputs, dtype=self.dtype, device=self.backend.device)

    def _per_sample(self, v):
        """Return the sample vector ``v`` shaped to scale rows of ``raw``."""
        return v if self.n_outputs == 1 else v[:, None]

    def _per_feature(self, v):
        """Return the feature vector ``v`` shaped to scale rows of ``w``."""
        return v if self.n_outputs == 1 else v[:, None]

    def take_rows(self, idx):
        """Return the objective restricted to the rows ``idx`` (a minibatch).

        The weights ``u`` are sliced, not renormalised, so the sub-objective's loss
        is this objective's loss summed over the rows: summing it over the batches
        of an epoch gives the weighted mean loss. X stays in its own kind (sparse
        rows of a CSR matrix are a CSR matrix).

        Parameters
        ----------
        idx : slice or integer array
            The rows.

        Returns
        -------
        objective : LinearObjective
            The same model over the rows ``idx``, sharing the column statistics.
        """
        xp = self.xp

        def take(v):
            return v[idx] if isinstance(idx, slice) else xp.take(v, idx, axis=0)

        return LinearObjective(
            self.backend,
            self.backend.take_rows(self.X, idx),
            take(self.y),
            self.loss,
            self.penalty,
            fit_intercept=self.fit_intercept,
            stats=dict(self._stats, u=take(self.u)),
        )

    def batch_gradient(self, idx, w, c):
        """Return the loss of the rows ``idx`` and its gradients, in one pass.

        The step of the minibatch solvers, fused: it equals
        ``take_rows(idx)`` followed by ``raw``, ``loss_value`` and ``gradient`` on
        the sub-objective, without building it (a minibatch step is a few small
        BLAS products, so the Python work around them is the cost to cut). As in
        :meth:`take_rows`, ``u`` is sliced, not renormalised.

        Parameters
        ----------
        idx : slice or integer array
            The rows.
        w : array of shape (n_features,)
            Coefficients.
        c : float
            Offset.

        Returns
        -------
        loss : float
            ``sum_{i in idx} u_i L(y_i, raw_i)``.
        share : float
            ``sum_{i in idx} u_i``.
        grad_w : array of shape (n_features,)
            Gradient of ``loss`` in ``w`` (zero on inactive columns).
        grad_c : float
            Gradient of ``loss`` in ``c`` (0 unless the intercept is free).
        """
        xp, backend, loss = self.xp, self.backend, self.loss
        Xb = backend.take_rows(self.X, idx)
        if isinstance(idx, slice):
            yb = self.y[idx]
        else:
            yb = xp.take(self.y, idx, axis=0)
        raw = backend.matvec(Xb, w)
        shift = c
        if self.fit_intercept and self.centered:
            shift = shift - self._mean_prediction(w)
        raw = raw + shift
        u0 = self._stats.get("uniform")
        if u0 is not None:
            # Equal weights: one scalar instead of a gather and a product per batch.
            share = u0 * yb.shape[0]
            g = u0 * loss.gradient(yb, raw)
            value = u0 * backend.to_float(xp.sum(loss.pointwise(yb, raw)))
        else:
            ub = self.u[idx] if isinstance(idx, slice) else xp.take(self.u, idx)
            share = backend.to_float(xp.sum(ub))
            g = self._per_sample(ub) * loss.gradient(yb, raw)
            value = backend.to_float(xp.sum(ub * loss.pointwise(yb, raw)))
        grad_c = self._zero_offset()
        if self.fit_intercept:
            grad_w, sum_g = backend.rmatvec_sum(Xb, g)
            if self.centered:
                grad_w = grad_w - self._per_feature(self.x_mean) * sum_g
            if self.intercept_mode == "free":
                grad_c = sum_g
        else:
            grad_w = backend.rmatvec(Xb, g)
        if self.centered:
            cxp = self.coef_xp
            active = self._per_feature(self.active)
            grad_w = cxp.where(active, grad_w, cxp.zeros_like(grad_w))
        return value, share, grad_w, grad_c

    def _column_stats(self, sample_weight):
        """Return the normalised weights and column means (one pass over X).

        The diagonal metrics are added on first use by :meth:`_metric_stats`, so
        that a subclass that obtains the columns' second moments more cheaply (the
        diagonal of a Gram matrix) can supply them first under ``"sq"``.
        """
        xp, cxp, backend, X = self.xp, self.coef_xp, self.backend, self.X
        if sample_weight is None:
            u = backend.full(self.n_samples, 1.0 / self.n_samples, self.dtype)
        else:
            u = sample_weight / xp.sum(sample_weight)
        zeros = cxp.zeros(self.n_features, dtype=self.dtype, device=backend.device)
        x_mean = backend.weighted_mean(X, u) if self.fit_intercept else zeros
        return {"u": u, "x_mean": x_mean}

    def _metric_stats(self):
        """Return the statistics with the constant-column mask and metrics added."""
        stats = self._stats
        if "active" in stats:
            return stats
        xp, cxp, backend = self.xp, self.coef_xp, self.backend
        x_mean, u = stats["x_mean"], stats["u"]
        sq = stats.get("sq")
        if sq is None:
            sq = backend.weighted_centered_sq(self.X, u, x_mean)
        if not bool(cxp.all(cxp.isfinite(sq))):
            also = " or pass X as float64" if self.dtype == cxp.float32 else ""
            raise ValueError(
                f"The squares of some feature values overflow {self.dtype}: X holds "
                "values too large to fit a model on. Scale the features (e.g. with "
                f"sklearn.preprocessing.StandardScaler){also}."
            )
        if self.fit_intercept:
            # A column whose spread is at the level of rounding is constant: centering
            # leaves only noise in it, which must neither move w nor set its metric
            # (the test of sklearn.preprocessing's _is_constant_feature).
            eps = cxp.finfo(self.dtype).eps
            n = self.n_samples
            bound = n * eps * sq + (n * eps * x_mean) ** 2
            active = sq > bound
        else:
            active = sq > 0
        n_rows = int(backend.to_float(xp.sum(xp.astype(u > 0, xp.int64))))
        n_active = int(cxp.sum(cxp.astype(active, cxp.int64)))
        any_active = n_active > 0
        stats.update(
            {
                "sq": sq,
                "active": active,
                "jacobi": cxp.where(active, sq, cxp.ones_like(sq)),
                "identity": cxp.ones_like(sq),
                "underdetermined": n_rows - int(self.fit_intercept) < n_active,
                # Largest diagonal entry of the Hessian in each metric: a lower bound
                # on its largest eigenvalue, hence a safe first curvature constant.
                "diag_max": {
                    "jacobi": 1.0 if any_active else 0.0,
                    "identity": float(
                        cxp.max(cxp.where(active, sq, cxp.zeros_like(sq)))
                    )
                    if any_active
                    else 0.0,
                },
                # The trace of the same Hessian: an upper bound on its largest
                # eigenvalue.
                "trace": {
                    "jacobi": float(n_active),
                    "identity": float(
                        cxp.sum(cxp.where(active, sq, cxp.zeros_like(sq)))
                    ),
                },
            }
        )
        return stats

    @property
    def active(self):
        """Boolean mask of the non-constant columns (the others keep ``w_j = 0``)."""
        return self._metric_stats()["active"]

    def _metric_name(self):
        """Return which diagonal metric the full-batch solver should use.

        The Jacobi metric, except without a penalty on an underdetermined problem:
        the solution is not unique there, and gradient steps from zero stay in the
        row space of X (reaching the minimum-norm solution, as LinearRegression
        does) only in the identity metric.
        """
        zero = self.coef_xp.zeros(
            self.n_features, dtype=self.dtype, device=self.backend.device
        )
        if (
            self._metric_stats()["underdetermined"]
            and self.penalty.dual_scale(zero) is None
        ):
            return "identity"
        return "jacobi"

    def with_target(self, y):
        """Return the same objective for another target column (stats are shared).

        Parameters
        ----------
        y : array of shape (n_samples,)
            The new target.

        Returns
        -------
        objective : LinearObjective
            An objective over the same X, loss, penalty and weights.
        """
        return self._replace(y=y)

    def with_loss(self, loss):
        """Return the same objective with another loss (stats are shared).

        Parameters
        ----------
        loss : Loss
            The new loss (for instance a smoothing of the current one).

        Returns
        -------
        objective : LinearObjective
            An objective over the same X, y, penalty and weights.
        """
        return self._replace(loss=loss)

    def with_penalty(self, penalty):
        """Return the same objective with another penalty (stats are shared).

        Parameters
        ----------
        penalty : Penalty
            The new penalty (for instance the next alpha of a path).

        Returns
        -------
        objective : LinearObjective
            An objective over the same X, y, loss and weights.
        """
        return self._replace(penalty=penalty)

    def _replace(self, y=None, loss=None, penalty=None):
        """Return a copy with ``y``, ``loss`` or ``penalty`` replaced, sharing stats."""
        return type(self)(
            self.backend,
            self.X,
            self.y if y is None else y,
            self.loss if loss is None else loss,
            self.penalty if penalty is None else penalty,
            fit_intercept=self.fit_intercept,
            stats=self._stats,
        )

    def metric(self):
        """Return the diagonal metric ``d``: each column's weighted centered 2nd moment.

        In this metric every active column of the preconditioned Hessian has unit
        diagonal (times the loss curvature), which is what makes the step size free of
        the features' scales. Inactive (constant or empty) columns get 1.

        Returns
        -------
        d : array of shape (n_features,) or (n_features, 1)
            Positive weights, shaped to broadcast against ``w``.
        """
        return self._per_feature(self._metric_stats()[self._metric_name()])

    def curvature_floor(self):
        """Return the largest diagonal entry of the data Hessian in the metric.

        It bounds the largest eigenvalue from below, so the full-batch solver may start
        its backtracking from it (times the loss curvature) without overshooting.

        Returns
        -------
        value : float
            1 for the Jacobi metric (unless every column is constant).
        """
        return self._metric_stats()["diag_max"][self._metric_name()]

    def curvature_ceiling(self):
        """Return the trace of the data Hessian in the metric (``c`` excluded).

        It bounds the largest eigenvalue from above, so the full-batch solver never
        needs a larger curvature constant: a backtracking test that still fails there
        is failing on rounding, not on curvature.

        Returns
        -------
        value : float
            The number of active columns for the Jacobi metric (times the number
            of outputs: each output has its own copy of the data Hessian).
        """
        return self.n_outputs * self._metric_stats()["trace"][self._metric_name()]

    def initial_offset(self):
        """Return the starting ``c``: the weighted mean of ``y`` (0 without intercept).

        Returns
        -------
        c : float or array of shape (n_outputs,)
            The offset.
        """
        return self.y_offset

    def raw(self, w, c):
        """Return ``(X - x_mean) @ w + c``.

        Parameters
        ----------
        w : array of shape (n_features,) or (n_features, n_outputs)
            Coefficients.
        c : float or array of shape (n_outputs,)
            Offset of the centered model.

        Returns
        -------
        raw : array of shape (n_samples,) or (n_samples, n_outputs)
            Linear predictions.
        """
        raw = self.backend.matvec(self.X, w)
        shift = c
        if self.fit_intercept and self.centered:
            shift = shift - self._mean_prediction(w)
        return raw + shift

    def _mean_prediction(self, w):
        """Return ``x_mean @ w``: a float, or an array of shape ``(n_outputs,)``."""
        if self.n_outputs == 1:
            return self.backend.to_float(self.x_mean @ w)
        return self.x_mean @ w

    def offset(self, w, b):
        """Return the centered offset ``c = b + x_mean @ w`` for an intercept ``b``."""
        if not self.fit_intercept:
            return self._zero_offset()
        return b + self._mean_prediction(w)

    def intercept(self, w, c):
        """Return the intercept ``b = c - x_mean @ w`` of the uncentered model."""
        if not self.fit_intercept:
            return self._zero_offset()
        return c - self._mean_prediction(w)

    def loss_value(self, raw):
        """Return the weighted mean loss ``sum_i u_i L(y_i, raw_i)`` as a float."""
        xp = self.xp
        return self.backend.to_float(xp.sum(self.u * self.loss.pointwise(self.y, raw)))

    def raw_gradient(self, raw):
        """Return ``u * dL/draw``: the gradient of the mean loss with respect to raw."""
        return self._per_sample(self.u) * self.loss.gradient(self.y, raw)

    def backprop(self, g):
        """Return the gradients in ``w`` and ``c`` from ``g`` of :meth:`raw_gradient`.

        This is the chain rule of the centered model: ``X.T @ g - x_mean * sum(g)``
        for ``w`` (zero on inactive columns) and ``sum(g)`` for ``c``.

        Parameters
        ----------
        g : array of shape (n_samples,)
            Gradient with respect to raw.

        Returns
        -------
        grad_w : array of shape (n_features,)
            Gradient in ``w``.
        grad_c : float
            Gradient in ``c`` (0 unless the intercept mode is ``"free"``).
        """
        if self.fit_intercept:
            return self._chain(*self.backend.rmatvec_sum(self.X, g))
        return self._chain(self.backend.rmatvec(self.X, g), None)

    def _chain(self, product, sum_g):
        """Return ``(grad_w, grad_c)`` from ``X.T @ g`` and ``sum(g)`` (see above)."""
        grad_w, grad_c = product, self._zero_offset()
        if self.fit_intercept:
            grad_w = grad_w - self._per_feature(self.x_mean) * sum_g
            if self.intercept_mode == "free":
                grad_c = sum_g
        cxp = self.coef_xp
        active = self._per_feature(self.active)
        return cxp.where(active, grad_w, cxp.zeros_like(grad_w)), grad_c

    def gradient(self, raw):
        """Return the gradient in raw and its chain rule to ``w`` and ``c``.

        ``(g, *backprop(g))`` with ``g = raw_gradient(raw)``, in one call so that
        another representation of the predictions (see :mod:`skgd._gram`) can
        replace both.

        Parameters
        ----------
        raw : array of shape (n_samples,)
            ``self.raw(w, c)``.

        Returns
        -------
        g : array of shape (n_samples,)
            Gradient with respect to raw.
        grad_w : array of shape (n_features,)
            Gradient in ``w``.
        grad_c : float
            Gradient in ``c`` (0 unless the intercept mode is ``"free"``).
        """
        g = self.raw_gradient(raw)
        return (g, *self.backprop(g))

    def step_terms(self, draw, dw, raw_new, raw_old):
        """Return the squared size of a change of predictions and its rounding level.

        ``draw = raw_new - raw_old`` is the change that the step ``dw`` (and ``dc``)
        caused; the full-batch solver multiplies ``sum_i u_i draw_i**2`` by the loss
        curvature to bound the curvature along the step. ``draw`` is a difference of
        two computed vectors, each carrying errors of a few ulps; below the rounding
        level ``64 eps**2 sum_i u_i (raw_new_i**2 + raw_old_i**2)`` the first term
        measures rounding, not curvature. Both come from one synchronisation (one
        compute on Dask).

        Parameters
        ----------
        draw : array of shape (n_samples,)
            ``raw_new - raw_old``.
        dw : array of shape (n_features,)
            The step of ``w``.
        raw_new, raw_old : array of shape (n_samples,)
            The predictions after and before the step.

        Returns
        -------
        sq_norm, rounding : float
            ``sum_i u_i draw_i**2`` and its rounding level.
        """
        xp, u = self.xp, self.u
        eps = float(self.coef_xp.finfo(self.dtype).eps)
        if self.n_outputs > 1:
            uc = self._per_sample(u)
            sq, level = self.backend.to_floats(
                xp.sum(uc * draw * draw),
                xp.sum(uc * (raw_new * raw_new + raw_old * raw_old)),
            )
            return sq, 64.0 * eps * eps * level
        # Three inner products, each with one temporary: no sample-sized vector
        # of squares is kept (the peak memory of a sparse fit is a count of these).
        sq, level_new, level_old = self.backend.to_floats(
            (u * draw) @ draw, (u * raw_new) @ raw_new, (u * raw_old) @ raw_old
        )
        return sq, 64.0 * eps * eps * (level_new + level_old)

    def penalty_value(self, w):
        """Return the penalty ``h(w)`` as a float."""
        return self.backend.to_float(self.penalty.value(w))

    def value(self, w, raw):
        """Return the full penalized objective at ``w`` with predictions ``raw``."""
        return self.loss_value(raw) + self.penalty_value(w)

    def zero_value(self):
        """Return the objective at ``w = 0`` with the starting offset.

        For a quadratic loss that offset is optimal, so this is the reference against
        which the duality gap is made relative, as in sklearn's Lasso.

        Returns
        -------
        value : float
            The objective at zero coefficients.
        """
        if self.n_outputs == 1:
            raw = self.backend.full(self.n_samples, self.y_offset, self.dtype)
        else:
            zeros = self.backend.full(self.n_samples, 0.0, self.dtype)
            raw = zeros[:, None] + self.y_offset
        return self.loss_value(raw)

    @property
    def has_duality_gap(self):
        """Whether :meth:`duality_gap` is available (a loss and penalty with duals)."""
        zero = self.coef_xp.zeros(
            self.n_features, dtype=self.dtype, device=self.backend.device
        )
        return self.loss.has_conjugate and self.penalty.dual_scale(zero) is not None

    def duality_gap(self, w, raw, grad_w, raw_grad=None):
        r"""Return an upper bound on ``P(w, c) - P*``: a duality gap.

        The dual point is built from the gradient: ``theta = -raw_grad`` (the
        derivative of the mean loss in the predictions, possibly of a smoothing of
        this objective's loss), made feasible by (1) subtracting ``u sum(theta)``
        when there is an intercept, which needs ``sum(theta) = 0``; (2) scaling into
        the loss's box; (3) the penalty's scaling. Steps (1)-(2) leave
        ``X_c.T theta = -grad_w`` unchanged or scaled, since ``X_c.T u = 0``; so the
        gap costs no pass over X.

        For the squared loss with its closed-form offset, the gap reduces to

        .. math::

            \frac{(1 - k)^2}{2} \sum_i u_i r_i^2 + h(w) + h^*(k v) - k\, w^\top v,
            \quad v = -\mathrm{grad\_w},

        a sum of non-negative terms computed without the cancellation of subtracting
        two objective values, so it stays accurate far below their rounding level.

        Parameters
        ----------
        w : array of shape (n_features,)
            Coefficients.
        raw : array of shape (n_samples,)
            ``self.raw(w, c)``.
        grad_w : array of shape (n_features,)
            ``backprop(raw_grad)[0]``.
        raw_grad : array of shape (n_samples,) or None
            The gradient in the predictions that built ``grad_w``; None means
            ``self.raw_gradient(raw)``.

        Returns
        -------
        gap : float
            The gap (``inf`` if no feasible dual point was found).
        """
        if self.loss.balanced_dual:
            return self._balanced_gap(w, raw, grad_w, raw_grad)
        xp = array_namespace(raw)
        to_float = self.backend.to_float
        loss, penalty, u = self.loss, self.penalty, self.u
        v = -grad_w
        if loss.is_quadratic and raw_grad is None and self.intercept_mode != "free":
            r = self.y - raw
            sq = to_float((u * r) @ r)
            k = penalty.dual_scale(v)
            gap = 0.5 * (1.0 - k) ** 2 * sq + penalty.fenchel_young(w, k * v)
            return gap if math.isfinite(gap) else math.inf
        theta = -(self.raw_gradient(raw) if raw_grad is None else raw_grad)
        if self.fit_intercept:
            theta = theta - u * xp.sum(theta)
        largest = 0.0
        if loss.dual_box() is not None:
            ratio = xp.where(u > 0, xp.abs(theta), 0.0 * u) / xp.where(
                u > 0, u, xp.ones_like(u)
            )
            largest = to_float(xp.max(ratio))
        k = self._dual_scaling(v, largest)
        # The loss's dual part and the primal loss, in one synchronisation.
        loss_dual, primal_loss = self.backend.to_floats(
            loss.dual_value(self.y, k * theta, u),
            xp.sum(u * loss.pointwise(self.y, raw)),
        )
        dual = loss_dual - penalty.conjugate(k * v)
        gap = primal_loss + self.penalty_value(w) - dual
        return gap if math.isfinite(gap) else math.inf

    def _balanced_gap(self, w, raw, grad_w, raw_grad):
        """Return the duality gap of a classification loss (``loss.balanced_dual``).

        The dual point ``theta = -raw_grad`` is feasible for these losses'
        conjugates (a one-sided box ``0 <= y_i theta_i <= m u_i``, or rows of a
        simplex for the multinomial loss), but subtracting ``u sum(theta)`` for the
        intercept may leave that set: :meth:`Loss.balance_dual` reweights it
        instead. Its ``X_c.T`` costs one pass over X for a loss with
        :meth:`Loss.balance_parts` (the fused iteration of :meth:`pass_terms` gets
        it from the gradient's pass), none for an anchor alone, whose ``X_c.T`` is
        computed once per fit (:meth:`_anchor`).
        """
        xp, backend, penalty, loss, u = (
            self.xp,
            self.backend,
            self.penalty,
            self.loss,
            self.u,
        )
        theta = -(self.raw_gradient(raw) if raw_grad is None else raw_grad)
        v = -grad_w
        if self.fit_intercept:
            theta, (t, b, a, _) = loss.balance_dual(self.y, theta, u)
            if b:
                v = self.backprop(theta)[0]  # X_c.T of the parts: one pass
            else:
                t, a = backend.to_floats(t, a)
                v = (1.0 - t) * v + a * self._anchor()[0]
        k = penalty.dual_scale(v)
        if k is None:
            return math.inf
        loss_dual, primal_loss = backend.to_floats(
            loss.dual_value(self.y, k * theta, u),
            xp.sum(u * loss.pointwise(self.y, raw)),
        )
        dual = loss_dual - penalty.conjugate(k * v)
        gap = primal_loss + self.penalty_value(w) - dual
        return gap if math.isfinite(gap) else math.inf

    def _anchor(self):
        """Return ``X_c.T`` of the loss's balance anchor and the anchor's sum.

        One pass over X per fit (shared by the objectives of a fit's smoothing
        stages, which have the same targets).
        """
        # The anchor depends on the targets, the weights (shared by the stats) and
        # the loss's anchor method (and its number of outputs).
        anchor_of = (type(self.loss).balance_anchor, self.n_outputs)
        cache = self._stats.get("balance_anchor")
        if cache is None or cache[0] is not self.y or cache[1] != anchor_of:
            anchor = self.loss.balance_anchor(self.y, self.u)
            product = total = None
            if anchor is not None:
                product, total = self.backend.rmatvec_sum(self.X, anchor)
                product = self._chain(product, total)[0]
            cache = (self.y, anchor_of, product, total)
            self._stats["balance_anchor"] = cache
        return cache[2], cache[3]

    def _dual_scaling(self, v, largest):
        """Return the factor ``k`` that makes ``k * theta`` dual feasible.

        ``largest`` is ``max_i |theta_i| / u_i`` of the centered ``theta`` (needed
        only for a loss with a dual box) and ``v = X_c.T theta``: ``k`` first scales
        ``theta`` into the box, then ``k * v`` into the penalty's dual ball.
        """
        k = 1.0
        box = self.loss.dual_box()
        if box is not None and largest > box:
            k = box / largest
        return k * self.penalty.dual_scale(k * v)

    def pass_terms(
        self,
        raw_new=None,
        raw_y=None,
        raw_next=None,
        *,
        losses=(),
        duals=None,
        dual_terms=True,
    ):
        r"""Return what a full-batch iteration needs, from one pass over X.

        For a loss whose gradient is not affine in the predictions each iteration
        needs a pass of its own; this gathers all of its reductions into that pass
        (one ``compute`` on Dask, see :meth:`Backend.reduce_rows`), each part only
        when its vectors are given:

        - with ``raw_new`` and ``raw_y``, the step terms of :meth:`step_terms` for
          ``draw = raw_new - raw_y``;
        - with ``raw_new``, the weighted mean of each loss of ``losses`` there;
        - with ``duals = (shift, [(loss, k), ...])``, each ``loss``'s
          :meth:`~skgd.losses.Loss.dual_value` at ``k * theta``, for ``theta`` the
          dual point that :meth:`dual_point` made at ``raw_y`` (``shift`` is what
          it returned, from an earlier pass);
        - with ``raw_next``, the gradient there (:meth:`gradient`'s chain rule)
          and what :meth:`dual_point` and :meth:`dual_scale` need to make a dual
          point there and scale it into the dual domain.

        Parameters
        ----------
        raw_new, raw_y, raw_next : array of shape (n_samples,) or None
            Predictions (see above), of shape ``(n_samples, K)`` for K outputs.
        losses : tuple of Loss, default=()
            The losses whose mean at ``raw_new`` is wanted.
        duals : tuple or None, default=None
            ``(shift, pairs)``: the dual points at ``raw_y`` to evaluate.
        dual_terms : bool, default=True
            Whether to return, with the gradient at ``raw_next``, what a dual point
            there needs (``"box"``, ``"extremes"``, ``"parts"``): the solver skips
            them while its free lower bound says the gap is far from ``tol``.

        Returns
        -------
        terms : dict
            ``"step"``: ``(sq_norm, rounding)``; ``"values"``: list of floats;
            ``"duals"``: list of floats; ``"grad"``: ``(grad_w, grad_c)``;
            ``"theta_sum"``: ``sum(theta)``; ``"box"``: ``(a_max, a_min)`` for
            :meth:`dual_scale` (a loss with a box), or ``"extremes"`` and
            ``"parts"`` (``X.T`` and sums of the loss's
            :meth:`~skgd.losses.Loss.balance_parts`) for
            :meth:`~skgd.losses.Loss.balance_mix` (a balanced loss, with an
            intercept). Keys are present when their part was asked for.
        """
        fn = functools.partial(
            _pass_block,
            loss=self.loss,
            losses=tuple(losses),
            duals=duals,
            center=self.fit_intercept,
            balanced=self._balanced,
            dual_terms=dual_terms,
        )
        sums, maxima = self.backend.reduce_rows(
            fn, self.X, self.y, self.u, raw_new, raw_y, raw_next
        )
        sums = list(sums)[::-1]
        terms = {}
        if raw_new is not None:
            if raw_y is not None:
                eps = float(self.coef_xp.finfo(self.dtype).eps)
                sq, level = float(sums.pop()), float(sums.pop())
                terms["step"] = (sq, 64.0 * eps * eps * level)
            terms["values"] = [float(sums.pop()) for _ in losses]
        if duals is not None:
            terms["duals"] = [float(sums.pop()) for _ in duals[1]]
        if raw_next is not None:
            product, sum_g = sums.pop(), self._coef_value(sums.pop())
            terms["grad"] = self._chain(product, sum_g)
            terms["theta_sum"] = -sum_g
            if not dual_terms:
                pass
            elif self._balanced:
                if self._n_parts:
                    terms["parts"] = (sums.pop(), sums.pop())
                terms["extremes"] = tuple(maxima)
            elif self.n_outputs == 1:
                terms["box"] = (float(maxima[0]), -float(maxima[1]))
        return terms

    @property
    def _balanced(self):
        """Whether the dual point is balanced by the loss (with an intercept)."""
        return self.fit_intercept and self.loss.balanced_dual

    @functools.cached_property
    def _n_parts(self):
        """The number of the loss's :meth:`~skgd.losses.Loss.balance_parts`."""
        if not self._balanced:
            return 0
        empty = self.u[:0]  # the loss answers the same whatever the data
        return len(self.loss.balance_parts(empty, empty))

    def dual_point(self, terms):
        """Return the dual point made at the ``raw_next`` of a :meth:`pass_terms`.

        Parameters
        ----------
        terms : dict
            The pass's terms.

        Returns
        -------
        shift : float or tuple
            What makes ``theta = -raw_gradient(raw_next)`` sum to zero: the sum
            subtracted (``u * shift``), or the ``(t, b, a, d)`` of
            :meth:`~skgd.losses.Loss.balance_mix`.
        v : array of shape (n_features,) or (n_features, K)
            ``X_c.T theta`` (before the scaling of :meth:`dual_scale`).
        """
        v = -terms["grad"][0]
        if not self._balanced:
            return terms["theta_sum"], v
        cxp, dev = self.coef_xp, self.backend.device
        anchor_product, anchor_sum = self._anchor()

        def arr(x):
            return None if x is None else cxp.asarray(x, dtype=self.dtype, device=dev)

        products, part_sums = terms.get("parts", (None, None))
        part_sums = arr(part_sums)
        t, b, a, d = self.loss.balance_mix(
            arr(terms["theta_sum"]),
            part_sums,
            arr(anchor_sum),
            [arr(e) for e in terms["extremes"]],
        )
        t, a = float(t), float(a)
        b = tuple(float(weight) for weight in b)
        d = float(d) if self.n_outputs == 1 else d
        v = (1.0 - t) * v
        for j, weight in enumerate(b):
            v = v + weight * self._chain(products[:, j], part_sums[j])[0]
        if anchor_product is not None:
            v = v + a * anchor_product
        return (t, b, a, d), v

    def dual_scale(self, v, terms):
        """Return the scaling ``k`` of the dual point at the predictions of a pass.

        The dual point is the ``theta`` of :meth:`dual_point`, for ``raw`` the
        ``raw_next`` of a :meth:`pass_terms`. For a loss with a
        :meth:`~skgd.losses.Loss.dual_box` ``theta`` is centered as in
        :meth:`duality_gap`; with ``a_i = theta_i / u_i`` before centering,
        ``max_i |theta_i| / u_i`` after centering is ``max(a_max - theta_sum,
        theta_sum - a_min)`` (``"box"`` and ``"theta_sum"`` of the pass), so no
        second pass is needed.

        Parameters
        ----------
        v : array of shape (n_features,) or (n_features, K)
            ``X_c.T theta``, from :meth:`dual_point`.
        terms : dict
            The pass's terms.

        Returns
        -------
        k : float
            The factor, in ``[0, 1]``.
        """
        largest = 0.0
        if "box" in terms:
            a_max, a_min = terms["box"]
            theta_sum = terms["theta_sum"] if self.fit_intercept else 0.0
            largest = max(a_max - theta_sum, theta_sum - a_min)
        return self._dual_scaling(v, largest)

    def gap(self, value, loss_dual, k, v):
        """Return the duality gap of a primal value and a dual point of a pass.

        Parameters
        ----------
        value : float
            The objective at any ``(w, c)``.
        loss_dual : float
            The loss's dual value at ``k * theta`` (:meth:`pass_terms`).
        k : float
            The scaling of :meth:`dual_scale`.
        v : array of shape (n_features,) or (n_features, K)
            ``X_c.T theta``, from :meth:`dual_point`.

        Returns
        -------
        gap : float
            An upper bound on ``value - P*`` (``inf`` if not finite).
        """
        gap = value - (loss_dual - self.penalty.conjugate(k * v))
        return gap if math.isfinite(gap) else math.inf


def _pass_block(
    bk,
    X,
    y,
    u,
    raw_new,
    raw_y,
    raw_next,
    *,
    loss,
    losses,
    duals,
    center,
    balanced,
    dual_terms,
):
    """Return the partial sums and maxima of :meth:`LinearObjective.pass_terms`.

    Runs on a block of rows (all rows for in-memory data), so it may only touch the
    block's vectors; ``bk`` is the block's backend. The order of the results is the
    one ``pass_terms`` reads them in.
    """
    xp = bk.xp
    uc = u if loss.n_outputs == 1 else u[:, None]
    sums, maxima = [], []
    if raw_new is not None:
        if raw_y is not None:
            draw = raw_new - raw_y
            scale = raw_new * raw_new + raw_y * raw_y
            if loss.n_outputs == 1:
                sums += [(u * draw) @ draw, xp.sum(u * scale)]
            else:
                sums += [xp.sum(uc * draw * draw), xp.sum(uc * scale)]
        sums += [xp.sum(u * f.pointwise(y, raw_new)) for f in losses]
    if duals is not None:
        shift, pairs = duals
        theta = -(uc * loss.gradient(y, raw_y))
        if balanced:
            parts = loss.balance_parts(y, theta)
            theta = mix_dual(theta, parts, loss.balance_anchor(y, u), u, *shift)
        elif center:
            theta = theta - u * shift
        sums += [f.dual_value(y, k * theta, u) for f, k in pairs]
    if raw_next is not None:
        grad = loss.gradient(y, raw_next)
        g = uc * grad
        parts = loss.balance_parts(y, -g) if balanced and dual_terms else ()
        if parts:
            # X.T of g and of the parts of theta = -g in one product (one column
            # each): the parts give the balanced dual point's X_c.T.
            products = bk.rmatvec(X, xp.stack([g, *parts], axis=1))
            part_sums = xp.stack([xp.sum(part) for part in parts])
            sums += [products[:, 0], xp.sum(g), products[:, 1:], part_sums]
        else:
            sums += [bk.rmatvec(X, g), xp.sum(g, axis=0)]
        if not dual_terms:
            pass
        elif balanced:
            maxima += [
                xp.max(e, axis=0)
                if e.shape[0]
                else xp.full(e.shape[1:], -math.inf, dtype=e.dtype)
                for e in loss.balance_extremes(y, -g, u)
            ]
        elif loss.n_outputs == 1:
            # The extremes of theta_i / u_i = -grad_i (rows with u_i > 0) are all
            # that the box test of the centered dual point needs: no second pass.
            low = xp.full_like(grad, -math.inf)
            for a in (-grad, grad):
                top = xp.max(xp.where(u > 0, a, low)) if a.shape[0] else -math.inf
                maxima.append(top)
    return sums, maxima
