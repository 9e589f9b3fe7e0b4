"""Run callables asynchronously: Future, Executor, ThreadPoolExecutor.

A smaller version of CPython 3.11's concurrent.futures package (its _base
and thread modules in one file), with the same observable behaviour:
reprs, error messages, worker thread names, ordering of map() results.

Process pools: ProcessPoolExecutor is deliberately absent until the
interpreter can run child processes. It will subclass Executor below and
reuse Future, the waiters and wait()/as_completed() unchanged; add it to
__all__ then. Until then `from concurrent.futures import
ProcessPoolExecutor` raises ImportError rather than pretending to work.
"""

import os
import queue
import sys
import threading
import time
from traceback import print_exception

__all__ = (
    'FIRST_COMPLETED',
    'FIRST_EXCEPTION',
    'ALL_COMPLETED',
    'CancelledError',
    'TimeoutError',
    'BrokenExecutor',
    'Future',
    'Executor',
    'wait',
    'as_completed',
    'ThreadPoolExecutor',
)

FIRST_COMPLETED = 'FIRST_COMPLETED'
FIRST_EXCEPTION = 'FIRST_EXCEPTION'
ALL_COMPLETED = 'ALL_COMPLETED'
_AS_COMPLETED = '_AS_COMPLETED'

# Future states.
PENDING = 'PENDING'
RUNNING = 'RUNNING'
CANCELLED = 'CANCELLED'                            # cancelled by the user
CANCELLED_AND_NOTIFIED = 'CANCELLED_AND_NOTIFIED'  # ... and waiters told
FINISHED = 'FINISHED'

_STATE_TO_DESCRIPTION_MAP = {
    PENDING: "pending",
    RUNNING: "running",
    CANCELLED: "cancelled",
    CANCELLED_AND_NOTIFIED: "cancelled",
    FINISHED: "finished",
}

_DONE_STATES = (CANCELLED_AND_NOTIFIED, FINISHED)
_CANCELLED_STATES = (CANCELLED, CANCELLED_AND_NOTIFIED)


# The exception classes keep CPython's module names, so that printed types
# and tracebacks read the same ("concurrent.futures._base.CancelledError").

class Error(Exception):
    """Base class for all future-related exceptions."""
    __module__ = 'concurrent.futures._base'


class CancelledError(Error):
    """The Future was cancelled."""
    __module__ = 'concurrent.futures._base'


TimeoutError = TimeoutError  # The builtin one, as in Python 3.11.


class InvalidStateError(Error):
    """The operation is not allowed in this state."""
    __module__ = 'concurrent.futures._base'


class BrokenExecutor(RuntimeError):
    """Raised when an executor has become non-functional after a severe
    failure."""
    __module__ = 'concurrent.futures._base'


class BrokenThreadPool(BrokenExecutor):
    """Raised when a worker thread in a ThreadPoolExecutor failed
    initializing."""
    __module__ = 'concurrent.futures.thread'


def _log_exception(message):
    # CPython logs these through the "concurrent.futures" logger; with no
    # logging configured that prints the message and the traceback to stderr.
    stderr = sys.stderr
    if stderr is None:
        return
    print(message, file=stderr)
    exc_type, exc_value, exc_tb = sys.exc_info()
    print_exception(exc_type, exc_value, exc_tb, file=stderr)


# ---------------------------------------------------------------------------
# Waiters: wait() and as_completed() install one on every future they watch;
# a future reports to its waiters when it finishes.

class _Waiter:
    def __init__(self):
        self.event = threading.Event()
        self.finished_futures = []

    def add_result(self, future):
        self.finished_futures.append(future)

    def add_exception(self, future):
        self.finished_futures.append(future)

    def add_cancelled(self, future):
        self.finished_futures.append(future)


class _AsCompletedWaiter(_Waiter):
    # Wakes as_completed() for every finished future.

    def __init__(self):
        super().__init__()
        self.lock = threading.Lock()

    def add_result(self, future):
        with self.lock:
            super().add_result(future)
            self.event.set()

    def add_exception(self, future):
        with self.lock:
            super().add_exception(future)
            self.event.set()

    def add_cancelled(self, future):
        with self.lock:
            super().add_cancelled(future)
            self.event.set()


class _FirstCompletedWaiter(_Waiter):
    # Wakes wait(return_when=FIRST_COMPLETED) on the first finished future.

    def add_result(self, future):
        super().add_result(future)
        self.event.set()

    def add_exception(self, future):
        super().add_exception(future)
        self.event.set()

    def add_cancelled(self, future):
        super().add_cancelled(future)
        self.event.set()


class _AllCompletedWaiter(_Waiter):
    # Wakes wait() when every future is done (or, with stop_on_exception,
    # when one of them raises).

    def __init__(self, num_pending_calls, stop_on_exception):
        self.num_pending_calls = num_pending_calls
        self.stop_on_exception = stop_on_exception
        self.lock = threading.Lock()
        super().__init__()

    def _decrement_pending_calls(self):
        with self.lock:
            self.num_pending_calls -= 1
            if not self.num_pending_calls:
                self.event.set()

    def add_result(self, future):
        super().add_result(future)
        self._decrement_pending_calls()

    def add_exception(self, future):
        super().add_exception(future)
        if self.stop_on_exception:
            self.event.set()
        else:
            self._decrement_pending_calls()

    def add_cancelled(self, future):
        super().add_cancelled(future)
        self._decrement_pending_calls()


class _AcquireFutures:
    """Holds the conditions of several futures at once, always taken in the
    same (id) order so two callers cannot deadlock."""

    def __init__(self, futures):
        self.futures = sorted(futures, key=id)

    def __enter__(self):
        for future in self.futures:
            future._condition.acquire()

    def __exit__(self, *args):
        for future in self.futures:
            future._condition.release()


def _create_and_install_waiters(fs, return_when):
    if return_when == _AS_COMPLETED:
        waiter = _AsCompletedWaiter()
    elif return_when == FIRST_COMPLETED:
        waiter = _FirstCompletedWaiter()
    else:
        pending_count = 0
        for f in fs:
            if f._state not in _DONE_STATES:
                pending_count += 1
        if return_when == FIRST_EXCEPTION:
            waiter = _AllCompletedWaiter(pending_count, stop_on_exception=True)
        elif return_when == ALL_COMPLETED:
            waiter = _AllCompletedWaiter(pending_count,
                                         stop_on_exception=False)
        else:
            raise ValueError("Invalid return condition: %r" % return_when)

    for f in fs:
        f._waiters.append(waiter)
    return waiter


def _yield_finished_futures(fs, waiter, ref_collect):
    """Yield the futures of the list fs, last first, forgetting each one in
    the sets of ref_collect and detaching the waiter from it."""
    while fs:
        f = fs[-1]
        for futures_set in ref_collect:
            futures_set.remove(f)
        with f._condition:
            f._waiters.remove(waiter)
        del f
        yield fs.pop()


def as_completed(fs, timeout=None):
    """An iterator over the given futures that yields each as it completes.

    Futures already done come first. Duplicates in fs are yielded once.
    Raises TimeoutError if __next__() is called and the result is not
    available after `timeout` seconds from the original call.
    """
    if timeout is not None:
        end_time = timeout + time.monotonic()

    fs = set(fs)
    total_futures = len(fs)
    with _AcquireFutures(fs):
        finished = set()
        for f in fs:
            if f._state in _DONE_STATES:
                finished.add(f)
        pending = fs - finished
        waiter = _create_and_install_waiters(fs, _AS_COMPLETED)
    finished = list(finished)
    try:
        for f in _yield_finished_futures(finished, waiter,
                                         ref_collect=(fs,)):
            yield f

        while pending:
            if timeout is None:
                wait_timeout = None
            else:
                wait_timeout = end_time - time.monotonic()
                if wait_timeout < 0:
                    raise TimeoutError(
                        f'{len(pending)} (of {total_futures})'
                        f' futures unfinished')

            waiter.event.wait(wait_timeout)

            with waiter.lock:
                finished = waiter.finished_futures
                waiter.finished_futures = []
                waiter.event.clear()

            # Reverse, so that popping from the end keeps finishing order.
            finished.reverse()
            for f in _yield_finished_futures(finished, waiter,
                                             ref_collect=(fs, pending)):
                yield f
    finally:
        # Detach the waiter from the futures not yielded.
        for f in fs:
            with f._condition:
                f._waiters.remove(waiter)


class DoneAndNotDoneFutures:
    """The result of wait(): two sets, `done` and `not_done`.

    CPython uses a named tuple; this class offers the same fields, unpacking
    (`done, not_done = wait(fs)`), indexing, equality and repr.
    """

    _fields = ('done', 'not_done')

    def __init__(self, done, not_done):
        self.done = done
        self.not_done = not_done

    def __iter__(self):
        return iter((self.done, self.not_done))

    def __len__(self):
        return 2

    def __getitem__(self, index):
        return (self.done, self.not_done)[index]

    def __eq__(self, other):
        if isinstance(other, DoneAndNotDoneFutures):
            other = (other.done, other.not_done)
        return (self.done, self.not_done) == other

    def __repr__(self):
        return (f"DoneAndNotDoneFutures(done={self.done!r},"
                f" not_done={self.not_done!r})")


def wait(fs, timeout=None, return_when=ALL_COMPLETED):
    """Wait for the futures in fs to complete.

    return_when is FIRST_COMPLETED, FIRST_EXCEPTION or ALL_COMPLETED.
    Returns DoneAndNotDoneFutures(done, not_done), two sets.
    """
    fs = set(fs)
    with _AcquireFutures(fs):
        done = set()
        for f in fs:
            if f._state in _DONE_STATES:
                done.add(f)
        not_done = fs - done
        if return_when == FIRST_COMPLETED and done:
            return DoneAndNotDoneFutures(done, not_done)
        elif return_when == FIRST_EXCEPTION and done:
            for f in done:
                if not f.cancelled() and f.exception() is not None:
                    return DoneAndNotDoneFutures(done, not_done)

        if len(done) == len(fs):
            return DoneAndNotDoneFutures(done, not_done)

        waiter = _create_and_install_waiters(fs, return_when)

    waiter.event.wait(timeout)
    for f in fs:
        with f._condition:
            f._waiters.remove(waiter)

    done.update(waiter.finished_futures)
    return DoneAndNotDoneFutures(done, fs - done)


def _result_or_cancel(fut, timeout=None):
    try:
        return fut.result(timeout)
    finally:
        # Only has an effect if the result did not arrive in time.
        fut.cancel()


# ---------------------------------------------------------------------------
# Future

class Future:
    """Represents the result of an asynchronous computation."""
    __module__ = 'concurrent.futures._base'

    # `Cls[int]` in type hints, as CPython allows (no alias object).
    __class_getitem__ = classmethod(type(list[int]))

    def __init__(self):
        """Initializes the future. Should not be called by clients."""
        self._condition = threading.Condition()
        self._state = PENDING
        self._result = None
        self._exception = None
        self._waiters = []
        self._done_callbacks = []

    def _invoke_callbacks(self):
        for callback in self._done_callbacks:
            try:
                callback(self)
            except Exception:
                _log_exception(f'exception calling callback for {self!r}')

    def __repr__(self):
        with self._condition:
            head = f"<{self.__class__.__name__} at {hex(id(self))}"
            state = _STATE_TO_DESCRIPTION_MAP[self._state]
            if self._state == FINISHED:
                if self._exception:
                    return (f"{head} state={state} raised"
                            f" {self._exception.__class__.__name__}>")
                return (f"{head} state={state} returned"
                        f" {self._result.__class__.__name__}>")
            return f"{head} state={state}>"

    def cancel(self):
        """Cancel the future if possible.

        Returns True if the future was cancelled, False otherwise. A future
        cannot be cancelled if it is running or has already completed.
        """
        with self._condition:
            if self._state in (RUNNING, FINISHED):
                return False
            if self._state in _CANCELLED_STATES:
                return True
            self._state = CANCELLED
            self._condition.notify_all()
        self._invoke_callbacks()
        return True

    def cancelled(self):
        """Return True if the future was cancelled."""
        with self._condition:
            return self._state in _CANCELLED_STATES

    def running(self):
        """Return True if the future is currently executing."""
        with self._condition:
            return self._state == RUNNING

    def done(self):
        """Return True if the future was cancelled or finished executing."""
        with self._condition:
            return self._state in (CANCELLED, CANCELLED_AND_NOTIFIED,
                                   FINISHED)

    # Named (and so mangled) as CPython's, which tracebacks through
    # result() show.
    def __get_result(self):
        if self._exception:
            raise self._exception
        return self._result

    def add_done_callback(self, fn):
        """Attach a callable, called with the future when it is cancelled or
        finishes (at once if it already has). Callbacks run in the order
        added, in the thread that completes the future."""
        with self._condition:
            if self._state not in (CANCELLED, CANCELLED_AND_NOTIFIED,
                                   FINISHED):
                self._done_callbacks.append(fn)
                return
        try:
            fn(self)
        except Exception:
            _log_exception(f'exception calling callback for {self!r}')

    def result(self, timeout=None):
        """Return the result of the call the future represents, waiting up to
        `timeout` seconds.

        Raises CancelledError if the future was cancelled, TimeoutError on
        timeout, and the call's own exception if it raised one.
        """
        with self._condition:
            if self._state in _CANCELLED_STATES:
                raise CancelledError()
            elif self._state == FINISHED:
                return self.__get_result()

            self._condition.wait(timeout)

            if self._state in _CANCELLED_STATES:
                raise CancelledError()
            elif self._state == FINISHED:
                return self.__get_result()
            else:
                raise TimeoutError()

    def exception(self, timeout=None):
        """Return the exception raised by the call (None if it returned),
        waiting up to `timeout` seconds; like result() for cancellation and
        timeouts."""
        with self._condition:
            if self._state in _CANCELLED_STATES:
                raise CancelledError()
            elif self._state == FINISHED:
                return self._exception

            self._condition.wait(timeout)

            if self._state in _CANCELLED_STATES:
                raise CancelledError()
            elif self._state == FINISHED:
                return self._exception
            else:
                raise TimeoutError()

    # The following methods are for executors and tests only.

    def set_running_or_notify_cancel(self):
        """Mark the future as running, or report its cancellation.

        Returns False if the future was cancelled (its waiters are then
        told), True if it is now running. Raises RuntimeError if the future
        is already running or done.
        """
        with self._condition:
            if self._state == CANCELLED:
                self._state = CANCELLED_AND_NOTIFIED
                for waiter in self._waiters:
                    waiter.add_cancelled(self)
                # cancel() already notified the condition.
                return False
            elif self._state == PENDING:
                self._state = RUNNING
                return True
            else:
                stderr = sys.stderr
                if stderr is not None:
                    # CPython logs this at CRITICAL level.
                    print(f'Future {id(self)} in unexpected state:'
                          f' {self._state}', file=stderr)
                raise RuntimeError('Future in unexpected state')

    def set_result(self, result):
        """Set the result and wake waiters and callbacks."""
        with self._condition:
            if self._state in (CANCELLED, CANCELLED_AND_NOTIFIED, FINISHED):
                raise InvalidStateError('{}: {!r}'.format(self._state, self))
            self._result = result
            self._state = FINISHED
            for waiter in self._waiters:
                waiter.add_result(self)
            self._condition.notify_all()
        self._invoke_callbacks()

    def set_exception(self, exception):
        """Set the exception and wake waiters and callbacks."""
        with self._condition:
            if self._state in (CANCELLED, CANCELLED_AND_NOTIFIED, FINISHED):
                raise InvalidStateError('{}: {!r}'.format(self._state, self))
            self._exception = exception
            self._state = FINISHED
            for waiter in self._waiters:
                waiter.add_exception(self)
            self._condition.notify_all()
        self._invoke_callbacks()


# ---------------------------------------------------------------------------
# Executors

class Executor:
    """Base class for executors: subclasses implement submit() and
    shutdown()."""
    __module__ = 'concurrent.futures._base'

    def submit(self, *args, **kwargs):
        """Schedule fn(*args, **kwargs); return a Future for its result."""
        raise NotImplementedError()

    def map(self, fn, *iterables, timeout=None, chunksize=1):
        """Like map(fn, *iterables), running the calls concurrently.

        Every call is submitted at once; the returned generator yields the
        results in input order, waiting for each, and re-raises the call's
        exception if it failed. TimeoutError if a result is not ready
        `timeout` seconds after map() was called.
        """
        if timeout is not None:
            end_time = timeout + time.monotonic()

        fs = [self.submit(fn, *args) for args in zip(*iterables)]

        # Yield results from a nested generator so that map() itself submits
        # eagerly and only the waiting is lazy.
        def result_iterator():
            try:
                # Reverse so that popping from the end keeps input order and
                # drops each future once it is yielded.
                fs.reverse()
                while fs:
                    if timeout is None:
                        yield _result_or_cancel(fs.pop())
                    else:
                        yield _result_or_cancel(fs.pop(), end_time - time.monotonic())
            finally:
                for future in fs:
                    future.cancel()
        return result_iterator()

    def shutdown(self, wait=True, *, cancel_futures=False):
        """Free the executor's resources, waiting for pending work if wait
        is true. Later submit() calls raise RuntimeError."""
        pass

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        self.shutdown(wait=True)
        return False


# ---------------------------------------------------------------------------
# ThreadPoolExecutor


# Every idle worker blocks on its executor's work queue. At interpreter exit,
# before non-daemon threads are joined, _python_exit() wakes them all so they
# finish. Workers remove themselves when they end.
_threads_queues = {}
_shutdown = False
# Serialises submit() against interpreter shutdown.
_global_shutdown_lock = threading.Lock()


def _python_exit():
    global _shutdown
    with _global_shutdown_lock:
        _shutdown = True
    items = list(_threads_queues.items())
    for t, q in items:
        q.put(None)
    for t, q in items:
        t.join()


threading._register_atexit(_python_exit)


class _WorkItem:
    def __init__(self, future, fn, args, kwargs):
        self.future = future
        self.fn = fn
        self.args = args
        self.kwargs = kwargs

    def run(self):
        if not self.future.set_running_or_notify_cancel():
            return  # Cancelled while it was queued.
        try:
            result = self.fn(*self.args, **self.kwargs)
        except BaseException as exc:
            self.future.set_exception(exc)
        else:
            self.future.set_result(result)


def _worker(executor, work_queue, initializer, initargs):
    # Body of every pool thread: run work items until told to stop by a None
    # on the queue (which it passes on, so the other workers stop too).
    try:
        if initializer is not None:
            try:
                initializer(*initargs)
            except BaseException:
                _log_exception('Exception in initializer:')
                executor._initializer_failed()
                return
        try:
            while True:
                work_item = work_queue.get(block=True)
                if work_item is not None:
                    work_item.run()
                    del work_item
                    # This worker is idle again.
                    executor._idle_semaphore.release()
                    continue

                if _shutdown or executor._shutdown:
                    # Flag the executor as shutting down as early as possible.
                    executor._shutdown = True
                    # Wake the next worker so it stops as well.
                    work_queue.put(None)
                    return
        except BaseException:
            _log_exception('Exception in worker')
    finally:
        _threads_queues.pop(threading.current_thread(), None)


class ThreadPoolExecutor(Executor):
    """An executor that runs calls in a pool of at most max_workers threads.

    Threads are started on demand (one per submit() while none is idle)
    and are named f"{thread_name_prefix}_{n}".
    """
    __module__ = 'concurrent.futures.thread'

    # Numbers the default thread name prefixes: ThreadPoolExecutor-0, -1...
    _counter_value = 0
    _counter_lock = threading.Lock()

    @staticmethod
    def _counter():
        with ThreadPoolExecutor._counter_lock:
            n = ThreadPoolExecutor._counter_value
            ThreadPoolExecutor._counter_value = n + 1
        return n

    def __init__(self, max_workers=None, thread_name_prefix='',
                 initializer=None, initargs=()):
        """Initializes a new ThreadPoolExecutor instance.

        Args:
            max_workers: The maximum number of threads that can be used to
                execute the given calls.
            thread_name_prefix: An optional name prefix to give our threads.
            initializer: A callable used to initialize worker threads.
            initargs: A tuple of arguments to pass to the initializer.
        """
        if max_workers is None:
            # CPython's default: at least 5 workers for I/O-bound tasks,
            # at most 32 so big machines do not start hundreds of threads.
            max_workers = min(32, (os.cpu_count() or 1) + 4)
        if max_workers <= 0:
            raise ValueError("max_workers must be greater than 0")

        if initializer is not None and not callable(initializer):
            raise TypeError("initializer must be a callable")

        self._max_workers = max_workers
        self._work_queue = queue.SimpleQueue()
        self._idle_semaphore = threading.Semaphore(0)
        self._threads = set()
        self._broken = False
        self._shutdown = False
        self._shutdown_lock = threading.Lock()
        self._thread_name_prefix = (
            thread_name_prefix
            or f"ThreadPoolExecutor-{ThreadPoolExecutor._counter()}")
        self._initializer = initializer
        self._initargs = initargs

    def submit(self, fn, /, *args, **kwargs):
        with self._shutdown_lock, _global_shutdown_lock:
            if self._broken:
                raise BrokenThreadPool(self._broken)

            if self._shutdown:
                raise RuntimeError('cannot schedule new futures after shutdown')
            if _shutdown:
                raise RuntimeError('cannot schedule new futures after '
                                   'interpreter shutdown')

            f = Future()
            w = _WorkItem(f, fn, args, kwargs)

            self._work_queue.put(w)
            self._adjust_thread_count()
            return f

    def _adjust_thread_count(self):
        # An idle worker will pick the item up: no new thread needed.
        if self._idle_semaphore.acquire(timeout=0):
            return

        num_threads = len(self._threads)
        if num_threads < self._max_workers:
            thread_name = f'{self._thread_name_prefix or self}_{num_threads}'
            t = threading.Thread(name=thread_name, target=_worker,
                                 args=(self,
                                       self._work_queue,
                                       self._initializer,
                                       self._initargs))
            t.start()
            self._threads.add(t)
            _threads_queues[t] = self._work_queue

    def _initializer_failed(self):
        with self._shutdown_lock:
            self._broken = ('A thread initializer failed, the thread pool '
                            'is not usable anymore')
            # Fail every queued call.
            while True:
                try:
                    work_item = self._work_queue.get_nowait()
                except queue.Empty:
                    break
                if work_item is not None:
                    work_item.future.set_exception(
                        BrokenThreadPool(self._broken))

    def shutdown(self, wait=True, *, cancel_futures=False):
        with self._shutdown_lock:
            self._shutdown = True
            if cancel_futures:
                # Cancel everything still queued; running calls finish.
                while True:
                    try:
                        work_item = self._work_queue.get_nowait()
                    except queue.Empty:
                        break
                    if work_item is not None:
                        work_item.future.cancel()

            # Wake a worker blocked on get(); each one passes it on.
            self._work_queue.put(None)
        if wait:
            for t in self._threads:
                t.join()


# CPython's package resolves its executors lazily through a module
# __getattr__, which every failed attribute lookup goes through (and
# tracebacks show).
def __getattr__(name):
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
