# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""``array_namespace`` with a fast path for plain numpy arrays.

The losses, penalties and duality gaps look up the namespace of their arguments on
every call: array-api-compat's lookup inspects each argument's type (about 1 us a
call, dozens of calls per Newton step on small data), while numpy arrays, the
common case, always get ``array_api_compat.numpy``. This module returns it at once
for them and hands every other input to array-api-compat.
"""

import sys

import numpy as np
from array_api_compat import array_namespace as _array_namespace
from array_api_compat import numpy as np_compat

__all__ = ["array_namespace"]


def array_namespace(*arrays):
    """Return the Array API namespace of ``arrays``, as array-api-compat does.

    Parameters
    ----------
    *arrays : arrays
        Arrays (and Python scalars, which array-api-compat skips).

    Returns
    -------
    xp : module
        ``array_api_compat.numpy`` for numpy arrays and scalars; otherwise
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
            return np_compat
    return _array_namespace(*arrays)
