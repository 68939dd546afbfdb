"""Processes that end with the process they work for.

A ``kill -9`` gives its victim no chance to stop what it started, so each helper process watches
the one it serves and exits on its own when that one is gone:

* :func:`die_with` (process-pool workers, see :mod:`adan_ser.core.scheduler`): a worker exits at
  once when the process that owns its pool dies. The pool's workers are forked by the
  multiprocessing fork server, not by the owner, and the fork server only exits after its last
  worker does, so neither ``os.getppid()`` nor ``prctl(PR_SET_PDEATHSIG)`` (tied to the parent
  *thread*, here the fork server's) would notice the owner's death: the watchdog polls the owner's
  pid (with its start time, so a recycled pid does not count as alive; a zombie counts as dead).
  Dask ``LocalCluster`` workers need nothing of this: ``distributed`` already ends a worker whose
  nanny's process is gone (its worker processes block on a pipe whose other end dies with it).
* :func:`exit_with_parent` (the ``adan`` command under DVC): ``dvc repro`` and ``dvc exp run`` run
  each stage command as a child (through ``$SHELL -c``) and set ``DVC_STAGE`` (the stage's name)
  and ``DVC_ROOT`` in its environment (``dvc/stage/run.py``, ``prepare_kwargs``). A ``kill -9`` of
  DVC would leave the stage running on, writing outputs DVC no longer records; so under DVC a
  watchdog interrupts the command when DVC is gone. It interrupts with SIGTERM, not SIGINT: a
  command started in the background (``dvc repro &``, ``nohup``) inherits SIGINT ignored, and
  Python then neither raises on SIGINT nor delivers ``_thread.interrupt_main(SIGINT)``.
* :func:`raise_on_term`: SIGTERM raises :class:`Interrupted` (a ``KeyboardInterrupt``) in the
  main thread, as Ctrl-C does, so ``finally`` blocks remove temporary outputs and shut pools down.

The watchdogs are daemon threads that poll every ``interval_s`` (0.5 s): cheap, portable to any
POSIX system, and they need nothing from the parent.
"""

from __future__ import annotations

import os
import signal
import threading
import time

#: Environment variable ``dvc repro`` / ``dvc exp run`` set for every stage command (the stage name).
DVC_STAGE_ENV = "DVC_STAGE"

#: Parent process names taken for the shell DVC runs a stage command through.
_SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ksh", "fish"})


def _stat_fields(pid: int) -> list[bytes] | None:
    """Fields of ``/proc/<pid>/stat`` after the command name (state first), None if unreadable."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None


def start_time(pid: int) -> int | None:
    """When ``pid`` started (clock ticks since boot, Linux ``/proc``), None where unknown."""
    fields = _stat_fields(pid)
    return int(fields[19]) if fields and len(fields) > 19 else None


def pid_alive(pid: int, started: int | None = None) -> bool:
    """True while process ``pid`` runs; a zombie counts as dead, and so does a process that
    reuses the pid when ``started`` (its :func:`start_time` when watched first) differs."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        pass
    fields = _stat_fields(pid)
    if fields is None:  # no /proc: os.kill said it exists
        return True
    if fields[0] == b"Z":
        return False
    return started is None or len(fields) <= 19 or int(fields[19]) == started


def _watch(pids: list[int], on_death, interval_s: float, name: str) -> threading.Thread:
    started = {pid: start_time(pid) for pid in pids}

    def loop():
        while all(pid_alive(pid, started[pid]) for pid in pids):
            time.sleep(interval_s)
        on_death()

    thread = threading.Thread(target=loop, name=name, daemon=True)
    thread.start()
    return thread


def die_with(owner_pid: int, interval_s: float = 0.5) -> threading.Thread:
    """Exit this process at once (``os._exit(1)``, no clean-up) when ``owner_pid`` dies.

    For workers that hold nothing of their own to clean up: a pool worker whose owner is gone
    would otherwise wait for work forever. Returns the (daemon) watchdog thread.
    """
    return _watch([int(owner_pid)], lambda: os._exit(1), interval_s, f"die-with-{owner_pid}")


class Interrupted(KeyboardInterrupt):
    """SIGTERM (or SIGINT) turned into an exception of the main thread; ``signum`` says which."""

    def __init__(self, signum: int = signal.SIGINT):
        super().__init__(signal.Signals(signum).name)
        self.signum = int(signum)


def _raise_interrupted(signum, frame):
    raise Interrupted(signum)


def raise_on_term() -> bool:
    """Let SIGTERM raise :class:`Interrupted` in the main thread (its default would end the process
    without running any ``finally``); SIGINT keeps Python's KeyboardInterrupt, or stays ignored
    when it was ignored at start (a background job must not die of the terminal's Ctrl-C).

    Does nothing outside the main thread (only it may set handlers) or when SIGTERM already has a
    handler of someone else's. Returns True when SIGTERM now raises.
    """
    if threading.current_thread() is not threading.main_thread():
        return False
    current = signal.getsignal(signal.SIGTERM)
    if current is _raise_interrupted:
        return True
    if current not in (signal.SIG_DFL, None):
        return False
    signal.signal(signal.SIGTERM, _raise_interrupted)
    return True


def _comm(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as fh:
            return fh.read().strip()
    except OSError:
        return ""


def _ppid_of(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return int(fields[1]) if fields and len(fields) > 1 else None


def exit_with_parent(grace_s: float = 10.0, interval_s: float = 0.5) -> threading.Thread | None:
    """Under DVC, end this process when DVC (the process that started it) dies.

    Does nothing, and returns None, unless ``DVC_STAGE`` is set (see the module docstring): run
    by hand, ``adan`` may outlive the shell that started it, as any command does. Under DVC a
    daemon thread watches the parent, and also the grandparent when the parent is the shell DVC
    ran the command through. When one dies, this process sends itself SIGTERM, which
    :func:`raise_on_term` turns into :class:`Interrupted` in the main thread (also when SIGINT is
    ignored, as in a background job), so ``finally`` blocks run (temporary outputs are removed,
    pools shut down); if it has not exited ``grace_s`` seconds later (blocked in native code), the
    process exits with status 1.
    Returns the watchdog thread.
    """
    if not os.environ.get(DVC_STAGE_ENV):
        return None
    raise_on_term()
    parent = os.getppid()
    watched = [parent]
    grandparent = _ppid_of(parent)
    if _comm(parent) in _SHELLS and grandparent and grandparent > 1:
        watched.append(grandparent)

    def on_death():
        # os.kill rather than _thread.interrupt_main: a signal also wakes a main thread blocked in
        # a system call (a pool's result queue), and SIGTERM is never ignored by a background job
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(grace_s)
        os._exit(1)

    return _watch(watched, on_death, interval_s, "exit-with-parent")
