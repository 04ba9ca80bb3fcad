# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""``array_namespace`` with a fast path for plain numpy arrays.

The losses, penalties and duality gaps look up the namespace of their arguments on
every call: array-api-compat's lookup inspects each argument's type (about 1 us a
call, dozens of calls per Newton step on small data), while numpy arrays, the
common case, always get ``array_api_compat.numpy``. This module returns it at once
for them, as a copy whose costliest wrappers (``clip``, ``zeros_like``,
``ones_like``, ``astype``, ``finfo``: 1-15 us each, a few times numpy's own) call
numpy directly where the result is the same, and whose reductions (``sum``,
``max``, ``any``, ``all``) call a numpy array's own methods; it hands every other
input to array-api-compat. Two helpers of the working sets' vectors count a
mask's entries and change a vector on another one's support, by numpy's own
means on numpy arrays.
"""

import sys
import types

import numpy as np
from array_api_compat import array_namespace as _array_namespace
from array_api_compat import numpy as np_compat

__all__ = ["array_namespace", "total", "largest", "count_true", "on_support"]


def _clip(x, /, min=None, max=None, **kwargs):
    """``array_api_compat.numpy.clip``, directly for floats and scalar bounds.

    The wrapper casts the bounds to ``x``'s dtype, broadcasts them and clips
    into a new array; ``np.clip`` with the bounds cast to scalars of that dtype
    gives the same values and dtype.
    """
    scalars = (min is None or isinstance(min, _SCALARS)) and (
        max is None or isinstance(max, _SCALARS)
    )
    if (
        not (type(x) is np.ndarray or isinstance(x, np.floating))
        or x.dtype.kind != "f"
        or kwargs
        or not scalars
        or (min is None and max is None)
    ):
        return np_compat.clip(x, min, max, **kwargs)
    cast = x.dtype.type
    if min is not None and max is not None:
        # (The ufunc that np.clip calls for two bounds, less its two Python
        # layers: a third of its time on a vector of the coefficients' size.)
        return _clip_ufunc(x, cast(min), cast(max))
    return np.clip(
        x, None if min is None else cast(min), None if max is None else cast(max)
    )


def _zeros_like(x, /, *, dtype=None, device=None, **kwargs):
    """``array_api_compat.numpy.zeros_like``, without its device check on the CPU."""
    if device is not None:
        return np_compat.zeros_like(x, dtype=dtype, device=device, **kwargs)
    return np.zeros_like(x, dtype=dtype, **kwargs)


def _ones_like(x, /, *, dtype=None, device=None, **kwargs):
    """``array_api_compat.numpy.ones_like``, without its device check on the CPU."""
    if device is not None:
        return np_compat.ones_like(x, dtype=dtype, device=device, **kwargs)
    return np.ones_like(x, dtype=dtype, **kwargs)


def _astype(x, dtype, /, *, copy=True, device=None):
    """``array_api_compat.numpy.astype``, without its device check on the CPU."""
    if device is not None:
        return np_compat.astype(x, dtype, copy=copy, device=device)
    return x.astype(dtype=dtype, copy=copy)


def _finfo(type_, /):
    """``array_api_compat.numpy.finfo`` (a dtype or an array), less its wrapper."""
    try:
        return np.finfo(type_)
    except (ValueError, TypeError):
        return np.finfo(type_.dtype)


def _reduction(name):
    """Return ``array_api_compat.numpy``'s reduction ``name``, less its dispatch.

    A numpy array of floats or booleans reduced with the default dtype and
    shape calls the array's own method: numpy's functions dispatch to it, which
    costs as much as the reduction of a few hundred numbers.
    """
    compat = getattr(np_compat, name)

    def reduce(x, /, *, axis=None, keepdims=False, **kwargs):
        if type(x) is np.ndarray and x.dtype.kind in "fb" and not (keepdims or kwargs):
            return getattr(x, name)(axis=axis)
        return compat(x, axis=axis, keepdims=keepdims, **kwargs)

    reduce.__name__ = reduce.__qualname__ = f"_{name}"
    reduce.__doc__ = f"``array_api_compat.numpy.{name}``, directly on numpy arrays."
    return reduce


_SCALARS = (int, float, np.integer, np.floating)
# The shortest vectors that on_support changes on their support alone: on
# 2,000 entries (40 nonzero) that took 6.0 us against 9.1 us for the whole
# vectors' operations, on 500 the same, on 50 a microsecond more.
_SUPPORT_MIN = 512
# numpy's clip ufunc (numpy._core from numpy 2, numpy.core before); it is not
# public, so a numpy without it gets np.clip itself (the same values).
_clip_ufunc = getattr(
    getattr(getattr(np, "_core", None) or getattr(np, "core", None), "umath", None),
    "clip",
    np.clip,
)

# array_api_compat.numpy with those functions replaced (its name is kept:
# is_numpy_namespace and the doctests recognise it).
_np_fast = types.ModuleType(np_compat.__name__, np_compat.__doc__)
_np_fast.__dict__.update(vars(np_compat))
_np_fast.__dict__.update(
    clip=_clip,
    zeros_like=_zeros_like,
    ones_like=_ones_like,
    astype=_astype,
    finfo=_finfo,
    sum=_reduction("sum"),
    max=_reduction("max"),
    any=_reduction("any"),
    all=_reduction("all"),
)


def array_namespace(*arrays):
    """Return the Array API namespace of ``arrays``, as array-api-compat does.

    Parameters
    ----------
    *arrays : arrays
        Arrays (and Python scalars, which array-api-compat skips).

    Returns
    -------
    xp : module
        ``array_api_compat.numpy`` for numpy arrays and scalars (a copy with a
        few of its wrappers replaced by numpy's functions); otherwise
        whatever :func:`array_api_compat.array_namespace` returns (or raises).

    Examples
    --------
    >>> import numpy as np
    >>> from skgd._backend._namespace import array_namespace
    >>> array_namespace(np.ones(2), np.float64(1.0)).__name__
    'array_api_compat.numpy'
    """
    # (With JAX imported, a numpy array may be one of its zero-gradient arrays,
    # which array-api-compat maps to JAX: then it decides.)
    if arrays and "jax" not in sys.modules:
        for a in arrays:
            if type(a) is not np.ndarray and not isinstance(a, np.generic):
                break
        else:
            return _np_fast
    return _array_namespace(*arrays)


def total(xp, a):
    """Return ``xp.sum(a)``: by the array's own method for a numpy array.

    The same reduction (``np.add.reduce``) without ``np.sum``'s dispatch, which
    costs more than the sum of a few hundred numbers: the objective's value and
    the duality gaps take several on every step of a small fit.
    """
    return a.sum() if type(a) is np.ndarray else xp.sum(a)


def largest(xp, a):
    """Return ``xp.max(a)``: by the array's own method for a numpy array."""
    return a.max() if type(a) is np.ndarray else xp.max(a)


def count_true(xp, mask):
    """Return the number of True entries of the boolean ``mask`` as an int.

    ``np.count_nonzero`` on a numpy array, where the sum of the mask cast to
    integers made a copy first.
    """
    if type(mask) is np.ndarray:
        return int(np.count_nonzero(mask))
    return int(xp.sum(xp.astype(mask, xp.int64)))


def on_support(xp, w, f, other):
    """Return ``xp.where(w != 0, f(w), other)`` for an elementwise ``f``.

    ``other`` is a new array of the caller's, which may be overwritten. On numpy
    vectors of one shape and dtype, ``f`` is applied to ``w``'s nonzero entries
    alone and written into ``other``: the same values, where on a wide path's
    vectors (2,000 features, tens of them nonzero) ``f``, the comparison and
    ``where`` over all of them took a third of a duality gap's rounding step
    (from :data:`_SUPPORT_MIN` entries: below, the vectors' own operations).
    """
    if (
        type(w) is np.ndarray
        and type(other) is np.ndarray
        and w.ndim == 1
        and w.shape[0] >= _SUPPORT_MIN
        and other.shape == w.shape
        and other.dtype == w.dtype
    ):
        (support,) = np.nonzero(w != 0)  # (a mask: 3x faster than of floats)
        other[support] = f(w[support])
        return other
    return xp.where(w != 0, f(w), other)
