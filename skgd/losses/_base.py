# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""The Loss contract: a per-sample regression loss of the linear prediction ``raw``.

A loss never sees X, so it never deals with sparse or chunked data; the chain rule
through X lives in :mod:`skgd._objective`.
"""

from dataclasses import dataclass

from skgd._backend._namespace import array_namespace


@dataclass(frozen=True)
class Loss:
    """Base class of per-sample losses ``L(y, raw)`` with ``raw = X @ w + b``.

    Subclasses implement :meth:`pointwise` and :meth:`gradient` using only Array API
    standard functions, and set the class attributes below. What else is needed
    depends on the solver (:func:`skgd.testing.check_support` checks it when a fit
    starts, and names what is missing):

    - ``"sgd"`` and ``"adam"`` call :meth:`pointwise` (through :meth:`value`) and
      :meth:`gradient` only;
    - ``"gd"`` needs a ``curvature_bound`` when ``is_smooth`` is true, and
      :meth:`smoothed` when it is false (it minimises smooth approximations of
      decreasing width); it certifies its solution with a duality gap when
      ``has_conjugate`` is true (:meth:`dual_value`, with :meth:`dual_box` or,
      for ``balanced_dual``, :meth:`balance_mix` and its parts);
    - the working sets of ``"gd"`` (for penalties with an L1 part) need a smooth
      loss with a ``curvature_bound`` and a conjugate.
    - ``"newton"`` needs :meth:`hessian` (the per-sample second derivative) on a
      smooth loss of one output, besides what ``"gd"`` needs.

    Attributes
    ----------
    curvature_bound : float or None
        An upper bound on the second derivative of the loss with respect to ``raw``
        (for several outputs: on the largest eigenvalue of its Hessian), or None
        when the loss does not provide one. The full-batch solver needs it for a
        smooth loss: its backtracking test bounds the loss's curvature along each
        step by it, so it must be a true bound, not an estimate.
    is_smooth : bool
        Whether the loss has a Lipschitz-continuous derivative. A non-smooth loss
        must provide :meth:`smoothed` for the full-batch solver.
    is_quadratic : bool
        Whether the loss is a quadratic function of ``raw`` (its gradient is then
        affine in ``raw``, which the full-batch solver exploits).
    has_conjugate : bool
        Whether :meth:`dual_value` is implemented, so that the full-batch solver can
        certify its solutions with a duality gap.
    has_numerical_conjugate : bool
        Whether :meth:`dual_value` is implemented numerically where
        ``has_conjugate`` is false (the Tweedie loss with ``1 < p < 2``): each
        sample's conjugate a 1-D maximisation, bounded safely, too costly for
        every iteration; it certifies the fits with features of penalty
        weight 0 (:func:`skgd._gaps.unpenalized_gap`) once the iterations stop.
    has_positive_curvature : bool
        Whether :meth:`hessian` is positive at every ``raw`` (the log loss, the
        squared error; not the losses with linear pieces), so that the Hessian of
        the data term is positive definite wherever X has full column rank and the
        Newton decrement can certify a fit without a penalty.
    balanced_dual : bool
        Whether the duality gap builds its dual point with :meth:`balance_dual`
        (the classification losses, whose conjugates are finite on a one-sided box
        or a simplex) instead of subtracting the mean and scaling into
        :meth:`dual_box`.
    n_outputs : int
        Number of linear predictions per sample: 1, except for a loss of several
        (the multinomial one), whose ``raw`` has shape ``(n_samples, n_outputs)``
        and whose coefficients have shape ``(n_features, n_outputs)``.
    """

    curvature_bound = None
    n_outputs = 1
    balanced_dual = False
    is_smooth = True
    is_quadratic = False
    has_conjugate = False
    has_numerical_conjugate = False
    has_positive_curvature = False

    def pointwise(self, y, raw):
        """Return the loss of each sample.

        Parameters
        ----------
        y : array of shape (n_samples,)
            Targets: real values, labels -1 and +1, or class indices.
        raw : array of shape (n_samples,) or (n_samples, n_outputs)
            Linear predictions.

        Returns
        -------
        loss : array of shape (n_samples,)
            The per-sample losses.
        """
        raise NotImplementedError

    def gradient(self, y, raw):
        """Return the derivative of each sample's loss with respect to ``raw``.

        For a non-smooth loss this is a subgradient.

        Parameters
        ----------
        y, raw : arrays of shape (n_samples,)
            Targets and linear predictions, as for :meth:`pointwise`.

        Returns
        -------
        gradient : array of the shape of ``raw``
            The per-sample derivatives.
        """
        raise NotImplementedError

    def hessian(self, y, raw):
        """Return the second derivative of each sample's loss with respect to ``raw``.

        Optional: ``solver="newton"`` (and ``"auto"``, where it picks Newton) needs
        it; a loss without it is fitted by the first-order solvers. For a
        piecewise-smooth loss it is the generalized (one-sided) value, e.g. 1
        inside the Huber loss's quadratic zone and 0 outside.

        Parameters
        ----------
        y : array of shape (n_samples,)
            Targets (as for :meth:`pointwise`).
        raw : array of shape (n_samples,)
            Linear predictions where the curvature is taken.

        Returns
        -------
        hessian : array of the shape of ``raw``
            Non-negative: ``d2 L(y_i, raw_i) / d raw_i**2`` for each sample.
        """
        raise NotImplementedError(f"{type(self).__name__} does not provide hessian.")

    def gradient_hessian(self, y, raw):
        """Return :meth:`gradient` and :meth:`hessian` at ``raw``, in one call.

        Optional: the proximal Newton solver takes both at each of its points,
        and a loss whose two share their costliest terms (the log loss's
        exponential) computes them once here. The default calls the two methods.

        Parameters
        ----------
        y, raw : arrays of shape (n_samples,)
            Targets and linear predictions, as for :meth:`hessian`.

        Returns
        -------
        gradient, hessian : arrays of the shape of ``raw``
            The per-sample first and second derivatives.
        """
        return self.gradient(y, raw), self.hessian(y, raw)

    def smoothed(self, mu):
        """Return a smooth loss within ``mu`` of this one (for a non-smooth loss).

        The full-batch solver calls it, for a loss with ``is_smooth = False``, with
        widths ``mu`` decreasing from the objective at zero towards the tolerance,
        and minimises each returned loss warm-started from the previous solution.
        The Moreau envelope of width ``mu`` is the usual choice (within ``mu / 2``
        of the loss, with curvature ``1 / mu``). Not provided by default: a
        non-smooth loss without it fits with ``"sgd"`` and ``"adam"`` only.

        Parameters
        ----------
        mu : float
            Smoothing width, positive.

        Returns
        -------
        loss : Loss
            A loss with ``is_smooth = True`` and a ``curvature_bound`` (about
            ``1 / mu``), of the same targets.
        """
        raise NotImplementedError(
            f"{type(self).__name__} does not provide smoothed(mu)."
        )

    def value(self, y, raw, sample_weight=None):
        """Return the (weighted) mean loss as a 0-d array.

        Parameters
        ----------
        y, raw : arrays
            Targets and linear predictions, as for :meth:`pointwise`.
        sample_weight : array of shape (n_samples,), default=None
            Non-negative weights; None means all ones.

        Returns
        -------
        value : 0-d array
            ``sum_i s_i L(y_i, raw_i) / sum_i s_i``.
        """
        xp = array_namespace(y, raw)
        losses = self.pointwise(y, raw)
        if sample_weight is None:
            return xp.mean(losses)
        return xp.sum(sample_weight * losses) / xp.sum(sample_weight)

    def constant_fit(self, y, u):
        """Return the best constant prediction: a starting offset of the model.

        The weighted mean of ``y``, which minimises the squared loss; losses with a
        better starting point (the log-odds of the labels for the log loss)
        override it.

        Parameters
        ----------
        y : array of shape (n_samples,)
            Targets.
        u : array of shape (n_samples,)
            Normalised sample weights (summing to one).

        Returns
        -------
        offset : 0-d array or array of shape (n_outputs,)
            The constant.
        """
        xp = array_namespace(y, u)
        return xp.sum(u * y)

    def balance_parts(self, y, theta):
        """Return the parts of ``theta`` that :meth:`balance_mix` reweights.

        Only for losses with ``balanced_dual``. The balanced dual point is

        ``(1 - t) theta + sum_j b_j parts_j + a anchor + u d``;

        the full-batch solver reduces ``X.T`` of the parts in the pass that takes
        the gradient, ``X_c.T anchor`` is computed once per fit and ``X_c.T u = 0``
        for the centered model, so the balanced point costs no pass of its own.

        Parameters
        ----------
        y : array of shape (n_samples,)
            Targets.
        theta : array of shape (n_samples,)
            A feasible dual point, ``-u * gradient``.

        Returns
        -------
        parts : tuple of arrays of shape (n_samples,)
            The parts (none by default).
        """
        return ()

    def balance_anchor(self, y, u):
        """Return the fixed dual point that :meth:`balance_mix` mixes in, or None.

        Parameters
        ----------
        y : array of shape (n_samples,)
            Targets.
        u : array of shape (n_samples,)
            Normalised sample weights.

        Returns
        -------
        anchor : array of shape (n_samples,) or (n_samples, n_outputs), or None
            The anchor (None by default: no anchor).
        """
        return None

    def balance_extremes(self, y, theta, u):
        """Return the maxima over samples that :meth:`balance_mix` needs.

        Parameters
        ----------
        y : array of shape (n_samples,)
            Targets.
        theta : array of shape (n_samples,) or (n_samples, n_outputs)
            A feasible dual point, ``-u * gradient``.
        u : array of shape (n_samples,)
            Normalised sample weights.

        Returns
        -------
        maxima : tuple of arrays
            Each reduced by ``max`` over the samples (a row block's maxima are
            combined by ``maximum``); empty by default.
        """
        return ()

    def balance_mix(self, theta_sum, part_sums, anchor_sum, extremes):
        """Return ``(t, b, a, d)`` of the balanced dual point (see balance_parts).

        It is feasible and sums to zero over the samples, which the intercept
        needs (``theta`` is feasible, its sum is not zero).

        Parameters
        ----------
        theta_sum : 0-d array or array of shape (n_outputs,)
            ``sum_i theta_i``.
        part_sums : array of shape (n_parts,), or tuple of 0-d arrays
            The sum of each of :meth:`balance_parts`.
        anchor_sum : array of shape (n_outputs,) or None
            ``sum_i anchor_i`` (:meth:`balance_anchor`).
        extremes : list of arrays
            :meth:`balance_extremes`, reduced over all samples.

        Returns
        -------
        t : 0-d array
            The weight moved from ``theta``, in ``[0, 1]``.
        b : tuple of 0-d arrays
            The weights of the parts.
        a : 0-d array or float
            The weight of the anchor.
        d : float or array of shape (n_outputs,)
            The multiple of ``u`` added (``X_c.T u = 0``).
        """
        raise NotImplementedError

    def balance_dual(self, y, theta, u):
        """Return a dual point that sums to zero over the samples and stays feasible.

        ``theta = -u * gradient`` is feasible for the conjugates of the losses with
        ``balanced_dual``, and the intercept needs ``sum_i theta_i = 0``; this
        returns :meth:`balance_mix`'s point (lazy array operations).

        Parameters
        ----------
        y : array of shape (n_samples,)
            Targets.
        theta : array of shape (n_samples,) or (n_samples, n_outputs)
            A feasible dual point.
        u : array of shape (n_samples,)
            Normalised sample weights.

        Returns
        -------
        theta : array of the same shape
            A feasible dual point whose sum over the samples is zero.
        mix : tuple
            Its ``(t, b, a, d)`` (0-d arrays, lazy where the data is).
        """
        xp = array_namespace(y, theta)
        parts = self.balance_parts(y, theta)
        anchor = self.balance_anchor(y, u)
        extremes = [xp.max(e, axis=0) for e in self.balance_extremes(y, theta, u)]
        # A tuple of 0-d sums: balance_mix indexes it as the stacked array of a
        # fused pass (skgd._one_pass), and a stack costs more than the sums here.
        part_sums = tuple(xp.sum(part) for part in parts) if parts else None
        anchor_sum = None if anchor is None else xp.sum(anchor, axis=0)
        mix = self.balance_mix(xp.sum(theta, axis=0), part_sums, anchor_sum, extremes)
        return mix_dual(theta, parts, anchor, u, *mix), mix

    def dual_box(self):
        """Return ``m`` such that the conjugate needs ``|theta_i| <= m u_i``, or None.

        Returns
        -------
        bound : float or None
            The bound (None: no bound, the conjugate is finite everywhere).
        """
        return None

    def quadratic_dual_box(self, y, u):
        """Return the box ``lo <= theta <= hi`` where the conjugate is quadratic.

        Optional: a loss made of quadratic and linear pieces (huber, modified
        huber) has a conjugate that is finite only on a box and quadratic on
        it, with curvature ``1 / (u_i h_i)`` (``h_i`` of :meth:`hessian`).
        There a fit without a penalty is certified by a duality gap: the
        gradient's dual point, corrected on the samples strictly inside the box
        (:func:`skgd._gaps.box_gap`). Losses without such a box do not
        implement it.

        Parameters
        ----------
        y, u : arrays of shape (n_samples,)
            Targets and normalised sample weights.

        Returns
        -------
        lo, hi : arrays of shape (n_samples,)
            The bounds of each ``theta_i``.
        """
        raise NotImplementedError

    def dual_value(self, y, theta, u):
        """Return ``-sum_i u_i L_i^*(-theta_i / u_i)``, the loss part of the dual.

        ``L_i^*`` is the convex conjugate of ``f -> L(y_i, f)``. ``theta`` must
        respect :meth:`dual_box`; samples with ``u_i = 0`` must have ``theta_i = 0``.
        Losses without a cheap conjugate return None, and the full-batch solver then
        stops on the proximal-gradient measure instead of a duality gap.

        Parameters
        ----------
        y : array of shape (n_samples,)
            Targets.
        theta : array of shape (n_samples,)
            Dual variables.
        u : array of shape (n_samples,)
            Normalised sample weights (summing to one).

        Returns
        -------
        value : 0-d array or None
            The dual value of the loss term (a 0-d array of ``theta``'s namespace,
            so that a lazy backend can compute it together with other reductions).
        """
        return None

    def inverse_link(self, raw):
        """Return the prediction for ``raw``: the identity for every regression loss.

        Parameters
        ----------
        raw : array of shape (n_samples,)
            Linear predictions.

        Returns
        -------
        prediction : array of shape (n_samples,)
            ``raw`` itself.
        """
        return raw


def mix_dual(theta, parts, anchor, u, t, b, a, d):
    """Return ``(1 - t) theta + sum_j b_j parts_j + a anchor + u d`` (balance_mix)."""
    out = (1.0 - t) * theta
    for weight, part in zip(b, parts, strict=True):
        out = out + weight * part
    if anchor is not None:
        out = out + a * anchor
    if isinstance(d, float) and d == 0.0:
        return out  # (no multiple of u: two passes spared)
    return out + (u if theta.ndim == 1 else u[:, None]) * d
