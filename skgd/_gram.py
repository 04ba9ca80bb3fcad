# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""GramObjective: the squared-loss objective as a quadratic form in ``w``.

For the squared loss and dense X with many more rows than columns, the centered Gram
matrix ``G = X_c.T diag(u) X_c`` and ``q = X_c.T diag(u) y`` hold everything the
full-batch solver needs, so after one pass that builds them each iteration costs
``O(n_features**2)`` instead of two passes over X. This module holds that form (the
Gram form of :class:`skgd._forms.ObjectiveForm`) and its closed forms (ridge, and the
minimum-norm least squares without a penalty); the rule that chooses it is in
:mod:`skgd._planner`.
"""

import math

from skgd._backend._dense import solve_spd
from skgd._forms import CenteredModel
from skgd._gaps import quadratic_gap, toward_subgradient

# Up to this many features a ridge problem is first solved in closed form: the
# factorization costs ``n_features**3 / 3`` flops, at most a sixth of an iteration per
# feature (an iteration costs ``2 n_features**2``), so it is cheaper than the ~100
# iterations of a cold start here, and no more than a few warm-started ones. Without a
# penalty there is no limit beyond the Gram form's own: the eigendecomposition costs
# about ``9 n_features**3`` flops, at most nine times building G (``n_samples *
# n_features**2``, with n_samples >= n_features) whatever the width, and it replaces
# iterations whose stopping measure does not bound the error there.
_CLOSED_FORM_MAX_FEATURES = 512


def gram_form(objective):
    """Return the :class:`GramObjective` of a squared-loss ``objective``.

    The Gram matrix is built once per X and weights and shared (through the column
    statistics) by every target of a multi-output fit.

    Parameters
    ----------
    objective : LinearObjective
        A problem with a quadratic loss.

    Returns
    -------
    objective : GramObjective
        The same problem, in its quadratic form.
    """
    return GramObjective(
        objective.backend,
        objective.X,
        objective.y,
        objective.loss,
        objective.penalty,
        fit_intercept=objective.fit_intercept,
        stats=objective.stats,
    )


class GramObjective(CenteredModel):
    r"""The Gram form of a squared-loss problem: its predictions are ``G @ w``.

    The centered model ``raw = X_c w + c`` with ``c`` the weighted mean of ``y``
    (closed form) has residuals ``r = y_c - X_c w`` with ``y_c = y - c``, so

    .. math::

        \sum_i u_i r_i^2 = y_c^\top U y_c - 2 w^\top q + w^\top G w,
        \quad \nabla_w = G w - q,

    with ``G = X_c^\top U X_c`` and ``q = X_c^\top U y_c``. Here the "predictions"
    the solver carries are ``raw = G @ w``: they are linear in ``w`` as ``X_c w``
    is, so the solver's extrapolations of them stay exact, and the squared size of a
    change ``dw`` is ``dw.T G dw = dw @ draw``. X is read once, to build ``G``
    (row block by row block, centered in temporaries, never copied) and ``q``.

    The duality gap is :func:`skgd._gaps.quadratic_gap`, with the squared residual
    norm ``y_c.T U y_c - 2 w.q + w.G w``. The form has no per-sample quantities
    (``per_sample`` is False): :meth:`gradient` returns None for them, and there is
    no ``loss_value`` nor one-pass iteration.

    Parameters
    ----------
    backend, X, y, loss, penalty, sample_weight, fit_intercept, stats
        As for :class:`~skgd._objective.LinearObjective`; ``loss`` must be
        quadratic (squared error).
    """

    #: The form's name and capabilities (see :class:`~skgd._forms.ObjectiveForm`).
    form = "gram"
    per_sample = False

    def __init__(self, backend, X, y, loss, penalty, **kwargs):
        super().__init__(backend, X, y, loss, penalty, **kwargs)
        if not loss.is_quadratic:
            raise ValueError("GramObjective needs a quadratic loss.")
        xp = self.xp
        products = self.stats.products
        cache = products.gram_targets
        if products.gram is None:
            uniform = bool(backend.to_float(xp.all(self.u == self.u[0])))
            if hasattr(backend, "weighted_gram_target"):
                # q and y_c.T U y_c of this target come out of the same pass.
                yc = y - self.y_offset
                G, q, yy = backend.weighted_gram_target(
                    X, self.u, self.x_mean, yc, uniform
                )
            else:
                G, q = backend.weighted_gram(X, self.u, self.x_mean, uniform), None
            # (The columns' second moments, unless known, are G's diagonal now.)
            products.gram = G
            if q is not None:
                cache[id(y)] = (y, self._fit_q(q), backend.to_float(yy))
        self.G = products.gram
        # q and y_c.T U y_c depend on the target only: objectives that share the
        # statistics (a path over alphas, with_penalty) compute them once per target.
        # The cache holds y itself, so its id cannot be reused while it lives.
        entry = cache.get(id(y))
        if entry is None or entry[0] is not y:
            yc = y - self.y_offset
            uy = self.u * yc
            q = backend.rmatvec(X, uy)
            if self.fit_intercept:
                # X_c.T U y_c = X.T (u y_c) - x_mean sum(u y_c); the sum is ~0 already.
                q = q - self.x_mean * backend.to_float(xp.sum(uy))
            entry = (y, self._fit_q(q), backend.to_float(xp.sum(uy * yc)))
            cache[id(y)] = entry
        _, self.q, self.yy = entry

    @property
    def _curv(self):
        """Alias of :attr:`curvature`, the name this form used before the protocol."""
        return self.curvature

    def _fit_q(self, q):
        """Return ``q`` with the entries of inactive (constant) columns zeroed."""
        cxp = self.coef_xp
        return cxp.where(self.active, q, cxp.zeros_like(q))

    def closed_form(self):
        r"""Return the minimiser of a ridge or unpenalized problem, or None.

        With an L2 penalty alone (``l2 > 0``, no L1 part) the optimality condition
        is linear: ``(curv G + l2 I) w = curv q``, a symmetric positive definite
        system (its eigenvalues are at least ``l2``). Inactive (constant) columns
        have zero rows in ``G`` and zero ``q``, so their coefficient solves to 0.
        Without a penalty (``l1 = l2 = 0``) it is the minimum-norm solution of
        ``G w = q`` (see :meth:`_min_norm_solution`), LinearRegression's answer.
        The caller still certifies the result with its stopping measure (rounding
        in an ill-conditioned solve, float32 above all, can leave it short of
        ``tol``, and the iterations then start from it).

        Returns
        -------
        w : array of shape (n_features,) or None
            The solution, or None where no closed form applies (another penalty,
            a ridge problem of more than ``_CLOSED_FORM_MAX_FEATURES`` features, a
            namespace without ``linalg``, or without ``linalg.eigh`` for the
            unpenalized case) or the solve failed.
        """
        penalty, cxp = self.penalty, self.coef_xp
        l1, l2 = penalty.elastic_net_weights() or (None, None)
        if l1 != 0 or l2 is None or not l2 >= 0 or not hasattr(cxp, "linalg"):
            return None
        if l2 == 0:
            return self._min_norm_solution()
        if self.n_features > _CLOSED_FORM_MAX_FEATURES:
            return None
        G = self.G
        eye = cxp.eye(self.n_features, dtype=G.dtype, device=self.backend.device)
        system = self.curvature * G + l2 * eye
        try:
            w = solve_spd(system, self.curvature * self.q)
        except Exception:  # a singular or non-finite system: iterate instead
            return None
        if not bool(cxp.all(cxp.isfinite(w))):
            return None
        return cxp.where(self.active, w, cxp.zeros_like(w))

    def _min_norm_solution(self):
        r"""Return the minimum-norm solution of ``G w = q``, or None.

        ``G``'s condition number is X's squared, and features of different scales
        spread its diagonal over as many decades again, so the solve works in the
        Jacobi-scaled matrix ``S = D^{-1/2} G D^{-1/2}`` (``D = diag(G)`` on the
        active columns, unit diagonal): ``S z = D^{-1/2} q``, ``w = D^{-1/2} z``,
        from the eigendecomposition of ``S`` (:meth:`_spectrum`) restricted to its
        numerically nonzero eigenvalues. That ``z`` has minimum norm in the scaled
        coordinates; the minimum norm of ``w`` itself (LinearRegression's answer
        on rank-deficient X, e.g. one-hot columns with an intercept) comes from
        projecting out the null space of ``G`` in the original coordinates,
        ``N = D^{-1/2} V_0``, through an orthonormal basis of it. Without rank
        deficiency the projection is skipped. Inactive columns stay at 0.

        Returns
        -------
        w : array of shape (n_features,) or None
            The solution, or None where the namespace lacks ``linalg.eigh`` or
            ``linalg.qr`` or the solve is not finite.
        """
        cxp = self.coef_xp
        spectrum = self._spectrum()
        if spectrum is None:
            return None
        scale, V, inv_lam, null_basis, mask = spectrum
        zero = cxp.zeros_like(self.q)
        b = cxp.where(mask, scale * self.q, zero)
        w = scale * (V @ (inv_lam * (V.T @ b)))
        if null_basis is not None:
            w = w - null_basis @ (null_basis.T @ w)
        if not bool(cxp.all(cxp.isfinite(w))):
            return None
        return cxp.where(mask, w, zero)

    def _spectrum(self):
        r"""Return the decomposition of ``G`` that :meth:`_min_norm_solution` uses.

        It depends on ``G`` only, so it is computed once and shared (through the
        column statistics) by every target of a multi-output fit.

        The eigenvalues kept are those above ``max(n_samples, n_features) * eps``
        times the largest. ``S``'s eigenvalues are the squares of the singular
        values of the scaled, centered ``U^{1/2} X_c D^{-1/2}``, but ``S`` is
        formed by sums of ``n_samples`` products, whose rounding reaches that
        relative level (and ``eigh``'s own backward error is ``n_features * eps``):
        below it an eigenvalue is rounding, not data. It is LAPACK's ``lstsq``
        rule applied to ``S``; on X it drops singular values below
        ``sqrt(max(n, p) * eps)`` of the largest (3e-7 for 442 rows in float64)
        where ``lstsq`` on X itself would keep them down to ``max(n, p) * eps``,
        information the Gram matrix no longer holds. A direction dropped that way
        leaves a gradient that the certification measures (the iterations then
        continue from this point).

        Returns
        -------
        spectrum : tuple or None
            ``(scale, V, inv_lam, null_basis, mask)``: ``D^{-1/2}``, the
            eigenvectors of ``S``, the inverses of the eigenvalues kept (0 for the
            others), an orthonormal basis of ``D^{-1/2} V_0`` for the eigenvalues
            dropped (None when there are none: full rank, no constant column) and
            the active columns; None where the namespace lacks ``linalg.eigh`` or
            ``linalg.qr``, or ``S`` is not finite.
        """
        products = self.stats.products
        if products.gram_spectrum is not None:
            return products.gram_spectrum
        cxp, G = self.coef_xp, self.G
        if not (hasattr(cxp.linalg, "eigh") and hasattr(cxp.linalg, "qr")):
            return None
        diag = cxp.linalg.diagonal(G)
        mask = self.active & (diag > 0)
        scale = 1.0 / cxp.sqrt(cxp.where(mask, diag, cxp.ones_like(diag)))
        pair = mask[:, None] & mask[None, :]
        S = cxp.where(pair, (scale[:, None] * G) * scale[None, :], cxp.zeros_like(G))
        try:
            lam, V = cxp.linalg.eigh(S)
        except Exception:  # a non-finite matrix: iterate instead
            return None
        eps = float(cxp.finfo(G.dtype).eps)
        top = self.backend.to_float(cxp.max(lam)) if lam.shape[0] else 0.0
        if not math.isfinite(top):
            return None
        keep = lam > max(self.n_samples, self.n_features) * eps * top
        ones = cxp.ones_like(lam)
        inv_lam = cxp.where(keep, ones / cxp.where(keep, lam, ones), 0.0 * lam)
        null_basis = None
        n_null = int(self.backend.to_float(cxp.sum(cxp.astype(~keep, G.dtype))))
        if n_null:
            # The columns of V for the dropped eigenvalues, in any order.
            order = cxp.argsort(cxp.astype(keep, G.dtype), stable=True)
            V_0 = cxp.take(V, order[:n_null], axis=1)
            null_basis, _ = cxp.linalg.qr(scale[:, None] * V_0)
        products.gram_spectrum = (scale, V, inv_lam, null_basis, mask)
        return products.gram_spectrum

    def raw(self, w, c):
        """Return ``G @ w``, the representation of the predictions used here.

        Parameters
        ----------
        w : array of shape (n_features,)
            Coefficients.
        c : float
            Offset of the centered model (fixed in closed form; unused).

        Returns
        -------
        raw : array of shape (n_features,)
            ``G @ w``.
        """
        return self.G @ w

    def gradient(self, raw):
        """Return ``(None, G w - q, 0)``: no per-sample gradient, those in w and c."""
        cxp = self.coef_xp
        grad_w = self.curvature * (raw - self.q)
        return None, cxp.where(self.active, grad_w, cxp.zeros_like(grad_w)), 0.0

    def step_terms(self, draw, dw, raw_new, raw_old):
        """Return ``dw.T G dw = dw @ draw`` and its rounding level.

        Here ``draw = G w_new - G w_old``. Each product carries errors of a few ulps
        of its entries, which enter the inner product with ``dw`` linearly: the
        level is ``8 eps sum_j |dw_j| (|raw_new_j| + |raw_old_j|)``.
        """
        cxp = self.coef_xp
        eps = float(cxp.finfo(self.dtype).eps)
        scale = cxp.abs(raw_new) + cxp.abs(raw_old)
        sq, level = self.backend.to_floats(dw @ draw, cxp.sum(cxp.abs(dw) * scale))
        return max(sq, 0.0), 8.0 * eps * level

    def residual_sq(self, w, raw):
        """Return ``sum_i u_i r_i**2 = y_c.T U y_c - 2 w.q + w.G w`` (at least 0)."""
        value = self.yy - self.backend.to_float(w @ (2.0 * self.q - raw))
        return max(value, 0.0)

    def value(self, w, raw):
        """Return the full penalized objective at ``w`` (``raw = G @ w``)."""
        return 0.5 * self.curvature * self.residual_sq(w, raw) + self.penalty_value(w)

    def zero_value(self):
        """Return the objective at ``w = 0`` with the closed-form offset."""
        return 0.5 * self.curvature * self.yy

    def duality_gap(self, w, raw, grad_w, raw_grad=None):
        """Return the duality gap at ``w`` (see :func:`skgd._gaps.quadratic_gap`).

        Parameters
        ----------
        w : array of shape (n_features,)
            Coefficients.
        raw : array of shape (n_features,)
            ``G @ w``.
        grad_w : array of shape (n_features,)
            The gradient in ``w`` at ``w``.
        raw_grad : None
            Unused (the squared loss needs no per-sample gradient here).

        Returns
        -------
        gap : float
            An upper bound on ``P(w) - P*``.
        """
        v = toward_subgradient(self, w, -grad_w)
        k = self.penalty.dual_scale(v)
        fy = self.penalty.fenchel_young(w, k * v)
        return quadratic_gap(k, fy, lambda: self.curvature * self.residual_sq(w, raw))
