# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""LinearObjective: the sample form of a loss of ``X @ w + b`` plus a penalty of ``w``.

It holds the chain rule through X (the implicit centering for the intercept without
forming ``X - x_mean``), the objective's value and the size of a step in the
predictions, on any backend; solvers see vectors only. What it shares with the Gram
form (:mod:`skgd._gram`) is in :class:`skgd._forms.CenteredModel`; its other jobs are
in their own modules, which its methods of the same names call: the duality gap
(:mod:`skgd._gaps`), the penalty-free closed form (:mod:`skgd._lstsq`), the one-pass
iteration of the full-batch solver (:mod:`skgd._one_pass`) and the mini-batch view
(:mod:`skgd._minibatch_view`).
"""

import functools

from skgd import _minibatch_view, _one_pass
from skgd._backend._namespace import total
from skgd._forms import CenteredModel
from skgd._gaps import sample_gap
from skgd._lstsq import min_norm_lstsq
from skgd._ridge import ridge_solution


class LinearObjective(CenteredModel):
    r"""The objective ``sum_i u_i L(y_i, x_i.w + b) + h(w)`` with ``u = s / sum(s)``.

    A loss of ``K > 1`` outputs per sample (``loss.n_outputs``, the multinomial log
    loss) makes ``raw`` of shape ``(n_samples, K)``, ``w`` of shape
    ``(n_features, K)`` and the offset ``c`` an array of shape ``(K,)``; the
    solvers' vector operations are elementwise, so they need not know.

    The sample form of :class:`~skgd._forms.ObjectiveForm`: its predictions are
    ``raw = (X - x_mean) @ w + c`` (see :class:`~skgd._forms.CenteredModel` for the
    implicit centering), and the gradient in ``w`` is ``X.T @ g - x_mean * sum(g)``
    without ever forming ``X - x_mean`` (that would densify a sparse X).

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
    stats : ColumnStats or None
        Column statistics from another objective over the same X and weights
        (:meth:`with_target` passes them), to avoid recomputing them.
    """

    #: The form's name and capabilities (see :class:`~skgd._forms.ObjectiveForm`).
    form = "samples"
    per_sample = True

    minibatch = classmethod(_minibatch_view.minibatch)
    batch_gradient = _minibatch_view.batch_gradient
    pass_terms = _one_pass.pass_terms
    dual_point = _one_pass.dual_point
    dual_scale = _one_pass.dual_scale
    gap = _one_pass.gap

    @functools.cached_property
    def balance_part_count(self):
        """The number of the loss's :meth:`~skgd.losses.Loss.balance_parts`."""
        return _one_pass.part_count(self)

    def closed_form(self):
        """Return the solution of a penalty-free or ridge squared-loss problem, or None.

        Without a penalty, the minimum-norm solution of the weighted, centered
        least-squares problem (LinearRegression's answer), by
        :func:`skgd._lstsq.min_norm_lstsq`: an SVD of dense X, LSMR on sparse or
        Dask X. With an L2 penalty alone, by :func:`skgd._ridge.ridge_solution`:
        the Gram matrix of sparse tall X, the kernel of wide X. Other problems
        have no closed form in this form.

        Returns
        -------
        w : array of shape (n_features,) or None
            The solution, or None where there is none.
        """
        if self.penalty.elastic_net_weights() == (0.0, 0.0):
            return min_norm_lstsq(self)
        return ridge_solution(self)

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
            shift = shift - self.mean_prediction(w)
        return raw + shift

    def loss_value(self, raw):
        """Return the weighted mean loss ``sum_i u_i L(y_i, raw_i)`` as a float."""
        losses = self.u * self.loss.pointwise(self.y, raw)
        return self.backend.to_float(total(self.xp, losses))

    def raw_gradient(self, raw):
        """Return ``u * dL/draw``: the gradient of the mean loss with respect to raw."""
        return self.per_sample_shape(self.u) * self.loss.gradient(self.y, raw)

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
            return self.chain(*self.backend.rmatvec_sum(self.X, g))
        return self.chain(self.backend.rmatvec(self.X, g), None)

    def chain(self, product, sum_g):
        """Return ``(grad_w, grad_c)`` from ``X.T @ g`` and ``sum(g)`` (see above)."""
        grad_w, grad_c = product, self.zero_offset()
        if self.fit_intercept:
            grad_w = grad_w - self.per_feature_shape(self.x_mean) * sum_g
            if self.intercept_mode == "free":
                grad_c = sum_g
        active, everywhere = self._chain_mask
        if everywhere and self.fit_intercept:
            return grad_w, grad_c  # (a new array: the subtraction made it)
        cxp = self.coef_xp
        return cxp.where(active, grad_w, cxp.zeros_like(grad_w)), grad_c

    @functools.cached_property
    def _chain_mask(self):
        """The mask of :meth:`chain` shaped for ``w``, and whether it keeps all.

        Read once per objective: :meth:`chain` runs on every gradient, and the
        mask, the column statistics' constant columns, does not change.
        """
        active = self.active
        return self.per_feature_shape(active), bool(self.coef_xp.all(active))

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
            uc = self.per_sample_shape(u)
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

    def duality_gap(self, w, raw, grad_w, raw_grad=None, value=None):
        """Return an upper bound on ``P(w, c) - P*``: a duality gap.

        The dual point is built from the gradient, so the gap costs no pass over X
        (see :func:`skgd._gaps.sample_gap`); for the squared loss with its
        closed-form offset it is :func:`skgd._gaps.quadratic_gap`.

        Parameters
        ----------
        w, raw, grad_w, raw_grad, value
            As for :func:`skgd._gaps.sample_gap`.

        Returns
        -------
        gap : float
            The gap (``inf`` if no feasible dual point was found).
        """
        return sample_gap(self, w, raw, grad_w, raw_grad, value)
