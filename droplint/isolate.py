"""A crash boundary per item: whatever happens while one file is analyzed (a signal in native
code, MemoryError, RecursionError, a time-out, SystemExit from user code), that item gets a
`Failure` saying what happened and every other item still gets its result.

- `guarded(fn, *args)`: in this process; catches what Python can catch (never KeyboardInterrupt).
- `Pool(fn, common, jobs, timeout).map(items)`: in worker processes. A worker that dies (a
  signal, os._exit) or runs past `timeout` on an item is killed and replaced; only that item
  fails. Order is kept. `fn(item, *common)` must be a module-level function (picklable).
- `run_isolated(fn, item, common, timeout)`: one item in a child process (the Python API
  uses it for risky inputs: it must never kill its host, e.g. a Jupyter kernel).

Generic: nothing here knows about droplint's files or findings (pipeline.py turns a Failure
into a DL900 finding).
"""
from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable

# Address space of a worker (a backstop: the budgets keep real work far below it). Allocation
# over it is a MemoryError in Python and an abort in native code: both end only that item.
WORKER_MEMORY_MB = 4096
_IN_WORKER = False  # set in worker processes: nested isolation is pointless there


@dataclass(frozen=True)
class Failure:
    """What went wrong with one item: `kind` is crash, timeout, memory, recursion, exit or
    error; `message` one line for a DL900 finding."""
    kind: str
    message: str


def in_worker() -> bool:
    return _IN_WORKER


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def exit_failure(exitcode: int | None) -> Failure:
    """The Failure of a worker that ended without answering."""
    if exitcode is not None and exitcode < 0:
        name = signal_name(-exitcode)
        what = {"SIGSEGV": "a crash in native code (segmentation fault)",
                "SIGABRT": "an abort in native code (often: out of memory)",
                "SIGKILL": "killed (often: out of memory)",
                "SIGBUS": "a crash in native code (bus error)"}.get(name, "killed by a signal")
        return Failure("crash", f"internal error: the analysis ended with {name}: {what}")
    return Failure("exit", f"internal error: the analysis process exited with status "
                           f"{exitcode}")


def exception_failure(exc: BaseException) -> Failure:
    """The Failure for an exception raised while analyzing one item."""
    if isinstance(exc, MemoryError):
        return Failure("memory", "not analyzed: out of memory (MemoryError)")
    if isinstance(exc, RecursionError):
        return Failure("recursion", "not analyzed: nested too deeply for the analysis "
                                    "(RecursionError)")
    if isinstance(exc, SystemExit):
        return Failure("exit", f"internal error: SystemExit({exc.code!r}) raised during the "
                               "analysis"[:300])
    text = " ".join(str(exc).split())[:200]
    return Failure("error", f"internal error: {type(exc).__name__}{': ' if text else ''}{text}")


class _TimeUp(Exception):
    pass


def _raise_time_up(_signum, _frame):
    raise _TimeUp


@contextmanager
def _time_limit(seconds: float | None):
    """Raise _TimeUp in this thread after `seconds` (SIGALRM), where that cannot disturb the
    host: only in the main thread, on Unix, when no other alarm handler or timer is set.
    Elsewhere (a thread, Windows, a host that uses alarms) nothing is limited here: the
    budgets bound the work, and worker processes enforce file-timeout."""
    usable = (seconds and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread()
              and signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, None)
              and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0))
    if not usable:
        yield
        return
    signal.signal(signal.SIGALRM, _raise_time_up)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)


def guarded(fn: Callable, *args, timeout: float | None = None) -> Any:
    """fn(*args), or a Failure for an exception it raises (SystemExit included) or for running
    past `timeout` seconds (in the main thread; see _time_limit). A KeyboardInterrupt still
    interrupts."""
    try:
        with _time_limit(timeout):
            return fn(*args)
    except KeyboardInterrupt:
        raise
    except _TimeUp:
        return Failure("timeout", f"not analyzed: took longer than {timeout:g} s")
    except BaseException as exc:  # noqa: BLE001 - the boundary: one item's failure
        return exception_failure(exc)


# --- worker processes ----------------------------------------------------------------------

def start_method() -> str:
    """fork on Linux (milliseconds; the child only runs droplint code already imported, so
    the locks of other threads, e.g. a Jupyter kernel's, do not matter); else forkserver or
    spawn (they import the caller's main module again: guard scripts with __main__)."""
    import multiprocessing as mp

    methods = mp.get_all_start_methods()
    if "fork" in methods and sys.platform.startswith("linux"):
        return "fork"
    return "forkserver" if "forkserver" in methods else "spawn"


def _limit_memory(mb: int | None) -> None:
    if not mb:
        return
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        want = mb * (1 << 20)
        if hard != resource.RLIM_INFINITY:
            want = min(want, hard)
        if soft == resource.RLIM_INFINITY or soft > want:
            resource.setrlimit(resource.RLIMIT_AS, (want, hard))
    except (ImportError, ValueError, OSError):  # not on this platform
        pass


def _worker(conn, fn: Callable, common: tuple, memory_mb: int | None) -> None:
    """A worker's loop: receive an item, send back ("ok", result) or ("fail", Failure)."""
    global _IN_WORKER
    _IN_WORKER = True
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles ^C and stops us
    _limit_memory(memory_mb)
    while True:
        try:
            item = conn.recv()
        except (EOFError, OSError):
            return
        if item is None:
            return
        result = guarded(fn, item, *common)
        try:
            if isinstance(result, Failure):
                conn.send(("fail", result))
            else:
                conn.send(("ok", result))
        except Exception as exc:  # noqa: BLE001 - a result that cannot be pickled
            conn.send(("fail", exception_failure(exc)))


class _Slot:
    """One worker process and the item it is working on."""

    def __init__(self, ctx, fn, common, memory_mb):
        parent, child = ctx.Pipe()
        self.conn = parent
        self.process = ctx.Process(target=_worker, args=(child, fn, common, memory_mb),
                                   daemon=True)
        import warnings

        with warnings.catch_warnings():  # Python 3.12: fork with threads running
            warnings.simplefilter("ignore", DeprecationWarning)
            self.process.start()
        child.close()
        self.index: int | None = None
        self.deadline = 0.0

    def give(self, index: int, item, timeout: float) -> bool:
        try:
            self.conn.send(item)
        except (OSError, ValueError):  # the worker died before taking it
            return False
        self.index, self.deadline = index, time.monotonic() + timeout
        return True

    def stop(self, kill: bool = False) -> None:
        if kill and self.process.is_alive():
            self.process.kill()
        try:
            if not kill:
                self.conn.send(None)
        except (OSError, ValueError):
            pass
        self.process.join(timeout=1 if not kill else 5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=5)
        self.conn.close()


class Pool:
    """fn(item, *common) for many items in `jobs` worker processes, `timeout` seconds each."""

    def __init__(self, fn: Callable, common: tuple = (), jobs: int = 2,
                 timeout: float = 60.0, memory_mb: int | None = WORKER_MEMORY_MB,
                 method: str | None = None):
        import multiprocessing as mp

        self.fn, self.common, self.jobs = fn, common, max(1, jobs)
        self.timeout, self.memory_mb = timeout, memory_mb
        self.ctx = mp.get_context(method or start_method())

    def _slot(self) -> _Slot:
        return _Slot(self.ctx, self.fn, self.common, self.memory_mb)

    def map(self, items: list) -> list:
        """Results in the order of `items`; a Failure for each item that failed."""
        from multiprocessing.connection import wait

        results: list = [None] * len(items)
        todo = deque(range(len(items)))
        slots: list[_Slot] = []
        busy: dict[_Slot, int] = {}
        try:
            slots = [self._slot() for _ in range(min(self.jobs, len(items)))]

            def feed(slot: _Slot) -> None:
                while todo:
                    index = todo.popleft()
                    if slot.give(index, items[index], self.timeout):
                        busy[slot] = index
                        return
                    todo.appendleft(index)
                    slot = replace(slot)

            def replace(slot: _Slot) -> _Slot:
                slot.stop(kill=True)
                busy.pop(slot, None)
                fresh = self._slot()
                slots[slots.index(slot)] = fresh
                return fresh

            for slot in slots:
                feed(slot)
            while busy:
                now = time.monotonic()
                wait_for = max(0.0, min(s.deadline for s in busy) - now)
                ready = wait([s.conn for s in busy] + [s.process.sentinel for s in busy],
                             timeout=wait_for)
                for slot in list(busy):
                    index = busy[slot]
                    if slot.conn in ready or slot.process.sentinel in ready:
                        outcome = self._receive(slot)
                        if outcome is None:  # died without answering
                            slot.process.join(timeout=5)
                            results[index] = exit_failure(slot.process.exitcode)
                            slot = replace(slot)
                        else:
                            results[index] = outcome
                            del busy[slot]
                        feed(slot)
                    elif time.monotonic() >= slot.deadline:
                        results[index] = Failure(
                            "timeout", f"not analyzed: took longer than {self.timeout:g} s")
                        slot = replace(slot)
                        feed(slot)
        finally:
            for slot in slots:
                slot.stop(kill=slot in busy)
        return results

    @staticmethod
    def _receive(slot: _Slot):
        try:
            if not slot.conn.poll():
                return None
            tag, value = slot.conn.recv()
        except (EOFError, OSError):
            return None
        except Exception as exc:  # noqa: BLE001 - a result that cannot be unpickled
            return exception_failure(exc)
        return value


def run_isolated(fn: Callable, item, common: tuple = (), timeout: float = 60.0,
                 memory_mb: int | None = WORKER_MEMORY_MB) -> Any:
    """fn(item, *common) in one child process: its result, or a Failure."""
    return Pool(fn, common, jobs=1, timeout=timeout, memory_mb=memory_mb).map([item])[0]


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1
