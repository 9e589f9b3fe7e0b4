"""Functions to run when the program ends: after the main program and the
non-daemon threads have finished, last registered first, as in CPython."""

import sys

_exithandlers = []


def register(func, *args, **kwargs):
    """Register func to be called with args at exit; returns func so it
    can be used as a decorator."""
    if not callable(func):
        raise TypeError('the first argument must be callable')
    _exithandlers.append((func, args, kwargs))
    return func


def unregister(func):
    """Remove every registration of func."""
    _exithandlers[:] = [h for h in _exithandlers if h[0] != func]


def _clear():
    del _exithandlers[:]


def _ncallbacks():
    return len(_exithandlers)


def _run_exitfuncs():
    """Called by the interpreter at exit. An exception in one callback is
    reported and the others still run."""
    import traceback
    while _exithandlers:
        func, args, kwargs = _exithandlers.pop()
        try:
            func(*args, **kwargs)
        except SystemExit:
            pass
        except BaseException as exc:
            print(f'Exception ignored in atexit callback: {func!r}',
                  file=sys.stderr)
            traceback.print_exception(type(exc), exc, exc.__traceback__)
