# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""ONNX export of GDRegressor through skl2onnx (the optional extra ``onnx``).

It holds the shape calculator and converter (``X @ coef_.T + intercept_`` as one
MatMul and one Add), the public registration function, and a post-import hook that
registers them as soon as skl2onnx is imported. It never imports skl2onnx itself at
``import skgd`` time, which would add half a second to every import.
"""

import sys
import warnings

import numpy as np

_ALIAS = "SkgdGDRegressor"
_registered = False


def register_onnx_converter():
    """Register GDRegressor's ONNX converter with skl2onnx.

    Afterwards :func:`skl2onnx.to_onnx` converts a fitted
    :class:`~skgd.GDRegressor`, alone or inside a
    :class:`~sklearn.pipeline.Pipeline`, into an ONNX graph computing
    ``X @ coef_.T + intercept_`` (one ``MatMul`` and one ``Add``, in the input's
    float32 or float64 precision; other input types are cast to float32). The
    output has shape ``(n_samples, n_targets)``, with ``n_targets = 1`` for a model
    fitted on 1-D ``y``, as for scikit-learn's linear regressors.

    ``import skgd`` already arranges for this call to happen as soon as skl2onnx is
    imported, so calling it yourself is only needed if that automatic registration
    was bypassed (for instance after skl2onnx's registry was reset). Calling it
    again is harmless.

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
    >>> from skgd import GDRegressor, register_onnx_converter
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
    """
    global _registered
    try:
        from skl2onnx import update_registered_converter
    except ImportError as exc:
        raise ImportError(
            "ONNX export needs skl2onnx (and onnxruntime to run the models): "
            'install the extra with `pip install "skgd[onnx]"`.'
        ) from exc

    from skgd._estimator import GDRegressor

    update_registered_converter(
        GDRegressor, _ALIAS, _shape_calculator, _converter, overwrite=True
    )
    _registered = True


def _n_targets(model):
    """Return the number of targets of a fitted linear model."""
    coef = np.asarray(model.coef_)
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


def _converter(scope, operator, container):
    """Write ``X @ coef_.T + intercept_`` as MatMul then Add."""
    from skl2onnx.common.data_types import (
        DoubleTensorType,
        FloatTensorType,
        guess_proto_type,
    )

    model = operator.raw_operator
    x_var, out_var = operator.inputs[0], operator.outputs[0]
    proto = guess_proto_type(out_var.type)
    dtype = np.float64 if isinstance(out_var.type, DoubleTensorType) else np.float32

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

    n_targets = _n_targets(model)
    coef = np.asarray(model.coef_, dtype=dtype).reshape(n_targets, -1).T
    intercept = np.asarray(model.intercept_, dtype=dtype).reshape(-1)
    intercept = np.broadcast_to(intercept, (n_targets,))

    coef_name = scope.get_unique_variable_name("coef")
    container.add_initializer(coef_name, proto, coef.shape, coef.ravel().tolist())
    intercept_name = scope.get_unique_variable_name("intercept")
    container.add_initializer(
        intercept_name, proto, intercept.shape, intercept.ravel().tolist()
    )
    product = scope.get_unique_variable_name("product")
    container.add_node(
        "MatMul",
        [x_name, coef_name],
        product,
        name=scope.get_unique_operator_name("MatMul"),
    )
    container.add_node(
        "Add",
        [product, intercept_name],
        out_var.full_name,
        name=scope.get_unique_operator_name("Add"),
    )


def _register_quietly():
    """Register after skl2onnx was imported; warn rather than break that import."""
    try:
        register_onnx_converter()
    except Exception as exc:  # never break the user's `import skl2onnx`
        warnings.warn(
            f"skgd could not register its ONNX converter with skl2onnx ({exc!r}); "
            "call skgd.register_onnx_converter() to see the full error.",
            UserWarning,
            stacklevel=2,
        )


class _Skl2onnxImportHook:
    """A one-shot ``sys.meta_path`` finder that registers once skl2onnx is imported.

    It finds nothing itself: for the name ``skl2onnx`` it removes itself, asks the
    remaining finders for the real spec and wraps that spec's loader so that the
    converter is registered right after skl2onnx's ``__init__`` has run.
    """

    def find_spec(self, fullname, path=None, target=None):
        """Return the real spec of skl2onnx, with registration attached."""
        if fullname != "skl2onnx":
            return None
        _uninstall_import_hook()
        for finder in sys.meta_path:
            find_spec = getattr(finder, "find_spec", None)
            spec = None if find_spec is None else find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        exec_module = getattr(loader, "exec_module", None)
        if exec_module is None:
            return spec

        def exec_then_register(module):
            exec_module(module)
            _register_quietly()

        # Loaders are created per spec by the path finders, so patching this one
        # instance changes nothing else; its class (and resource readers) stay.
        loader.exec_module = exec_then_register
        return spec


def _uninstall_import_hook():
    """Remove every skgd import hook from ``sys.meta_path``."""
    sys.meta_path[:] = [
        f for f in sys.meta_path if not isinstance(f, _Skl2onnxImportHook)
    ]


def _register_when_skl2onnx_imported():
    """Register now if skl2onnx is loaded, else as soon as it is imported.

    Called by ``import skgd``. It costs nothing measurable: skl2onnx is never
    imported here.
    """
    if _registered:
        return
    if sys.modules.get("skl2onnx") is not None:  # None: import blocked on purpose
        _register_quietly()
        return
    if not any(isinstance(f, _Skl2onnxImportHook) for f in sys.meta_path):
        sys.meta_path.insert(0, _Skl2onnxImportHook())
