# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""ONNX export of skgd's estimators through skl2onnx (extra ``onnx``).

It holds the shape calculators and converters (``X @ coef_.T + intercept_`` as one
MatMul and one Add, then for the classifier its labels and probabilities) and the
public registration function. ``import skgd`` never imports skl2onnx and installs no
import hook; it registers the converters only if skl2onnx is already loaded, which
changes nothing but skl2onnx's registry. Otherwise :func:`register_onnx_converter`
does it (skl2onnx has no entry points through which it could find third-party
converters by itself).
"""

import sys
import warnings

import numpy as np

from skgd.losses import LOSSES

_ALIAS = "SkgdGDRegressor"
_CLASSIFIER_ALIAS = "SkgdGDClassifier"
_CV_ALIAS = "SkgdGDRegressorCV"
# The options of skl2onnx's own linear classifiers. Declaring "zipmap" also makes
# skl2onnx parse the model as a classifier: outputs "label" and "probabilities",
# followed by a ZipMap unless ``options={"zipmap": False}``.
_CLASSIFIER_OPTIONS = {
    "zipmap": [True, False, "columns"],
    "nocl": [True, False],
    "output_class_labels": [False, True],
    "raw_scores": [True, False],
}


def register_onnx_converter():
    """Register the ONNX converters of skgd's estimators with skl2onnx.

    Afterwards :func:`skl2onnx.to_onnx` converts a fitted
    :class:`~skgd.GDRegressor`, :class:`~skgd.GDRegressorCV` or
    :class:`~skgd.GDClassifier`, alone or inside a
    :class:`~sklearn.pipeline.Pipeline`, into an ONNX graph, in the input's float32
    or float64 precision (other input types are cast to float32).

    - :class:`~skgd.GDRegressor` becomes ``X @ coef_.T + intercept_`` (one
      ``MatMul`` and one ``Add``; then ``Exp`` for ``loss="poisson"``,
      ``"gamma"`` and ``"tweedie"``, the inverse of their log link), with output
      shape ``(n_samples, n_targets)``
      (``n_targets = 1`` for a model fitted on 1-D ``y``), as for scikit-learn's
      linear regressors; so does :class:`~skgd.GDRegressorCV`, its refitted
      model (as skl2onnx converts ElasticNetCV).
    - :class:`~skgd.GDClassifier` has the two outputs of skl2onnx's linear
      classifiers: ``label`` (int64 for integer labels, string for string
      labels), as :meth:`~skgd.GDClassifier.predict`, and ``probabilities`` of
      shape ``(n_samples, n_classes)``, as
      :meth:`~skgd.GDClassifier.predict_proba`. With ``loss="hinge"``, which has
      no probabilities, the second output holds the decision scores, ``[-f, f]``
      for two classes, as skl2onnx does for
      :class:`~sklearn.linear_model.SGDClassifier`. skl2onnx's classifier options
      apply: ``zipmap`` (a list of dicts by default; ``False`` for a plain
      tensor), ``raw_scores`` (scores instead of probabilities), ``nocl`` and
      ``output_class_labels``.

    Call it once per process, before the first conversion (``import skgd`` calls
    it only when skl2onnx was imported first). Without it,
    :func:`skl2onnx.to_onnx` raises skl2onnx's ``MissingShapeCalculator``
    ("Unable to find a shape calculator for type GDRegressor"). Calling it again
    is harmless.

    Raises
    ------
    ImportError
        If skl2onnx is not installed; install the extra with
        ``pip install "skgd[onnx]"``.

    See Also
    --------
    skl2onnx.update_registered_converter : The skl2onnx API used here.

    Examples
    --------
    >>> import numpy as np
    >>> from skl2onnx import to_onnx
    >>> from onnxruntime import InferenceSession
    >>> from skgd import GDClassifier, GDRegressor, register_onnx_converter
    >>> register_onnx_converter()
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.0]])
    >>> y = X @ [2.0, -1.0] + 0.5
    >>> reg = GDRegressor(penalty=None, tol=1e-10).fit(X, y)
    >>> onx = to_onnx(reg, X[:1].astype(np.float32))
    >>> sess = InferenceSession(
    ...     onx.SerializeToString(), providers=["CPUExecutionProvider"]
    ... )
    >>> sess.run(None, {"X": X.astype(np.float32)})[0].round(3).ravel()
    array([-0.5,  2.5,  3.5,  6.5], dtype=float32)

    A classifier, with probabilities as a plain tensor rather than a ZipMap:

    >>> clf = GDClassifier(alpha=0.1).fit(X, ["no", "no", "yes", "yes"])
    >>> onx = to_onnx(clf, X[:1].astype(np.float32), options={"zipmap": False})
    >>> sess = InferenceSession(
    ...     onx.SerializeToString(), providers=["CPUExecutionProvider"]
    ... )
    >>> label, proba = sess.run(None, {"X": X.astype(np.float32)})
    >>> label
    array(['no', 'no', 'yes', 'yes'], dtype=object)
    >>> bool(np.allclose(proba, clf.predict_proba(X), rtol=1e-5))
    True
    """
    try:
        from skl2onnx import update_registered_converter
    except ImportError as exc:
        raise ImportError(
            "ONNX export needs skl2onnx (and onnxruntime to run the models): "
            'install the extra with `pip install "skgd[onnx]"`.'
        ) from exc

    from skgd._classifier import GDClassifier
    from skgd._cv import GDRegressorCV
    from skgd._estimator import GDRegressor

    for model, alias in ((GDRegressor, _ALIAS), (GDRegressorCV, _CV_ALIAS)):
        update_registered_converter(
            model, alias, _shape_calculator, _converter, overwrite=True
        )
    update_registered_converter(
        GDClassifier,
        _CLASSIFIER_ALIAS,
        _classifier_shape_calculator,
        _classifier_converter,
        overwrite=True,
        options=_CLASSIFIER_OPTIONS,
    )


def _coef(model, dtype=None):
    """Return ``coef_`` as a numpy array (densified after ``sparsify()``)."""
    coef = model.coef_
    coef = coef.toarray().reshape(coef.shape) if hasattr(coef, "toarray") else coef
    return np.asarray(coef, dtype=dtype)


def _n_targets(model):
    """Return the number of targets of a fitted linear model."""
    coef = _coef(model)
    return 1 if coef.ndim == 1 else coef.shape[0]


def _shape_calculator(operator):
    """Set the output type: a (N, n_targets) tensor of the input's float type."""
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType

    if len(operator.inputs) != 1 or len(operator.outputs) != 1:
        raise RuntimeError(
            "GDRegressor's ONNX converter expects one input, one output."
        )
    input_type = operator.inputs[0].type
    n_rows = input_type.shape[0] if input_type.shape else None
    out_cls = DoubleTensorType if isinstance(input_type, DoubleTensorType) else None
    out_cls = out_cls or FloatTensorType
    operator.outputs[0].type = out_cls([n_rows, _n_targets(operator.raw_operator)])


def _float_input(scope, operator, container):
    """Return the input's name, cast to float32 unless it is float32 or float64.

    Also returns the ONNX element type and numpy dtype the graph computes in.
    """
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType
    from skl2onnx.proto import onnx_proto

    x_var = operator.inputs[0]
    if isinstance(x_var.type, DoubleTensorType):
        proto, dtype = onnx_proto.TensorProto.DOUBLE, np.float64
    else:
        proto, dtype = onnx_proto.TensorProto.FLOAT, np.float32
    x_name = x_var.full_name
    if not isinstance(x_var.type, (FloatTensorType, DoubleTensorType)):
        x_name = scope.get_unique_variable_name("cast_input")
        container.add_node(
            "Cast",
            x_var.full_name,
            x_name,
            name=scope.get_unique_operator_name("Cast"),
            to=proto,
        )
    return x_name, proto, dtype


def _constant(scope, container, name, proto, value):
    """Add ``value`` (a numpy array) as an initializer; return its name."""
    value = np.asarray(value)
    unique = scope.get_unique_variable_name(name)
    container.add_initializer(unique, proto, value.shape, value.ravel().tolist())
    return unique


def _node(scope, container, op_type, inputs, output=None, **attrs):
    """Add one node of a default-domain op; return its output's name."""
    output = output or scope.get_unique_variable_name(op_type.lower())
    container.add_node(
        op_type, inputs, output, name=scope.get_unique_operator_name(op_type), **attrs
    )
    return output


def _affine(scope, container, x_name, coef, intercept, proto, output=None):
    """Write ``X @ coef + intercept`` (``coef`` of shape (p, k)) as MatMul, Add."""
    coef_name = _constant(scope, container, "coef", proto, coef)
    intercept_name = _constant(scope, container, "intercept", proto, intercept)
    product = _node(scope, container, "MatMul", [x_name, coef_name])
    return _node(scope, container, "Add", [product, intercept_name], output)


def _converter(scope, operator, container):
    """Write ``X @ coef_.T + intercept_`` as MatMul then Add (then Exp: log link)."""
    model = operator.raw_operator
    x_name, proto, dtype = _float_input(scope, operator, container)
    n_targets = _n_targets(model)
    coef = _coef(model, dtype).reshape(n_targets, -1).T
    intercept = np.asarray(model.intercept_, dtype=dtype).reshape(-1)
    intercept = np.broadcast_to(intercept, (n_targets,))
    output = operator.outputs[0].full_name
    # The deviance losses predict exp(X @ coef_.T + intercept_): their log link
    # (a name or a Loss instance).
    loss = getattr(model, "loss", None)
    loss = LOSSES.get(loss) if isinstance(loss, str) else loss
    log_link = getattr(loss, "link", None) == "log"
    raw = _affine(
        scope, container, x_name, coef, intercept, proto, None if log_link else output
    )
    if log_link:
        _node(scope, container, "Exp", [raw], output)


# ----------------------------------------------------------------- classifier
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _onnx_labels(classes):
    """Return the classes as skl2onnx's classifiers output them, and their type.

    Strings stay strings; integers, booleans and integral floats become int64 (as
    in skl2onnx, whose ZipMap and label outputs know no other types).
    """
    from skl2onnx.proto import onnx_proto

    classes = np.asarray(classes)
    if all(isinstance(c, str) for c in classes.tolist()):
        return classes.astype(str), onnx_proto.TensorProto.STRING
    values = classes.tolist()
    if all(isinstance(c, (int, float, bool)) for c in values) and all(
        float(c).is_integer() for c in values
    ):
        if not all(_INT64_MIN <= int(c) <= _INT64_MAX for c in values):
            # astype would wrap them (2**63 + 5 to a negative label) without a word.
            raise RuntimeError(
                "GDClassifier's ONNX converter outputs int64 labels, as skl2onnx's "
                f"classifiers do; classes_={classes!r} holds labels outside int64's "
                "range. Encode them (e.g. with sklearn.preprocessing.LabelEncoder) "
                "before fitting."
            )
        return classes.astype(np.int64), onnx_proto.TensorProto.INT64
    raise RuntimeError(
        "GDClassifier's ONNX converter needs integer or string class labels, as "
        f"skl2onnx's classifiers do; got classes_={classes!r}."
    )


def _classifier_shape_calculator(operator):
    """Set skl2onnx's linear-classifier outputs: labels (N,), scores (N, K)."""
    from skl2onnx.common.shape_calculator import (
        calculate_linear_classifier_output_shapes,
    )
    from skl2onnx.common.utils_classifier import get_label_classes

    # Fail here, with a message that says why, rather than deep in skl2onnx.
    _onnx_labels(get_label_classes(operator.scope_inst, operator.raw_operator))
    calculate_linear_classifier_output_shapes(operator)


def _classifier_converter(scope, operator, container):
    """Write GDClassifier's scores, labels and probabilities.

    Binary models have one score ``f`` per row; it is widened to ``[-f, f]`` so that
    the label is the ArgMax of two columns whatever the loss (ties go to the first
    class, as ``predict``'s ``f > 0`` does) and the second output has one column per
    class, as skl2onnx's linear classifiers have.
    """
    from skl2onnx.common.utils_classifier import get_label_classes
    from skl2onnx.proto import onnx_proto

    model = operator.raw_operator
    x_name, proto, dtype = _float_input(scope, operator, container)
    coef = _coef(model, dtype)
    intercept = np.asarray(model.intercept_, dtype=dtype).reshape(-1)
    scores = _affine(scope, container, x_name, coef.T, intercept, proto)
    binary = coef.shape[0] == 1
    if binary:
        negated = _node(scope, container, "Neg", [scores])
        scores = _node(scope, container, "Concat", [negated, scores], axis=1)

    # Labels come from the scores, as in predict: for modified_huber the clipped
    # probabilities can tie where the scores do not.
    index = _node(scope, container, "ArgMax", [scores], axis=1, keepdims=0)
    classes, label_proto = _onnx_labels(get_label_classes(scope, model))
    classes_name = scope.get_unique_variable_name("classes")
    container.add_initializer(
        classes_name,
        label_proto,
        classes.shape,
        [c.encode("utf-8") for c in classes.tolist()]
        if label_proto == onnx_proto.TensorProto.STRING
        else classes.tolist(),
    )
    _node(
        scope,
        container,
        "Gather",
        [classes_name, index],
        operator.outputs[0].full_name,
        axis=0,
    )

    proba_name = operator.outputs[1].full_name
    raw_scores = container.get_options(model, dict(raw_scores=False))["raw_scores"]
    if raw_scores or model.loss == "hinge":
        _node(scope, container, "Identity", [scores], proba_name)
    elif model.loss == "log_loss":
        # softmax([-f/2, f/2]) is [sigmoid(-f), sigmoid(f)], each with its own
        # relative accuracy (1 - sigmoid(f) would lose it as f grows).
        if binary:
            half = _constant(scope, container, "half", proto, np.array(0.5, dtype))
            scores = _node(scope, container, "Mul", [scores, half])
        _node(scope, container, "Softmax", [scores], proba_name, axis=1)
    else:
        n_classes = 2 if binary else coef.shape[0]
        _modified_huber_proba(
            scope, container, scores, n_classes, proba_name, proto, dtype
        )


def _modified_huber_proba(scope, container, scores, n_classes, output, proto, dtype):
    """Write ``(clip(f, -1, 1) + 1) / 2``, normalised per row, uniform if all zero.

    Min/Max, MatMul for the row sums and Cast for the zero test: ops whose
    signatures are the same at every opset skl2onnx targets.
    """
    from skl2onnx.proto import onnx_proto

    one = _constant(scope, container, "one", proto, np.array(1.0, dtype))
    minus_one = _constant(scope, container, "minus_one", proto, np.array(-1.0, dtype))
    half = _constant(scope, container, "half", proto, np.array(0.5, dtype))
    clipped = _node(
        scope,
        container,
        "Min",
        [_node(scope, container, "Max", [scores, minus_one]), one],
    )
    proba = _node(
        scope, container, "Mul", [_node(scope, container, "Add", [clipped, one]), half]
    )
    # Rows of all zeros (every score <= -1) get 1 / K, as predict_proba does:
    # add 1 to each entry of those rows before normalising.
    ones = _constant(scope, container, "ones", proto, np.ones((n_classes, 1), dtype))
    k = _constant(scope, container, "n_classes", proto, np.array(n_classes, dtype))
    total = _node(scope, container, "MatMul", [proba, ones])
    nonzero = _node(scope, container, "Cast", [total], to=onnx_proto.TensorProto.BOOL)
    zero = _node(
        scope,
        container,
        "Cast",
        [_node(scope, container, "Not", [nonzero])],
        to=proto,
    )
    proba = _node(scope, container, "Add", [proba, zero])
    total = _node(
        scope,
        container,
        "Add",
        [total, _node(scope, container, "Mul", [zero, k])],
    )
    _node(scope, container, "Div", [proba, total], output)


def _register_if_skl2onnx_loaded():
    """Register now if skl2onnx is already imported; otherwise do nothing.

    Called by ``import skgd``: it imports nothing and hooks nothing. A failure to
    register (an incompatible skl2onnx, say) warns rather than break the import.
    """
    if sys.modules.get("skl2onnx") is None:  # None: an import blocked on purpose
        return
    try:
        register_onnx_converter()
    except Exception as exc:
        warnings.warn(
            f"skgd could not register its ONNX converter with skl2onnx ({exc!r}); "
            "call skgd.register_onnx_converter() to see the full error.",
            UserWarning,
            stacklevel=2,
        )
