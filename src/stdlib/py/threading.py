"""Thread objects and synchronisation primitives, written over `_thread`.

This follows the structure and the observable behaviour (names, reprs, error
messages) of CPython 3.11's Lib/threading.py, in a smaller form. The only
native pieces are the ones `_thread` provides: start_new_thread, plain locks,
RLock, thread identities and thread-local storage. Everything else -
Condition, Semaphore, Event, Barrier, Thread bookkeeping, join, shutdown - is
built here from plain locks, exactly as CPython does it.

Not provided: settrace/setprofile (and their getters), stack_size, fork
support (_after_fork; added together with processes).
"""

import sys as _sys
import _thread


def _deprecated(message):
    # As CPython's threading: a DeprecationWarning for the caller's line.
    import warnings
    warnings.warn(message, DeprecationWarning, stacklevel=3)
from time import monotonic as _time
from traceback import print_exception as _print_exception

__all__ = ['get_ident', 'active_count', 'Condition', 'current_thread',
           'enumerate', 'main_thread', 'TIMEOUT_MAX',
           'Event', 'Lock', 'RLock', 'Semaphore', 'BoundedSemaphore', 'Thread',
           'Barrier', 'BrokenBarrierError', 'Timer', 'ThreadError',
           'local', 'excepthook', 'ExceptHookArgs', 'get_native_id',
           'stack_size', 'settrace', 'gettrace', 'setprofile', 'getprofile']

# Short private names, so "from threading import *" stays clean.
_start_new_thread = _thread.start_new_thread
_allocate_lock = _thread.allocate_lock
get_ident = _thread.get_ident
get_native_id = _thread.get_native_id
ThreadError = _thread.error
TIMEOUT_MAX = _thread.TIMEOUT_MAX
stack_size = _thread.stack_size

# As in CPython, Lock is the native lock factory and RLock a factory function
# for the native reentrant lock; their reprs come from `_thread`.
Lock = _allocate_lock
_CRLock = _thread.RLock


def RLock(*args, **kwargs):
    """Factory function that returns a new reentrant lock."""
    return _CRLock(*args, **kwargs)


local = _thread._local


def _object_repr_head(obj):
    # "<threading.Semaphore at 0x7f...": CPython's prefix for the reprs of the
    # pure-Python primitives (module and qualified class name, then the id).
    cls = obj.__class__
    qualname = getattr(cls, "__qualname__", cls.__name__)
    return f"<{cls.__module__}.{qualname} at {hex(id(obj))}"


# ---------------------------------------------------------------------------
# Condition variables

class Condition:
    """Lets threads wait until another thread notifies them.

    The condition is tied to a lock (a new RLock by default). wait() releases
    the lock completely - even an RLock held several times - and blocks on a
    private lock of its own, which notify() releases; then it takes the lock
    back with its previous recursion depth.
    """

    def __init__(self, lock=None):
        if lock is None:
            lock = RLock()
        self._lock = lock
        self.acquire = lock.acquire
        self.release = lock.release
        # Owner-aware locks (RLock) can tell whether the calling thread holds
        # them; for a plain Lock we fall back to a try-acquire probe.
        self._lock_is_owned = getattr(lock, "_is_owned", None)
        # Each waiting thread parks on its own lock, in arrival order.
        self._waiters = []

    def __enter__(self):
        return self._lock.__enter__()

    def __exit__(self, *args):
        return self._lock.__exit__(*args)

    def __repr__(self):
        return f"<Condition({self._lock}, {len(self._waiters)})>"

    def _is_owned(self):
        if self._lock_is_owned is not None:
            return self._lock_is_owned()
        # A plain lock has no owner: if we can take it, nobody held it.
        if self._lock.acquire(False):
            self._lock.release()
            return False
        return True

    def _release_save(self):
        # Release the lock fully and return how many times it was held, so
        # that waiting inside nested `with rlock:` blocks does not deadlock.
        if self._lock_is_owned is None:
            self._lock.release()
            return 1
        count = 0
        while self._lock_is_owned():
            self._lock.release()
            count += 1
        return count

    def _acquire_restore(self, count):
        for _ in range(count):
            self._lock.acquire()

    def wait(self, timeout=None):
        """Wait until notified or until a timeout occurs.

        Returns True unless the given timeout expired.
        """
        if not self._is_owned():
            raise RuntimeError("cannot wait on un-acquired lock")
        waiter = _allocate_lock()
        waiter.acquire()
        self._waiters.append(waiter)
        saved_state = self._release_save()
        gotit = False
        try:
            # Restore the lock whatever happens (e.g. KeyboardInterrupt).
            if timeout is None:
                waiter.acquire()
                gotit = True
            else:
                if timeout > 0:
                    gotit = waiter.acquire(True, timeout)
                else:
                    gotit = waiter.acquire(False)
            return gotit
        finally:
            self._acquire_restore(saved_state)
            if not gotit:
                # Timed out: nobody released us, so leave the queue ourselves.
                try:
                    self._waiters.remove(waiter)
                except ValueError:
                    pass

    def wait_for(self, predicate, timeout=None):
        """Wait until predicate() is true; return its last value."""
        endtime = None
        waittime = timeout
        result = predicate()
        while not result:
            if waittime is not None:
                if endtime is None:
                    endtime = _time() + waittime
                else:
                    waittime = endtime - _time()
                    if waittime <= 0:
                        break
            self.wait(waittime)
            result = predicate()
        return result

    def notify(self, n=1):
        """Wake up to n threads waiting on this condition."""
        if not self._is_owned():
            raise RuntimeError("cannot notify on un-acquired lock")
        waiters = self._waiters
        while waiters and n > 0:
            waiter = waiters[0]
            try:
                waiter.release()
            except RuntimeError:
                # Already released (its wait timed out meanwhile); skip it.
                pass
            else:
                n -= 1
            try:
                waiters.remove(waiter)
            except ValueError:
                pass

    def notify_all(self):
        """Wake up all threads waiting on this condition."""
        self.notify(len(self._waiters))

    def notifyAll(self):
        """Deprecated alias of notify_all()."""
        _deprecated('notifyAll() is deprecated, use notify_all() instead')
        self.notify_all()


# ---------------------------------------------------------------------------
# Semaphores

class Semaphore:
    """A counter that acquire() decrements and release() increments;
    acquire() blocks while the counter is zero."""

    def __init__(self, value=1):
        if value < 0:
            raise ValueError("semaphore initial value must be >= 0")
        self._cond = Condition(Lock())
        self._value = value

    def __repr__(self):
        return f"{_object_repr_head(self)}: value={self._value}>"

    def acquire(self, blocking=True, timeout=None):
        """Decrement the counter, waiting if it is zero.

        Returns False only when a non-blocking call or a timeout fails.
        """
        if not blocking and timeout is not None:
            raise ValueError("can't specify timeout for non-blocking acquire")
        endtime = None
        with self._cond:
            while self._value == 0:
                if not blocking:
                    return False
                if timeout is not None:
                    if endtime is None:
                        endtime = _time() + timeout
                    else:
                        timeout = endtime - _time()
                        if timeout <= 0:
                            return False
                self._cond.wait(timeout)
            self._value -= 1
            return True

    def __enter__(self):
        return self.acquire()

    def release(self, n=1):
        """Increment the counter by n, waking up to n waiting threads."""
        if n < 1:
            raise ValueError('n must be one or more')
        with self._cond:
            self._value += n
            self._cond.notify(n)

    def __exit__(self, t, v, tb):
        self.release()


class BoundedSemaphore(Semaphore):
    """A Semaphore whose counter may not rise above its initial value."""

    def __init__(self, value=1):
        super().__init__(value)
        self._initial_value = value

    def __repr__(self):
        return (f"{_object_repr_head(self)}:"
                f" value={self._value}/{self._initial_value}>")

    def release(self, n=1):
        if n < 1:
            raise ValueError('n must be one or more')
        with self._cond:
            if self._value + n > self._initial_value:
                raise ValueError("Semaphore released too many times")
            self._value += n
            self._cond.notify(n)


# ---------------------------------------------------------------------------
# Events

class Event:
    """A flag that threads can wait for until another thread sets it."""

    def __init__(self):
        self._cond = Condition(Lock())
        self._flag = False

    def __repr__(self):
        status = 'set' if self._flag else 'unset'
        return f"{_object_repr_head(self)}: {status}>"

    def is_set(self):
        """Return true if and only if the internal flag is true."""
        return self._flag

    def isSet(self):
        """Deprecated alias of is_set()."""
        _deprecated('isSet() is deprecated, use is_set() instead')
        return self.is_set()

    def set(self):
        """Set the flag and wake every waiting thread."""
        with self._cond:
            self._flag = True
            self._cond.notify_all()

    def clear(self):
        """Reset the flag; later wait() calls block again."""
        with self._cond:
            self._flag = False

    def wait(self, timeout=None):
        """Block until the flag is true or the timeout expires.

        Returns the flag on exit (so False means a timeout).
        """
        with self._cond:
            signaled = self._flag
            if not signaled:
                signaled = self._cond.wait(timeout)
            return signaled


# ---------------------------------------------------------------------------
# Barriers

class BrokenBarrierError(RuntimeError):
    pass


# Barrier states.
_FILLING = 0
_DRAINING = 1
_RESETTING = -1
_BROKEN = -2


class Barrier:
    """Blocks `parties` threads until all of them have called wait().

    A barrier fills up, then drains (everyone is released), then can be used
    again. If a wait times out, the action fails or abort() is called, the
    barrier breaks and every waiter gets BrokenBarrierError.
    """

    def __init__(self, parties, action=None, timeout=None):
        self._cond = Condition(Lock())
        self._action = action
        self._timeout = timeout
        self._parties = parties
        self._state = _FILLING
        self._count = 0

    def __repr__(self):
        if self.broken:
            return f"{_object_repr_head(self)}: broken>"
        return (f"{_object_repr_head(self)}:"
                f" waiters={self.n_waiting}/{self.parties}>")

    def wait(self, timeout=None):
        """Wait for the barrier; return this thread's index (0..parties-1)."""
        if timeout is None:
            timeout = self._timeout
        with self._cond:
            self._enter() # Block while the barrier drains.
            index = self._count
            self._count += 1
            try:
                if index + 1 == self._parties:
                    # We release the barrier
                    self._release()
                else:
                    self._wait(timeout)
                return index
            finally:
                self._count -= 1
                self._exit()

    def _enter(self):
        while self._state in (_RESETTING, _DRAINING):
            self._cond.wait()
        if self._state < 0:
            raise BrokenBarrierError

    def _release(self):
        try:
            if self._action:
                self._action()
            self._state = _DRAINING
            self._cond.notify_all()
        except:
            # The action failed: break the barrier, then re-raise.
            self._break()
            raise

    def _wait(self, timeout):
        if not self._cond.wait_for(lambda: self._state != _FILLING, timeout):
            # Timed out: break the barrier for everyone.
            self._break()
            raise BrokenBarrierError
        if self._state < 0:
            raise BrokenBarrierError

    def _exit(self):
        # The last thread out of a draining/resetting barrier reopens it.
        if self._count == 0:
            if self._state in (_RESETTING, _DRAINING):
                self._state = _FILLING
                self._cond.notify_all()

    def reset(self):
        """Return the barrier to its empty state; current waiters get
        BrokenBarrierError."""
        with self._cond:
            if self._count > 0:
                if self._state == _FILLING or self._state == _BROKEN:
                    self._state = _RESETTING
            else:
                self._state = _FILLING
            self._cond.notify_all()

    def abort(self):
        """Put the barrier into the broken state."""
        with self._cond:
            self._break()

    def _break(self):
        self._state = _BROKEN
        self._cond.notify_all()

    @property
    def parties(self):
        """The number of threads required to trip the barrier."""
        return self._parties

    @property
    def n_waiting(self):
        """The number of threads currently waiting at the barrier."""
        if self._state == _FILLING:
            return self._count
        return 0

    @property
    def broken(self):
        """True if the barrier is in the broken state."""
        return self._state == _BROKEN


# ---------------------------------------------------------------------------
# Thread bookkeeping

# Thread-N / Dummy-N numbers come from one counter, as in CPython.
_counter_lock = _allocate_lock()
_counter_value = 0


def _newname(prefix):
    global _counter_value
    with _counter_lock:
        _counter_value += 1
        n = _counter_value
    return f"{prefix}{n}"


_active_limbo_lock = RLock()
_active = {}    # ident -> Thread, for threads that are running
_limbo = {}     # Thread -> Thread, for threads being started

# Per-thread "finished" locks of running non-daemon threads; _shutdown()
# waits on each of them. A thread removes its own lock when it ends.
_shutdown_locks_lock = _allocate_lock()
_shutdown_locks = set()

# Functions other modules (concurrent.futures) want called at shutdown,
# before non-daemon threads are joined.
_threading_atexits = []
_SHUTTING_DOWN = False


class Thread:
    """A thread of control.

    Pass a callable as `target`, or subclass and override run(). A subclass
    that defines __init__ must call Thread.__init__() first.
    """

    _initialized = False

    def __init__(self, group=None, target=None, name=None,
                 args=(), kwargs=None, *, daemon=None):
        assert group is None, "group argument must be None for now"
        if kwargs is None:
            kwargs = {}
        if name:
            name = str(name)
        else:
            name = _newname("Thread-")
            if target is not None:
                try:
                    name += f" ({target.__name__})"
                except AttributeError:
                    pass

        self._target = target
        self._name = name
        self._args = args
        self._kwargs = kwargs
        if daemon is not None:
            self._daemonic = daemon
        else:
            self._daemonic = current_thread().daemon
        self._ident = None
        self._native_id = None
        # Held by the running thread and released when it ends: join() and
        # is_alive() look at it. Created by the new thread itself.
        self._tstate_lock = None
        self._started = Event()
        self._is_stopped = False
        self._initialized = True

    def __repr__(self):
        assert self._initialized, "Thread.__init__() was not called"
        status = "initial"
        if self._started.is_set():
            status = "started"
        self.is_alive()  # Notices a thread that has just finished.
        if self._is_stopped:
            status = "stopped"
        if self._daemonic:
            status += " daemon"
        if self._ident is not None:
            status += f" {self._ident}"
        return f"<{self.__class__.__name__}({self._name}, {status})>"

    def start(self):
        """Start the thread; it may be called at most once."""
        if not self._initialized:
            raise RuntimeError("thread.__init__() not called")
        if self._started.is_set():
            raise RuntimeError("threads can only be started once")
        with _active_limbo_lock:
            _limbo[self] = self
        try:
            _start_new_thread(self._bootstrap, ())
        except Exception:
            with _active_limbo_lock:
                del _limbo[self]
            raise
        # Return only once the thread runs, so ident and is_alive() are set.
        self._started.wait()

    def run(self):
        """The thread's activity: calls target(*args, **kwargs).

        Subclasses may override it.
        """
        try:
            if self._target is not None:
                self._target(*self._args, **self._kwargs)
        finally:
            # Drop references the thread no longer needs (the arguments may
            # refer back to the thread).
            del self._target, self._args, self._kwargs

    def _bootstrap(self):
        # Entry point of the new OS thread.
        self._bootstrap_inner()

    def _bootstrap_inner(self):
        # Named as in CPython: tracebacks of exceptions escaping run() start
        # in this frame, so they read the same.
        try:
            self._set_ident()
            self._set_tstate_lock()
            self._set_native_id()
            self._started.set()
            with _active_limbo_lock:
                _active[self._ident] = self
                del _limbo[self]
            try:
                self.run()
            except:
                _invoke_excepthook(self)
        finally:
            self._delete()
            self._release_tstate_lock()

    def _set_ident(self):
        self._ident = get_ident()

    def _set_native_id(self):
        self._native_id = get_native_id()

    def _set_tstate_lock(self):
        lock = _allocate_lock()
        lock.acquire()
        self._tstate_lock = lock
        if not self._daemonic:
            with _shutdown_locks_lock:
                _shutdown_locks.add(lock)

    def _release_tstate_lock(self):
        # The very last thing the thread does: wakes join() and _shutdown().
        lock = self._tstate_lock
        if lock is None:
            return
        if not self._daemonic:
            with _shutdown_locks_lock:
                _shutdown_locks.discard(lock)
        lock.release()

    def _stop(self):
        # Called by whoever sees the released tstate lock first.
        self._is_stopped = True
        self._tstate_lock = None

    def _delete(self):
        with _active_limbo_lock:
            _active.pop(get_ident(), None)
            _limbo.pop(self, None)

    def join(self, timeout=None):
        """Wait until the thread terminates, or until `timeout` seconds pass.

        join() always returns None: call is_alive() afterwards to tell
        whether a timeout happened.
        """
        if not self._initialized:
            raise RuntimeError("Thread.__init__() not called")
        if not self._started.is_set():
            raise RuntimeError("cannot join thread before it is started")
        if self is current_thread():
            raise RuntimeError("cannot join current thread")
        if timeout is None:
            self._wait_for_tstate_lock()
        else:
            self._wait_for_tstate_lock(timeout=max(timeout, 0))

    def _wait_for_tstate_lock(self, block=True, timeout=-1):
        lock = self._tstate_lock
        if lock is None:
            return  # Already known to be stopped.
        # The lock is free once the thread has ended; taking it (briefly)
        # proves that.
        if lock.acquire(block, timeout):
            lock.release()
            self._stop()

    @property
    def name(self):
        """A string used for identification purposes only."""
        assert self._initialized, "Thread.__init__() not called"
        return self._name

    @name.setter
    def name(self, name):
        assert self._initialized, "Thread.__init__() not called"
        self._name = str(name)

    @property
    def ident(self):
        """The thread's identifier (get_ident() inside it), or None before
        it is started."""
        assert self._initialized, "Thread.__init__() not called"
        return self._ident

    @property
    def native_id(self):
        """The OS thread id, or None before the thread is started."""
        assert self._initialized, "Thread.__init__() not called"
        return self._native_id

    def is_alive(self):
        """True from just before run() starts until just after it ends."""
        assert self._initialized, "Thread.__init__() not called"
        if self._is_stopped or not self._started.is_set():
            return False
        self._wait_for_tstate_lock(False)
        return not self._is_stopped

    @property
    def daemon(self):
        """Whether the program may exit while this thread still runs."""
        assert self._initialized, "Thread.__init__() not called"
        return self._daemonic

    @daemon.setter
    def daemon(self, daemonic):
        if not self._initialized:
            raise RuntimeError("Thread.__init__() not called")
        if self._started.is_set():
            raise RuntimeError("cannot set daemon status of active thread")
        self._daemonic = daemonic

    # Old-style accessors: deprecated, with CPython's warnings.
    def isDaemon(self):
        _deprecated('isDaemon() is deprecated, get the daemon attribute instead')
        return self.daemon

    def setDaemon(self, daemonic):
        _deprecated('setDaemon() is deprecated, set the daemon attribute instead')
        self.daemon = daemonic

    def getName(self):
        _deprecated('getName() is deprecated, get the name attribute instead')
        return self.name

    def setName(self, name):
        _deprecated('setName() is deprecated, set the name attribute instead')
        self.name = name


# ---------------------------------------------------------------------------
# Uncaught exceptions in threads

# The interpreter has no tracing or profiling, so these hooks are only
# remembered (programs that install one for their threads still run).
_trace_hook = None
_profile_hook = None


def settrace(func):
    """Remember a trace function for threads started from now on."""
    global _trace_hook
    _trace_hook = func


def gettrace():
    return _trace_hook


def setprofile(func):
    """Remember a profile function for threads started from now on."""
    global _profile_hook
    _profile_hook = func


def getprofile():
    return _profile_hook


class ExceptHookArgs:
    """The argument of threading.excepthook: exc_type, exc_value,
    exc_traceback and thread, also usable as a 4-tuple."""
    # CPython's is the C struct sequence _thread._ExceptHookArgs.
    __module__ = '_thread'

    _fields = ('exc_type', 'exc_value', 'exc_traceback', 'thread')

    def __init__(self, args):
        args = tuple(args)
        if len(args) != 4:
            raise TypeError(f"_thread._ExceptHookArgs() takes a 4-sequence"
                            f" ({len(args)}-sequence given)")
        self._values = args
        self.exc_type, self.exc_value, self.exc_traceback, self.thread = args

    def __iter__(self):
        return iter(self._values)

    def __len__(self):
        return 4

    def __getitem__(self, index):
        return self._values[index]

    def __eq__(self, other):
        if isinstance(other, ExceptHookArgs):
            other = other._values
        return self._values == other

    def __hash__(self):
        return hash(self._values)

    def __repr__(self):
        fields = ", ".join(f"{field}={value!r}" for field, value
                           in zip(self._fields, self._values))
        return f"_thread._ExceptHookArgs({fields})"


ExceptHookArgs.__name__ = ExceptHookArgs.__qualname__ = '_ExceptHookArgs'


def excepthook(args):
    """Handle an exception raised by Thread.run(): print it to stderr.

    SystemExit is ignored silently, so sys.exit() just ends the thread.
    """
    if args.exc_type == SystemExit:
        return
    stderr = _sys.stderr
    if stderr is None:
        return
    if args.thread is not None:
        name = args.thread.name
    else:
        name = get_ident()
    print(f"Exception in thread {name}:", file=stderr)
    _print_exception(args.exc_type, args.exc_value, args.exc_traceback,
                     file=stderr)
    _flush(stderr)


# The original hook, so a replaced one can be restored.
__excepthook__ = excepthook


def _flush(stream):
    flush = getattr(stream, "flush", None)
    if flush is not None:
        flush()


def _make_invoke_excepthook():
    # Returns the function a failing thread calls from its `except:` block.
    # (A closure named as CPython's, so tracebacks of a failing hook match.)

    def invoke_excepthook(thread):
        # The hook is looked up at each call, so programs may assign
        # threading.excepthook at any time.
        hook = excepthook
        if hook is None:
            hook = __excepthook__
        exc_type, exc_value, exc_tb = _sys.exc_info()
        args = ExceptHookArgs([exc_type, exc_value, exc_tb, thread])
        try:
            hook(args)
        except Exception as exc:
            # The hook itself failed: report that failure instead.
            exc.__suppress_context__ = True
            stderr = _sys.stderr
            if stderr is not None:
                print("Exception in threading.excepthook:", file=stderr)
                hook_type, hook_value, hook_tb = _sys.exc_info()
                _print_exception(hook_type, hook_value, hook_tb, file=stderr)
                _flush(stderr)
        finally:
            # Do not keep the traceback (and its frames) alive.
            args = None

    return invoke_excepthook


_invoke_excepthook = _make_invoke_excepthook()


# ---------------------------------------------------------------------------
# Timer

class Timer(Thread):
    """Call a function after a number of seconds, unless cancel() is
    called first:

        t = Timer(30.0, f, args=None, kwargs=None)
        t.start()
        t.cancel()
    """

    def __init__(self, interval, function, args=None, kwargs=None):
        Thread.__init__(self)
        self.interval = interval
        self.function = function
        self.args = args if args is not None else []
        self.kwargs = kwargs if kwargs is not None else {}
        self.finished = Event()

    def cancel(self):
        """Stop the timer if it hasn't finished yet."""
        self.finished.set()

    def run(self):
        self.finished.wait(self.interval)
        if not self.finished.is_set():
            self.function(*self.args, **self.kwargs)
        self.finished.set()


# ---------------------------------------------------------------------------
# The main thread and threads not started by this module

class _MainThread(Thread):

    def __init__(self):
        Thread.__init__(self, name="MainThread", daemon=False)
        # Not added to _shutdown_locks: _shutdown() releases it, it does not
        # wait for it.
        lock = _allocate_lock()
        lock.acquire()
        self._tstate_lock = lock
        self._started.set()
        self._set_ident()
        self._set_native_id()
        with _active_limbo_lock:
            _active[self._ident] = self


class _DummyThread(Thread):
    # Stands for a thread started directly with _thread.start_new_thread():
    # always alive, always daemonic, cannot be joined.

    def __init__(self):
        Thread.__init__(self, name=_newname("Dummy-"), daemon=True)
        self._started.set()
        self._set_ident()
        self._set_native_id()
        with _active_limbo_lock:
            _active[self._ident] = self

    def _stop(self):
        pass

    def is_alive(self):
        return True

    def join(self, timeout=None):
        raise AssertionError("cannot join a dummy thread")


# ---------------------------------------------------------------------------
# Module-level functions

def current_thread():
    """Return the Thread object for the calling thread."""
    try:
        return _active[get_ident()]
    except KeyError:
        return _DummyThread()


def currentThread():
    """Deprecated alias of current_thread()."""
    _deprecated('currentThread() is deprecated, use current_thread() instead')
    return current_thread()


def active_count():
    """Return the number of Thread objects currently alive."""
    with _active_limbo_lock:
        return len(_active) + len(_limbo)


def activeCount():
    """Deprecated alias of active_count()."""
    _deprecated('activeCount() is deprecated, use active_count() instead')
    return active_count()


def _enumerate():
    # Without the lock: for internal use.
    return list(_active.values()) + list(_limbo.values())


def enumerate():
    """Return a list of all Thread objects currently alive."""
    with _active_limbo_lock:
        return list(_active.values()) + list(_limbo.values())


def main_thread():
    """Return the main Thread object (the one that imported threading)."""
    return _main_thread


def _register_atexit(func, *args, **kwargs):
    """Call func(*args, **kwargs) at shutdown, before joining non-daemon
    threads (used by concurrent.futures to stop its workers)."""
    if _SHUTTING_DOWN:
        raise RuntimeError("can't register atexit after shutdown")

    def call():
        func(*args, **kwargs)

    _threading_atexits.append(call)


def _shutdown():
    """Wait for every non-daemon thread to finish.

    The interpreter calls this once, when the main program ends.
    """
    global _SHUTTING_DOWN
    if _main_thread._is_stopped:
        return  # Already done.
    _SHUTTING_DOWN = True

    # Registered callbacks first, most recent first (like atexit).
    for atexit_call in reversed(_threading_atexits):
        atexit_call()

    # The main thread is finished now: wake anyone joining it.
    if _main_thread.ident == get_ident():
        lock = _main_thread._tstate_lock
        if lock is not None:
            lock.release()
        _main_thread._stop()

    # Threads may start more threads while we wait, so repeat until none is
    # left.
    while True:
        with _shutdown_locks_lock:
            locks = list(_shutdown_locks)
            _shutdown_locks.clear()
        if not locks:
            break
        for lock in locks:
            lock.acquire()
            lock.release()


_main_thread = _MainThread()
