# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Two fixed halves of a loop over row blocks, the second on a helper thread.

A fit that :func:`skgd._backend._threads.fit_threads` holds to one BLAS thread
(:func:`serial_limit` marks it) leaves a second core unused on an idle machine.
Its largest calls, the weighted Gram matrices of the Newton solver (benchmark
case 13: 5,000 x 100, 2.2 ms each, 11 of a fit's 16 ms), are sums over row
blocks: :func:`halves` runs the first half of the blocks on the calling thread
and the second on a helper thread when a core is idle at that moment
(:func:`idle_core`), else both in turn. The halves are the same either way and
the caller adds them in one order, so the result has the same bits whoever ran
them. The caller never waits for a helper that has not started: it then takes
the second half itself; only a half under way is waited for. The CPUs counted
are the process's own (:func:`_cpus`: its affinity mask, at most a cgroup's
CPU quota): with one, or without ``/proc/loadavg`` (not Linux), no helper.

Under load (another runnable task on every core) nothing changes: a BLAS call
split across threads that the scheduler interleaves with other processes waits
for the slowest (see ``_threads``), which is why these fits run on one thread.
"""

import contextlib
import functools
import os
import threading

# Fits under the one-thread limit of fit_threads now (a count: nested fits).
_SERIAL = [0]


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
    """Return the number of CPUs this process may run on.

    Its affinity mask where the platform has one (Linux: a container or
    ``taskset`` may leave fewer than ``os.cpu_count()``), else the count;
    at most a container's CPU quota (:func:`_quota`).
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # (not Linux)
        cpus = os.cpu_count() or 1
    quota = _quota()
    return cpus if quota is None else min(cpus, quota)


@functools.cache
def _quota():
    """Return the whole CPUs of the cgroup's quota (cgroup v2), or None.

    A container limited by a quota (``docker --cpus``) keeps every CPU in
    its affinity mask: ``cpu.max`` holds ``quota period`` in microseconds,
    ``max`` for none. A quota of 1.5 CPUs is 1 (two threads would each wait
    for the other's share). Read once per process.
    """
    try:
        with open("/sys/fs/cgroup/cpu.max") as f:
            quota, period = f.read().split()[:2]
        return None if quota == "max" else max(int(quota) // int(period), 1)
    except (OSError, ValueError, ZeroDivisionError):
        return None


def _runnable():
    """Return the tasks runnable now by ``/proc/loadavg``, or None without it.

    Its fourth field, ``running/total``: the caller included. About 7 us
    (the os calls; Python's ``open``: 14 us). None where there is no
    ``/proc`` (not Linux) or it reads otherwise.
    """
    try:
        fd = os.open("/proc/loadavg", os.O_RDONLY)
        try:
            text = os.read(fd, 128)
        finally:
            os.close(fd)
        return int(text.split()[3].split(b"/")[0])
    except (OSError, ValueError, IndexError):
        return None


def idle_core():
    """Return whether a CPU of this process is idle now (Linux; else False).

    Fewer runnable tasks (:func:`_runnable`, the caller included) than the
    process's CPUs (:func:`_cpus`) leaves one idle. Where it says no, the
    runnable threads of this process other than the caller are left out
    (:func:`_others_running`, 10 us a thread): an OpenBLAS thread spins for
    about 0.1 s after a call on several threads (as those of ``ElasticNetCV``,
    run just before, leave it), yielding its CPU to any other task: counted, it
    would keep the helper off in a fit run just after. Never with one CPU (the
    file is then not read), nor where there is no ``/proc/loadavg``. In a
    container the file may count the host's tasks, more than its CPUs: the
    helper then stays off, which costs nothing.
    """
    cpus = _cpus()
    if cpus < 2:
        return False
    running = _runnable()
    if running is None:
        return False
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

    The helper runs only inside a :func:`serial_limit` (its BLAS calls then run
    on its own thread), in the process's main thread, when :func:`idle_core`
    says a core is free. ``second`` is claimed by whichever thread reaches it
    first: the caller, done with ``first``, takes it itself if the helper has
    not started it. An exception of either is raised here.
    """
    if not (
        _SERIAL[0]
        and threading.current_thread() is threading.main_thread()
        and idle_core()
    ):
        return first(), second()
    lock, claimed, out = threading.Lock(), [False], {}

    def claim():
        with lock:
            taken, claimed[0] = claimed[0], True
            return not taken

    def helper():
        if claim():
            try:
                out["value"] = second()
            except BaseException as exc:  # (raised in the caller, below)
                out["error"] = exc

    thread = threading.Thread(target=helper, name="skgd-half", daemon=True)
    thread.start()
    try:
        a = first()
        mine = claim()
        b = second() if mine else None
    finally:
        claim()  # (after an error the helper must not start second)
        thread.join()
    if not mine:
        if "error" in out:
            raise out["error"]
        b = out["value"]
    return a, b
