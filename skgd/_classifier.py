# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""GDClassifier: labels in, coded targets to the fit of :class:`skgd._base.GDBase`.

The classifier adds label handling, class weights and the classification losses;
the fitting (every solver, partial_fit, early stopping, warm start, the data
backends) is the base's, shared with GDRegressor. Binary problems are one target in
{-1, +1}; ``log_loss`` with more classes is one multinomial problem of ``K``
outputs, whose coefficients it stores transposed (one row per class); ``hinge`` and
``modified_huber`` with more classes are one-vs-rest, one {-1, +1} target per
class, as in SGDClassifier.
"""

import warnings
from numbers import Integral, Real

import numpy as np
from array_api_compat import array_namespace, device, is_array_api_obj, is_numpy_array
from sklearn import get_config
from sklearn.base import ClassifierMixin
from sklearn.exceptions import DataConversionWarning
from sklearn.model_selection import StratifiedShuffleSplit
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import assert_all_finite, column_or_1d

from skgd._backend import dask_namespace, dask_unique, is_dask
from skgd._base import GDBase, fill_shared_docs, init_with, linear_predict
from skgd._sklearn_compat import Interval, StrOptions, _fit_context
from skgd._validation import check_fit_data
from skgd.losses import CLASSIFIER_LOSSES, MultinomialLogLoss


@fill_shared_docs
class GDClassifier(ClassifierMixin, GDBase):
    r"""Linear classification fitted by gradient descent, to the exact optimum.

    Minimises :class:`GDRegressor`'s objective with a classification loss: the
    weighted mean loss of the scores :math:`x_i^\top W + b` plus
    :math:`\alpha (\rho \|W\|_1 + \frac{1 - \rho}{2} \|W\|_2^2)`, with
    :math:`\rho` the ``l1_ratio`` and the sample weights :math:`s_i` times the
    class weights, of sum :math:`S`. With ``loss="log_loss"`` and ``solver="gd"``
    the solution is :class:`~sklearn.linear_model.LogisticRegression`'s with
    ``C = 1 / (alpha S)`` (binary, or multinomial for more than two classes: one
    softmax over all classes, not one-vs-rest).

    Read more in the :ref:`User Guide <gd_classifier>`.

    Parameters
    ----------
    loss : {"log_loss", "hinge", "modified_huber", "squared_hinge", "perceptron", \
            "squared_error", "huber", "epsilon_insensitive", \
            "squared_epsilon_insensitive"}, default="log_loss"
        SGDClassifier's losses of the margin ``z = y f`` (``y`` in {-1, +1}):
        ``log(1 + exp(-z))``, ``max(0, 1 - z)``, ``max(0, 1 - z)**2`` for
        ``z >= -1`` and ``-4 z`` below, ``max(0, 1 - z)**2``, and ``max(0, -z)``
        (the perceptron: ``"sgd"`` and ``"adam"`` only, its full-batch optimum
        being the zero model); or GDRegressor's losses of the residual ``y - f``,
        fitted to the labels -1 and +1. With more than two classes ``log_loss`` is
        the multinomial cross-entropy; the others are fitted one-vs-rest.
    penalty : {"l2", "l1", "elasticnet"} or None, default="l2"
        The penalty on the coefficients; None for none.
    {alpha}
    {l1_ratio}
    {positive}
    {penalty_weights}
    fit_intercept : bool, default=True
        Whether to fit (unpenalized) intercepts.
    {solver}
    {max_iter}
    tol : float or None, default=1e-4
        Stopping tolerance, in ``[0, inf)``, relative to the objective of the best
        constant model. For ``"gd"`` with a penalty it bounds a certified duality
        gap (the dual point is balanced over the classes for the intercept, from
        the pass that takes the gradient); without a penalty, the
        proximal-gradient measure. Coefficient errors are of order
        ``sqrt(tol / alpha)``. ``"auto"`` solves the hinge by interior points
        (a few dozen steps); ``"gd"`` reaches it through smoothings, in a
        number of iterations that grows like ``1 / tol`` (raise ``max_iter`` at a
        tight ``tol``). For the stochastic solvers it is SGDClassifier's.
        See :ref:`classifier_tol`.
    {n_iter_no_change}
    early_stopping : bool, default=False
        Whether the stochastic solvers hold out ``validation_fraction`` of the data
        and stop on its accuracy (per one-vs-rest problem, as SGDClassifier does).
        ``partial_fit`` raises a ValueError with it (as SGDClassifier's does).
    {validation_fraction}
    {random_state}
    {verbose}
    {warm_start}
        Only a fit on the same classes continues the previous one.
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, multiplying the sample weights. ``"balanced"`` uses
        ``n_samples / (n_classes * count(class))`` (``fit`` only: a stream's class
        frequencies are not known in advance).
    epsilon : float, default=0.1
        The epsilon of the losses ``"huber"``, ``"epsilon_insensitive"`` and
        ``"squared_epsilon_insensitive"``, in ``[0, inf)``.
    n_jobs : int or None, default=None
        Accepted for SGDClassifier's signature; it changes nothing: the one-vs-rest
        problems are fitted one after the other, in one process.
    {batch_size}
    {shuffle}
    {learning_rate}
    {eta0}
    {power_t momentum nesterovs_momentum average beta_1 beta_2 adam_eps}

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Coefficients, in X's dtype (one row for a binary problem).
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Intercepts. Multinomial intercepts (and, without a penalty, coefficients)
        are defined up to a common shift; skgd's sum to zero over the classes.
    n_iter_ : int
        Iterations run (the most over one-vs-rest problems).
    loss_curve_ : list of float
        The objective after each iteration or epoch (summed over one-vs-rest
        problems).
    t_ : float
        Stochastic solvers: updates made plus one.
    {dual_gap_}
    {n_features_in_}
    {feature_names_in_}

    See Also
    --------
    GDRegressor : The same engine for regression.
    sklearn.linear_model.LogisticRegression : Exact logistic regression.
    sklearn.linear_model.SGDClassifier : Stochastic gradient descent, inexact.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skgd import GDClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> clf = GDClassifier(alpha=1e-3, tol=1e-10).fit(X, y)  # near the optimum
    >>> clf.coef_.shape
    (3, 4)
    >>> round(clf.score(X, y), 3)
    0.98
    >>> clf.predict_proba(X[:1]).round(3)
    array([[0.997, 0.003, 0.   ]])
    """

    _parameter_constraints = {
        **GDBase._parameter_constraints,
        "loss": [StrOptions(set(CLASSIFIER_LOSSES))],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "epsilon": [Interval(Real, 0, None, closed="left")],
        "n_jobs": [Integral, None],
    }

    __init__ = init_with(
        "log_loss",
        after="warm_start",
        extra={"class_weight": None, "epsilon": 0.1, "n_jobs": None},
        batch_size=128,
    )

    # ---------------------------------------------------------------- fitting
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, coef_init=None, intercept_init=None, sample_weight=None):
        """Fit the model to the optimum of the objective.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data (never copied nor densified).
        y : array-like of shape (n_samples,)
            Class labels (any type that :func:`numpy.unique` sorts).
        coef_init : array-like of shape (n_classes, n_features), default=None
            Starting coefficients (``(1, n_features)`` for two classes).
        intercept_init : array-like of shape (n_classes,), default=None
            Starting intercepts.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights, multiplied by the class weights.

        Returns
        -------
        self : GDClassifier
            The fitted estimator.
        """
        classes, codes = _encode(_like_x(y, X))
        if classes.shape[0] < 2:
            raise ValueError(
                "GDClassifier needs samples of at least 2 classes in the data; got "
                f"{classes.shape[0]} class."
            )
        X, targets, sample_weight, backend = self._check_data(
            X, classes, codes, sample_weight, reset=True
        )
        _check_init(coef_init, intercept_init, classes.shape[0], X.shape[1])
        # Warm start continues only the same problem (the same classes).
        same = _same(getattr(self, "classes_", None), classes)
        return self._fit_validated(
            X,
            targets,
            sample_weight,
            backend,
            n_classes=classes.shape[0],
            coef_init=coef_init,
            intercept_init=intercept_init,
            restart=not (self.warm_start and same),
            classes_=classes,
        )

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Make one stochastic pass over ``X``, continuing the optimizer's state.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A batch of training data.
        y : array-like of shape (n_samples,)
            Class labels of the batch.
        classes : array-like of shape (n_classes,), default=None
            All the classes of the stream: required on the first call (as in
            scikit-learn), optional after, and then equal to ``classes_``.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights.

        Returns
        -------
        self : GDClassifier
            The updated estimator.
        """
        first = not hasattr(self, "classes_")
        if self.early_stopping:
            # One pass over the given chunk has no held-out rows to stop on.
            raise ValueError("early_stopping should be False with partial_fit.")
        if self.class_weight == "balanced":
            # scikit-learn's words: a stream's class frequencies are not known.
            raise ValueError(
                "class_weight 'balanced' is not supported for partial_fit. In order "
                "to use 'balanced' weights, use compute_class_weight('balanced', "
                "classes=classes, y=y). In place of y you can use a large enough "
                "sample of the full training set target to properly estimate the "
                "class frequency distributions. Pass the resulting weights as the "
                "class_weight parameter."
            )
        if first:
            if classes is None:
                raise ValueError(
                    "classes must be passed on the first call to partial_fit."
                )
            all_classes = np.unique(np.asarray(classes))
            if all_classes.shape[0] < 2:
                raise ValueError("partial_fit needs at least 2 classes in classes.")
        else:
            all_classes = self.classes_
            if classes is not None and not _same(
                np.unique(np.asarray(classes)), np.asarray(all_classes)
            ):
                raise ValueError(
                    f"`classes={classes!r}` is not the same as on the first call "
                    f"to partial_fit, which was {all_classes!r}."
                )
        _, codes = _encode(_like_x(y, X), classes=all_classes)
        X, targets, sample_weight, backend = self._check_data(
            X, all_classes, codes, sample_weight, reset=first
        )
        if first:
            self._warn_power_t()  # once per stream, as fit warns once
        return self._fit_validated(
            X,
            targets,
            sample_weight,
            backend,
            partial=True,
            n_classes=all_classes.shape[0],
            classes_=all_classes,
        )

    def _check_data(self, X, classes, codes, sample_weight, *, reset):
        """Validate the data; return it with the targets coded for the loss.

        Two classes give one target in {-1, +1}; ``log_loss`` with more gives the
        class codes (one multinomial problem); the other losses one {-1, +1}
        column per class (one-vs-rest). The class weights multiply the sample
        weights, brought to a usual scale (see ``GDBase._scaled_weights``).
        """
        X, codes, sample_weight, backend = check_fit_data(
            self, X, codes, sample_weight, reset=reset, multi_output=False, coded=True
        )
        n_classes = classes.shape[0]
        try:
            weight = self._class_sample_weight(classes, codes, backend)
            # (A later partial_fit call, reset=False, takes its stream's unit.)
            sample_weight = self._scaled_weights(
                [sample_weight, weight], X, backend, partial=not reset
            )
            if reset and sample_weight is not None:
                self._check_weighted_classes(classes, codes, sample_weight, backend)
        except ValueError:
            # The input attributes wait for a successful solve: a rejected
            # fit leaves none behind.
            self.__dict__.pop("_validated_input", None)
            raise
        if n_classes == 2:
            targets = 2.0 * codes - 1.0
        elif self.loss == "log_loss":
            targets = codes
        else:
            targets = _one_vs_rest(codes, n_classes, backend)
        return X, targets, sample_weight, backend

    def _engine_coef(self, coef, coef_shape, xp):
        """Return a start ``coef`` in the solvers' layout: multinomial ones transposed.

        The solvers hold the multinomial coefficients as ``(n_features,
        n_classes)``; ``coef_`` and ``coef_init`` have one row per class.
        """
        if len(coef_shape) == 2 and coef.ndim == 2:
            return xp.permute_dims(coef, (1, 0))
        return coef

    def _public_coef(self, coef, intercept, loss, backend):
        """Return the solvers' coefficients with one row per class (or one row)."""
        xp = backend.coef_xp
        if coef.ndim == 1:
            return xp.reshape(coef, (1, -1)), xp.reshape(xp.asarray(intercept), (1,))
        if getattr(loss, "n_outputs", 1) > 1:
            return xp.permute_dims(coef, (1, 0)), intercept
        return coef, intercept

    def _held_out_rows(self, Y):
        """Return the training and validation rows: SGDClassifier's split.

        ``StratifiedShuffleSplit`` on the classes, seeded with ``random_state``
        itself, so the same seed holds out the same rows as SGDClassifier.
        """
        labels = Y[:, 0] if Y.shape[1] == 1 else np.argmax(Y, axis=1)
        cv = StratifiedShuffleSplit(
            test_size=self.validation_fraction, random_state=self.random_state
        )
        return next(cv.split(np.zeros((Y.shape[0], 1)), labels))

    def _validation_scorer(self, backend, X_val, Y_val, weight_val, k):
        """Return ``score(w, b)``: the weighted accuracy of target ``k`` held out."""
        y_val = np.asarray(Y_val[:, k])
        weight = np.asarray(weight_val)

        def score(w, b):
            raw = np.asarray(backend.matvec(X_val, w)) + np.asarray(b)
            if raw.ndim == 2:
                hit = np.argmax(raw, axis=1) == y_val
            else:
                hit = np.where(raw > 0, 1.0, -1.0) == y_val
            return float(np.sum(weight * hit) / np.sum(weight))

        return score

    def _check_weighted_classes(self, classes, codes, sample_weight, backend):
        """Raise where a class of zero total weight leaves the fit no minimum.

        With the log loss and an intercept, such a class's intercept (or the
        binary one) goes to ``-inf``: the full-batch solvers ran to ``max_iter``
        and warned to raise ``alpha``, which cannot help. The hinge-type losses
        (whose intercept stops at the margin), a fit without an intercept and the
        stochastic solvers (passes, as in SGDClassifier) keep such classes.
        """
        if (
            self.loss != "log_loss"
            or not self.fit_intercept
            or self.solver in ("sgd", "adam")
        ):
            return
        totals = _class_totals(codes, classes.shape[0], backend, sample_weight)
        empty = np.asarray(classes)[totals <= 0]
        if empty.shape[0]:
            raise ValueError(
                f"The class(es) {empty.tolist()} have zero total weight (sample_weight "
                "times class_weight): the log loss with an intercept has no minimum "
                "(their intercept goes to -inf). Drop their rows, give them a "
                "positive weight, or use loss='hinge' or fit_intercept=False."
            )

    def _class_sample_weight(self, classes, codes, backend):
        """Return the per-sample class weights, or None without ``class_weight``."""
        if self.class_weight is None:
            return None
        n_classes = classes.shape[0]
        if self.class_weight == "balanced":
            counts = _class_totals(codes, n_classes, backend)
            per_class = codes.shape[0] / (n_classes * np.maximum(counts, 1.0))
        else:
            per_class = np.ones(n_classes)
            known = {_label_key(c): i for i, c in enumerate(np.asarray(classes))}
            for label, value in self.class_weight.items():
                key = _label_key(label)
                if key not in known:
                    raise ValueError(
                        f"The class {label!r} of class_weight is not among the "
                        f"classes {np.asarray(classes)!r}."
                    )
                per_class[known[key]] = value
            # A negative weight makes the objective unbounded below and all-zero
            # weights leave nothing to fit: both gave a garbage model or an
            # unrelated overflow message.
            if not (np.all(np.isfinite(per_class)) and np.all(per_class >= 0)):
                raise ValueError(
                    "class_weight values must be finite and non-negative; got "
                    f"{self.class_weight!r}."
                )
            if not np.any(per_class > 0):
                raise ValueError(
                    f"class_weight gives every class a zero weight: "
                    f"{self.class_weight!r}."
                )
        return _take(per_class, codes, backend)

    # ------------------------------------------------------------- prediction
    def decision_function(self, X):
        """Return the linear predictions ``X @ coef_.T + intercept_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples, with the features seen in fit; a Dask array gives lazy
            scores.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            The logit of the second class for a binary problem; one score per
            class otherwise.
        """
        return self._decision(X, "decision_function")

    def _decision(self, X, method):
        """Return :meth:`decision_function` for the public ``method`` called."""
        scores = linear_predict(self, X, method)
        return scores[:, 0] if self.coef_.shape[0] == 1 else scores

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples to classify.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            The class of the largest score (of a positive logit for two classes).
        """
        scores = self._decision(X, "predict")
        if is_dask(scores):
            classes = np.asarray(self.classes_)

            def labels(block):
                if block.ndim == 1:
                    return classes[(block > 0).astype(np.intp)]
                return classes[np.argmax(block, axis=1)]

            return scores.map_blocks(
                labels, dtype=classes.dtype, drop_axis=list(range(1, scores.ndim))
            )
        xp = array_namespace(scores)
        if scores.ndim == 1:
            index = xp.astype(scores > 0, xp.int64)
        else:
            index = xp.argmax(scores, axis=1)
        if is_numpy_array(self.classes_):
            return self.classes_[np.asarray(index)]
        return xp.take(self.classes_, index, axis=0)

    def _has_proba(self):
        return self.loss in ("log_loss", "modified_huber")

    @available_if(_has_proba)
    def predict_proba(self, X):
        """Return class probabilities (``log_loss`` and ``modified_huber`` only).

        For ``log_loss``: the sigmoid of the logit (two classes) or the softmax of
        the scores. For ``modified_huber``: SGDClassifier's ``(clip(f, -1, 1) + 1) /
        2``, normalised over the one-vs-rest classes (uniform where all are 0).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples whose class probabilities are returned.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities, in the order of ``classes_``.
        """
        return self._proba(X, "predict_proba")

    def _proba(self, X, method):
        """Return :meth:`predict_proba` for the public ``method`` called."""
        scores = self._decision(X, method)
        xp = array_namespace(scores) if not is_dask(scores) else dask_namespace()
        if scores.ndim == 1:
            loss = CLASSIFIER_LOSSES[self.loss]()
            p = loss.inverse_link(scores)
            return xp.stack([1.0 - p, p], axis=1)
        if self.loss == "log_loss":
            return MultinomialLogLoss(n_classes=scores.shape[1]).inverse_link(scores)
        p = CLASSIFIER_LOSSES["modified_huber"]().inverse_link(scores)
        total = xp.sum(p, axis=1)[:, None]
        uniform = xp.ones_like(p) / p.shape[1]
        return xp.where(total > 0, p / xp.where(total > 0, total, 1.0), uniform)

    @available_if(_has_proba)
    def predict_log_proba(self, X):
        """Return the logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples whose log-probabilities are returned.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities, in the order of ``classes_``.
        """
        proba = self._proba(X, "predict_log_proba")
        xp = array_namespace(proba) if not is_dask(proba) else dask_namespace()
        # modified_huber gives probabilities of exactly 0, whose log is -inf.
        with np.errstate(divide="ignore"):
            return xp.log(proba)

    def __sklearn_tags__(self):
        """Declare sparse and Array API support."""
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.array_api_support = self.solver in ("auto", "gd", "newton")
        return tags


def _encode(y, classes=None):
    """Return the sorted classes and each label's index in them (float codes).

    numpy and Array API labels are coded in their namespace; Dask labels lazily,
    with the classes (a few values) computed.
    """
    if is_dask(y):
        y = _dask_column(y)
        labels = dask_unique(y)
        # The checks numpy labels get, on the distinct values (the same verdict:
        # finiteness and the type of target depend only on them).
        if labels.dtype.kind == "f":
            assert_all_finite(labels, input_name="y")
        check_classification_targets(labels)
        classes = labels if classes is None else np.asarray(classes)
        _check_known(labels, classes)
        codes = y.map_blocks(
            lambda block: np.searchsorted(classes, block).astype(np.float64),
            dtype=np.float64,
        )
        return classes, codes
    if is_numpy_array(y) or not is_array_api_obj(y):
        y = _column(y)
        if y.dtype.kind == "f":
            assert_all_finite(y, input_name="y")
        labels = _checked_labels(y)
        if classes is None:
            classes = labels  # (every label is known: no check)
        else:
            classes = np.asarray(classes)
            _check_known(labels, classes)
        return classes, np.searchsorted(classes, y).astype(np.float64)
    xp = array_namespace(y)
    if xp.isdtype(y.dtype, "real floating"):
        assert_all_finite(y, input_name="y")
    check_classification_targets(y)
    if classes is None:
        classes = xp.unique_values(y)
    return classes, xp.astype(xp.searchsorted(classes, y), xp.float64)


def _column(y):
    """Return ``column_or_1d(y, warn=True)``, at once for a plain 1-D numeric array.

    scikit-learn's check has nothing to convert, warn about or refuse in a
    C-contiguous 1-D numpy array of numbers; anything else goes through it.
    """
    if (
        type(y) is np.ndarray
        and y.ndim == 1
        and y.dtype.kind in "biuf"
        and y.flags.c_contiguous
    ):
        return y
    return column_or_1d(y, warn=True)


def _checked_labels(y):
    """Return the distinct labels of a 1-D ``y``, checked as classification targets.

    ``check_classification_targets`` (its ``type_of_target`` validates y again,
    twice) is most of the fixed cost of the labels; its verdict on a numpy ``y``
    of integers, booleans or strings is known: binary or multiclass, and on
    floats (finite by now) too where they are integers. It runs where it may
    refuse or warn: other floats and dtypes, no labels, or more distinct labels
    than half of more than 20 samples (its warning that y may be a regression
    target). Objects are checked before they are sorted, which could raise
    another error first.
    """
    kind = y.dtype.kind if type(y) is np.ndarray else "O"
    if kind not in "biufU":
        check_classification_targets(y)
        return np.unique(y)
    labels = np.unique(y)
    n, k = y.shape[0], labels.shape[0]
    with np.errstate(invalid="ignore"):  # (a float beyond int64: not integral)
        integral = kind != "f" or not np.any(
            labels != labels.astype(np.int64).astype(labels.dtype)
        )
    if not integral or n == 0 or (k > 2 and n > 20 and k > round(0.5 * n)):
        check_classification_targets(y)
    return labels


def _dask_column(y):
    """Return a Dask ``y`` as 1-D, as :func:`~sklearn.utils.column_or_1d` does numpy's.

    A column vector is raveled with scikit-learn's warning; a wider y is refused
    with its words.
    """
    if y.ndim == 2 and y.shape[1] == 1:
        warnings.warn(
            "A column-vector y was passed when a 1d array was expected. Please "
            "change the shape of y to (n_samples, ), for example using ravel().",
            DataConversionWarning,
            stacklevel=4,
        )
        return y[:, 0]
    if y.ndim != 1:
        raise ValueError(
            f"y should be a 1d array, got an array of shape {y.shape} instead."
        )
    return y


def _like_x(y, X):
    """Return ``y`` in X's Array API namespace and device, as sklearn's estimators do.

    Only under ``array_api_dispatch`` and for a non-numpy X: the labels then live
    where the data does, and so do ``classes_`` and the predictions.
    """
    if (
        not get_config().get("array_api_dispatch", False)
        or is_dask(X)
        or is_numpy_array(X)
        or not is_array_api_obj(X)
    ):
        return y
    xp = array_namespace(X)
    kind = getattr(getattr(y, "dtype", None), "kind", None)
    if kind is None and not is_array_api_obj(y):
        kind = np.asarray(y).dtype.kind
    if kind in ("U", "S", "O"):
        raise ValueError(
            f"The labels are strings or objects, which X's namespace "
            f"({xp.__name__}) cannot hold: encode them as integers first (e.g. "
            "with sklearn.preprocessing.LabelEncoder), or fit on numpy X."
        )
    return xp.asarray(y, device=device(X))


def _check_known(labels, classes):
    """Raise if some labels are not among ``classes``."""
    unknown = np.setdiff1d(labels, classes)
    if unknown.size:
        raise ValueError(
            f"The labels {unknown!r} are not among the classes {classes!r} given "
            "on the first call to partial_fit."
        )


def _check_init(coef_init, intercept_init, n_classes, n_features):
    """Raise SGDClassifier's errors for starting values of the wrong shape.

    One row per class, or one row for two classes (also as a vector); as many
    intercepts as rows (a scalar for two classes).
    """
    rows = 1 if n_classes == 2 else n_classes
    if coef_init is not None:
        shape = np.shape(coef_init)
        if shape != (rows, n_features) and not (rows == 1 and shape == (n_features,)):
            raise ValueError(
                f"Provided coef_init does not match dataset: its shape is {shape}, "
                f"expected ({rows}, {n_features})."
            )
    if intercept_init is not None and np.size(intercept_init) != rows:
        raise ValueError(
            "Provided intercept_init does not match dataset: its shape is "
            f"{np.shape(intercept_init)}, expected ({rows},)."
        )


def _same(a, b):
    """Return whether two class arrays hold the same labels."""
    if a is None or b is None:
        return False
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and bool(np.all(a == b))


def _label_key(label):
    """Return a hashable key under which numpy and Python labels compare equal."""
    return label.item() if hasattr(label, "item") else label


def _class_totals(codes, n_classes, backend, weight=None):
    """Return each class's number of samples (``weight``: total weight), in numpy."""
    xp = backend.xp
    onehot = xp.astype(
        codes[:, None]
        == xp.arange(n_classes, dtype=codes.dtype, device=backend.device)[None, :],
        codes.dtype if weight is None else weight.dtype,
    )
    if weight is not None:
        onehot = onehot * weight[:, None]
    return np.asarray(backend.to_coef(xp.sum(onehot, axis=0)), dtype=float)


def _one_vs_rest(codes, n_classes, backend):
    """Return the ``(n_samples, n_classes)`` targets, +1 for the class, -1 else."""
    xp = backend.xp
    classes = xp.arange(n_classes, dtype=codes.dtype, device=backend.device)
    return 2.0 * xp.astype(codes[:, None] == classes[None, :], codes.dtype) - 1.0


def _take(per_class, codes, backend):
    """Return ``per_class[codes]`` in the codes' kind and dtype."""
    if is_dask(codes):
        table = np.asarray(per_class, dtype=codes.dtype)
        return codes.map_blocks(
            lambda block: table[block.astype(np.intp)], dtype=codes.dtype
        )
    xp = backend.xp
    table = xp.asarray(per_class, dtype=codes.dtype, device=backend.device)
    return xp.take(table, xp.astype(codes, xp.int64), axis=0)
