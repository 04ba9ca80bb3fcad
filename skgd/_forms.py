# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""The forms of the linear model that the full-batch solvers iterate on.

A problem ``sum_i u_i L(y_i, x_i.w + b) + h(w)`` is solved in one of two forms:
the sample form (:class:`skgd._objective.LinearObjective`, predictions of shape
``(n_samples,)``, any loss) and the Gram form (:class:`skgd._gram.GramObjective`,
the squared loss as a quadratic form in ``w``). :class:`ObjectiveForm` is the
contract both keep; what one form cannot do it declares through a capability
attribute, never by raising from a promised method. :class:`CenteredModel` holds
what the two share: the implicit centering, the intercept, the column statistics and
the diagonal metric of the full-batch solver.
"""

import functools
from typing import Any, Protocol, runtime_checkable

from skgd._stats import column_moments, column_stats


@runtime_checkable
class ObjectiveForm(Protocol):
    """What the full-batch solvers may call on an objective, in either form.

    The "predictions" ``raw`` are the form's own representation, linear in ``w``
    (``X_c w + c`` in the sample form, ``G w`` in the Gram form), so a solver may
    extrapolate them as it extrapolates ``w``.

    Attributes
    ----------
    form : {"samples", "gram"}
        The form's name (what :mod:`skgd._planner` decides on).
    per_sample : bool
        Capability: whether :meth:`gradient` returns the per-sample gradient ``g``
        (else None) and whether the one-pass reductions (``pass_terms``,
        ``dual_point``, ``dual_scale``, ``gap``) and ``loss_value`` exist.
    curvature : float or None
        The loss's curvature bound (1 for the squared error; None if not smooth).
    stats : ColumnStats
        The column statistics (see :mod:`skgd._stats`).
    backend, X, y, loss, penalty, fit_intercept, n_samples, n_features, n_outputs
        The problem.
    xp, coef_xp, dtype, coef_shape, intercept_mode, y_offset
        Namespaces, shapes and the offset's treatment.
    """

    form: str
    per_sample: bool
    curvature: float | None
    stats: Any

    def raw(self, w, c):
        """Return the form's predictions at ``(w, c)``."""

    def gradient(self, raw):
        """Return ``(g or None, grad_w, grad_c)`` at the predictions ``raw``."""

    def step_terms(self, draw, dw, raw_new, raw_old):
        """Return the squared size of a change of predictions and its rounding."""

    def value(self, w, raw):
        """Return the penalized objective at ``w``."""

    def zero_value(self):
        """Return the objective at ``w = 0`` with the starting offset."""

    def duality_gap(self, w, raw, grad_w, raw_grad=None):
        """Return a duality gap at ``w`` (see :mod:`skgd._gaps`)."""

    def closed_form(self):
        """Return the solution from one linear solve, or None where there is none."""

    def metric(self):
        """Return the diagonal metric of the full-batch solver."""

    def curvature_floor(self):
        """Return a lower bound on the largest eigenvalue of the data Hessian."""

    def curvature_ceiling(self):
        """Return an upper bound on the largest eigenvalue of the data Hessian."""

    def initial_offset(self):
        """Return the starting offset ``c``."""

    def intercept(self, w, c):
        """Return the intercept ``b`` of the uncentered model."""

    def reference_value(self):
        """Return the scale of the stopping measures (the objective at zero)."""

    def penalty_value(self, w):
        """Return ``h(w)``."""


class CenteredModel:
    r"""What both forms share: ``raw = (X - x_mean) @ w + c`` and its statistics.

    The intercept is handled by implicit centering: the model is parametrised as
    ``raw = (X - x_mean) @ w + c`` with ``x_mean`` the weighted column means, so that
    ``b = c - x_mean @ w``. Centering makes the Hessian block-diagonal between ``w``
    and ``c``, so features with large offsets do not slow the solver, and it is done
    without ever forming ``X - x_mean`` (that would densify a sparse X). For a
    quadratic loss the optimal ``c`` is the weighted mean of ``y`` whatever ``w``,
    so ``c`` is fixed there (``intercept_mode`` ``"closed"``); for other losses it
    is a free variable (``"free"``); without an intercept it is 0 (``"none"``).

    Parameters
    ----------
    backend, X, y, loss, penalty, sample_weight, fit_intercept, stats
        See :class:`skgd._objective.LinearObjective`.
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
        self.backend, self.X, self.y = backend, X, y
        self.loss, self.penalty = loss, penalty
        # Sample-sized vectors live in xp, coefficient-sized ones in coef_xp (numpy
        # on the client for Dask, the same namespace otherwise).
        self.xp, self.coef_xp = backend.xp, backend.coef_xp
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
            stats = column_stats(backend, X, y.dtype, sample_weight, fit_intercept)
        self.stats = stats
        self.u = stats.u
        self.x_mean = stats.x_mean
        # An uncentered objective (see LinearObjective.minibatch) has x_mean = 0,
        # so its offset c is the intercept b itself.
        self.centered = stats.centered
        # Curvature bound of the loss (1 for the squared error; None if not smooth).
        bound = loss.curvature_bound
        self.curvature = None if bound is None else float(bound)
        if not fit_intercept:
            self.intercept_mode = "none"
            self.y_offset = self.zero_offset()
        else:
            closed = loss.is_quadratic and not stats.free_offset
            self.intercept_mode = "closed" if closed else "free"

    @functools.cached_property
    def y_offset(self):
        """The loss's best constant (0 without intercept), computed on first use.

        A stream's pass starts from its previous intercept and never asks for it.
        """
        return self.coef_value(self.loss.constant_fit(self.y, self.u))

    def coef_value(self, x):
        """Return an offset-sized result: a float, or a ``(K,)`` array of coef_xp."""
        if self.n_outputs == 1:
            return self.backend.to_float(x)
        return self.backend.to_coef(x)

    def zero_offset(self):
        """Return the zero offset: 0.0, or zeros of shape ``(K,)``."""
        if self.n_outputs == 1:
            return 0.0
        cxp = self.coef_xp
        return cxp.zeros(self.n_outputs, dtype=self.dtype, device=self.backend.device)

    def per_sample_shape(self, v):
        """Return the sample vector ``v`` shaped to scale rows of ``raw``."""
        return v if self.n_outputs == 1 else v[:, None]

    def per_feature_shape(self, v):
        """Return the feature vector ``v`` shaped to scale rows of ``w``."""
        return v if self.n_outputs == 1 else v[:, None]

    def moments(self):
        """Return the :class:`~skgd._stats.ColumnMoments` (computed on first use)."""
        return column_moments(
            self.stats, self.backend, self.X, self.fit_intercept, self.dtype
        )

    @property
    def active(self):
        """Boolean mask of the non-constant columns (the others keep ``w_j = 0``)."""
        if not self.centered:
            # An uncentered (stream) model has no column statistics: all columns.
            cxp = self.coef_xp
            return cxp.ones(self.n_features, dtype=cxp.bool, device=self.backend.device)
        return self.moments().active

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
        if self.moments().underdetermined and self.penalty.dual_scale(zero) is None:
            return "identity"
        return "jacobi"

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
        return self.per_feature_shape(self.moments().metrics[self._metric_name()])

    def curvature_floor(self):
        """Return the largest diagonal entry of the data Hessian in the metric.

        It bounds the largest eigenvalue from below, so the full-batch solver may start
        its backtracking from it (times the loss curvature) without overshooting.

        Returns
        -------
        value : float
            1 for the Jacobi metric (unless every column is constant).
        """
        return self.moments().diag_max[self._metric_name()]

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
        return self.n_outputs * self.moments().trace[self._metric_name()]

    def with_target(self, y):
        """Return the objective for another target column ``y`` (stats shared)."""
        return self._replace(y=y)

    def with_loss(self, loss):
        """Return the objective with another loss, e.g. a smoothing (stats shared)."""
        return self._replace(loss=loss)

    def with_penalty(self, penalty):
        """Return the objective with another penalty, e.g. a path's (stats shared)."""
        other = self._replace(penalty=penalty)
        # The reference, the loss at zero coefficients, and the loss's best
        # constant have no penalty term: a path's alphas share the passes over
        # the targets that compute them, and the chain rule's mask of the
        # columns (of the statistics alone).
        for name in ("_reference_value", "y_offset", "_chain_mask"):
            if name in self.__dict__:
                other.__dict__[name] = self.__dict__[name]
        return other

    def _replace(self, y=None, loss=None, penalty=None, stats=None):
        """Return a copy with ``y``, ``loss``, ``penalty`` or ``stats`` replaced."""
        return type(self)(
            self.backend,
            self.X,
            self.y if y is None else y,
            self.loss if loss is None else loss,
            self.penalty if penalty is None else penalty,
            fit_intercept=self.fit_intercept,
            stats=self.stats if stats is None else stats,
        )

    def initial_offset(self):
        """Return the starting ``c``: the weighted mean of ``y`` (0 without intercept).

        Returns
        -------
        c : float or array of shape (n_outputs,)
            The offset.
        """
        return self.y_offset

    def mean_prediction(self, w):
        """Return ``x_mean @ w``: a float, or an array of shape ``(n_outputs,)``."""
        if self.n_outputs == 1 and not self.centered:
            # An uncentered (stream) model's x_mean is zero: no product to take.
            return 0.0
        if self.n_outputs == 1:
            return self.backend.to_float(self.x_mean @ w)
        return self.x_mean @ w

    def offset(self, w, b):
        """Return the centered offset ``c = b + x_mean @ w`` for an intercept ``b``."""
        if not self.fit_intercept:
            return self.zero_offset()
        return b + self.mean_prediction(w)

    def intercept(self, w, c):
        """Return the intercept ``b = c - x_mean @ w`` of the uncentered model."""
        if not self.fit_intercept:
            return self.zero_offset()
        return c - self.mean_prediction(w)

    def reference_value(self):
        """Return the scale of the stopping measures: the objective at zero.

        For a quadratic loss the starting offset is optimal, so this is the
        reference against which the duality gap is made relative, as in sklearn's
        Lasso. A target that the zero model already fits exactly (a value that is
        not positive) is measured against the rounding level, ``eps``.

        Computed once per objective (a pass over the targets): the solver's setup
        and the estimator's report of the final gap both read it.

        Returns
        -------
        ref : float
            ``zero_value()``, or the dtype's ``eps`` when that is not positive.
        """
        ref = self.__dict__.get("_reference_value")
        if ref is None:
            ref = self.zero_value()
            if not ref > 0:
                ref = float(self.coef_xp.finfo(self.dtype).eps)
            self.__dict__["_reference_value"] = ref
        return ref

    def penalty_value(self, w):
        """Return the penalty ``h(w)`` as a float."""
        return self.backend.to_float(self.penalty.value(w))

    @functools.cached_property
    def has_duality_gap(self):
        """Whether :meth:`duality_gap` is available (a loss and penalty with duals).

        Read by the routing and each solver's setup: computed once per objective
        (its loss and penalty are fixed; another is another objective).
        """
        zero = self.coef_xp.zeros(
            self.n_features, dtype=self.dtype, device=self.backend.device
        )
        return self.loss.has_conjugate and self.penalty.dual_scale(zero) is not None
