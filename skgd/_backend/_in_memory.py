# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""What the dense and the sparse backends share: X and its vectors are in memory.

Their vectors are concrete arrays, so there is nothing to persist, the whole of X is
one row block, and a 0-d array becomes a float at once. Dask's backend, whose arrays
are lazy and chunked, implements these methods its own way.
"""


class InMemoryBackend:
    """The :class:`~skgd._backend.Backend` methods of backends whose X is in memory.

    A subclass provides ``xp`` and ``rmatvec``.
    """

    def rmatvec_sum(self, X, r):
        """Return ``(X.T @ r, sum(r))`` (column sums of a 2-D ``r``)."""
        if r.ndim == 2:
            return self.rmatvec(X, r), self.xp.sum(r, axis=0)
        return self.rmatvec(X, r), float(self.xp.sum(r))

    def persist(self, *vectors):
        """Return ``vectors``: they are already in memory."""
        return vectors

    def reduce_rows(self, fn, X, *vectors):
        """Return ``fn(self, X, *vectors)``: the whole of X is one row block."""
        return fn(self, X, *vectors)

    def to_float(self, x):
        """Return a Python float."""
        return float(x)

    def to_floats(self, *xs):
        """Return Python floats."""
        return [float(x) for x in xs]
