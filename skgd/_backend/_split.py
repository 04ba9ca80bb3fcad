# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Tasks of a serial fit shared with a helper thread while a core is idle.

A fit that :func:`skgd._backend._threads.fit_threads` holds to one BLAS thread
(:func:`serial_limit` marks it) leaves a second core unused on an idle machine.
:func:`shared` runs a list of independent tasks on the calling thread and, when
a core is idle at that moment (:func:`idle_core`), on one helper thread too:
each task is claimed by whichever thread reaches it first, and the caller never
waits for a task that has not started (it then takes it itself); only a task
under way is waited for. Each task computes the same bits whoever runs it, so
the results do not depend on the threads. Its users:

- :func:`halves`, two fixed halves of a loop over row blocks: the weighted Gram
  matrices of the Newton solver (benchmark case 13: 5,000 x 100, 2.2 ms each,
  11 of a fit's 16 ms) and of the Gram form, which the caller adds in one order;
- the folds of :class:`~skgd.GDRegressorCV` (benchmark case 7: five paths of
  30 alphas on 8,000 x 50), whose compiled coordinate descent and BLAS calls
  release the GIL.

Under load (another runnable task on every core) nothing changes: a BLAS call
split across threads that the scheduler interleaves with other processes waits
for the slowest (see ``_threads``), which is why these fits run on one thread;
the helper also stops taking tasks once the cores are busy.
"""

import contextlib
import os
import threading

# Fits under the one-thread limit of fit_threads now (a count: nested fits).
_SERIAL = [0]
# Calls of shared whose helper runs now: a call nested in one of their tasks
# runs on its caller alone (one helper at a time, on a machine of two cores).
_SHARING = [0]


@contextlib.contextmanager
def serial_limit(limit):
    """Enter ``limit`` (the one-thread BLAS limit) and mark the fit as serial."""
    with limit:
        _SERIAL[0] += 1
        try:
            yield
        finally:
            _SERIAL[0] -= 1


def _cpus():
    """Return the number of CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # (not Linux)
        return os.cpu_count() or 1


def idle_core():
    """Return whether a CPU is idle for one more thread of this process (Linux).

    The fourth field of ``/proc/loadavg`` counts the tasks runnable at this
    instant, the caller included: fewer than the process's CPUs leaves one idle.
    Reading it costs about 7 us (the os calls; Python's ``open``: 14 us). Where
    it says no, the runnable threads of this process other than the caller
    are not counted (:func:`_others_running`, 10 us a thread): the one that
    started the caller, or an OpenBLAS thread that spins for about 0.1 s after
    a call on several threads (as ``ElasticNetCV``'s leave it) and yields its
    CPU to any other task; the process's other thread is counted as running,
    for the caller of a helper (the new thread) and for a helper (the caller).
    Elsewhere (no ``/proc``) it says no.
    """
    try:
        fd = os.open("/proc/loadavg", os.O_RDONLY)
        try:
            text = os.read(fd, 128)
        finally:
            os.close(fd)
        running = int(text.split()[3].split(b"/")[0])
    except (OSError, ValueError, IndexError):
        return False
    cpus = _cpus()
    return running < cpus or running - _others_running() < cpus


def _others_running():
    """Return how many threads of this process other than the caller are runnable."""
    me, count = str(threading.get_native_id()), 0
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return 0
    for task in tasks:
        if task == me:
            continue
        try:
            fd = os.open(f"/proc/self/task/{task}/stat", os.O_RDONLY)
            try:
                text = os.read(fd, 512)
            finally:
                os.close(fd)
        except OSError:  # (a thread that has ended)
            continue
        # The state follows the name, which is in parentheses: "... (name) R ...".
        end = text.rfind(b")")
        count += text[end + 2 : end + 3] == b"R"
    return count


def halves(first, second):
    """Return ``(first(), second())``, ``second`` on a helper thread if it pays.

    :func:`shared` of the two: ``second`` runs on a helper where a core is
    idle inside a :func:`serial_limit`, unless the caller has taken it first.
    """
    a, b = shared([first, second])
    return a, b


def shared(tasks):
    """Return ``[task() for task in tasks]``, some on a helper thread if it pays.

    The helper runs only inside a :func:`serial_limit` (its BLAS calls then run
    on its own thread), in the process's main thread, when :func:`idle_core`
    says a core is free and no other call's helper runs. The caller claims the
    first task, then the tasks in order with the helper; before each task after
    its first the helper checks :func:`idle_core` again (a CPU for it beside
    the caller), else leaves the rest to the caller. An exception of any
    task is raised here (the caller's first), after the helper has ended, and
    no task starts after it.

    Parameters
    ----------
    tasks : iterable of callable
        Independent tasks, each called with no argument.

    Returns
    -------
    results : list
        What each task returned, in the order of ``tasks``.

    Examples
    --------
    >>> shared([lambda: 1, lambda: 2])
    [1, 2]
    """
    tasks = list(tasks)
    if not (
        len(tasks) > 1
        and _SERIAL[0]
        and not _SHARING[0]
        and threading.current_thread() is threading.main_thread()
        and idle_core()
    ):
        return [task() for task in tasks]
    lock, turn, out, errors = threading.Lock(), [0], [None] * len(tasks), {}

    def claim(stop=False):
        with lock:
            k = turn[0]
            turn[0] = len(tasks) if stop else k + 1
        return k if k < len(tasks) and not stop else None

    def helper():
        k = claim()
        while k is not None:
            try:
                out[k] = tasks[k]()
            except BaseException as exc:  # (raised in the caller, below)
                errors[k] = exc
                claim(stop=True)
                return
            # (No reading of the load where no task is left: the last half.)
            k = claim() if turn[0] < len(tasks) and idle_core() else None

    k = claim()  # (the first task is the caller's: the helper starts after)
    thread = threading.Thread(target=helper, name="skgd-helper", daemon=True)
    thread.start()
    _SHARING[0] += 1
    try:
        while k is not None:
            out[k] = tasks[k]()
            k = claim()
    finally:
        claim(stop=True)  # (after an error the helper must start no task)
        thread.join()
        _SHARING[0] -= 1
    if errors:
        raise errors[min(errors)]
    return out
