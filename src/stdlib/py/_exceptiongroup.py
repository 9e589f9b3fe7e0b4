"""BaseExceptionGroup and ExceptionGroup (PEP 654), and the two steps of an
``except*`` statement that the VM delegates here (``Instr::CheckEgMatch``,
``Instr::PrepReraiseStar``).

The builtins ``ExceptionGroup`` and ``BaseExceptionGroup`` come from this
module, loaded the first time a program names one or runs ``except*``.
"""


def _is_exception_class(t):
    return isinstance(t, type) and issubclass(t, BaseException)


def _matcher(condition):
    """A predicate on leaf exceptions for split()/subgroup()."""
    if _is_exception_class(condition):
        return lambda e: isinstance(e, condition)
    if isinstance(condition, tuple) and all(_is_exception_class(t) for t in condition):
        return lambda e: isinstance(e, condition)
    if callable(condition) and not isinstance(condition, type):
        return condition
    raise TypeError("expected an exception type, a tuple of exception types, or a callable (other than a class)")


def _copy_metadata(src, dst):
    dst.__traceback__ = src.__traceback__
    dst.__context__ = src.__context__
    dst.__cause__ = src.__cause__
    # As CPython's PyException_SetCause, which split() uses: setting the
    # cause, even to None, suppresses the context.
    dst.__suppress_context__ = True
    if hasattr(src, "__notes__"):
        dst.__notes__ = list(src.__notes__)
    return dst


class BaseExceptionGroup(BaseException):
    def __new__(cls, *args):
        if len(args) != 2:
            raise TypeError(f"BaseExceptionGroup.__new__() takes exactly 2 arguments ({len(args)} given)")
        message, exceptions = args
        if not isinstance(message, str):
            raise TypeError(f"BaseExceptionGroup.__new__() argument 1 must be str, not {type(message).__name__}")
        if not hasattr(exceptions, "__getitem__") or not hasattr(exceptions, "__len__") or isinstance(exceptions, (str, dict)):
            raise TypeError("second argument (exceptions) must be a sequence")
        excs = tuple(exceptions)
        if not excs:
            raise ValueError("second argument (exceptions) must be a non-empty sequence")
        for i, e in enumerate(excs):
            if not isinstance(e, BaseException):
                raise ValueError(f"Item {i} of second argument (exceptions) is not an exception")
        all_exceptions = all(isinstance(e, Exception) for e in excs)
        if cls is BaseExceptionGroup:
            if all_exceptions:
                cls = ExceptionGroup
        elif issubclass(cls, Exception) and not all_exceptions:
            if cls is ExceptionGroup:
                raise TypeError("Cannot nest BaseExceptions in an ExceptionGroup")
            raise TypeError(f"Cannot nest BaseExceptions in '{cls.__name__}'")
        self = super().__new__(cls, message, exceptions)
        self._message = message
        self._exceptions = excs
        return self

    def __init__(self, *args, **kwargs):
        pass

    @property
    def message(self):
        return self._message

    @property
    def exceptions(self):
        return self._exceptions

    def __str__(self):
        n = len(self._exceptions)
        return f"{self._message} ({n} sub-exception{'s' if n > 1 else ''})"

    def derive(self, excs):
        return BaseExceptionGroup(self._message, excs)

    def _derive_with_metadata(self, excs):
        eg = self.derive(excs)
        if not isinstance(eg, BaseExceptionGroup):
            raise TypeError(f"derive must return an instance of BaseExceptionGroup")
        return _copy_metadata(self, eg)

    def split(self, condition):
        return self._split(_matcher(condition))

    def subgroup(self, condition):
        return self._split(_matcher(condition))[0]

    def _split(self, pred):
        if pred(self):
            return self, None
        matched, rest = [], []
        for e in self._exceptions:
            if isinstance(e, BaseExceptionGroup):
                m, r = e._split(pred)
                if m is not None:
                    matched.append(m)
                if r is not None:
                    rest.append(r)
            elif pred(e):
                matched.append(e)
            else:
                rest.append(e)
        m = self._derive_with_metadata(matched) if matched else None
        r = self._derive_with_metadata(rest) if rest else None
        return m, r

    def __class_getitem__(cls, item):
        return cls


class ExceptionGroup(BaseExceptionGroup, Exception):
    pass


# Shown as built-ins (reprs, tracebacks), as in CPython.
BaseExceptionGroup.__module__ = "builtins"
ExceptionGroup.__module__ = "builtins"


def _check_except_star_type(t):
    types = t if isinstance(t, tuple) else (t,)
    for c in types:
        if not _is_exception_class(c):
            raise TypeError("catching classes that do not inherit from BaseException is not allowed")
        if issubclass(c, BaseExceptionGroup):
            raise TypeError("catching ExceptionGroup with except* is not allowed. Use except instead.")


def _eg_match(exc, t):
    """One ``except* t`` clause against what is left of the exception:
    ``(rest, match)``, either of them None."""
    _check_except_star_type(t)
    if exc is None:
        return None, None
    if isinstance(exc, t):
        # A naked exception is wrapped in a group for the handler; so is a
        # group that matches as a whole only when it is one.
        if isinstance(exc, BaseExceptionGroup):
            return None, exc
        eg = BaseExceptionGroup("", (exc,))
        eg.__traceback__ = exc.__traceback__
        return None, eg
    if isinstance(exc, BaseExceptionGroup):
        match, rest = exc.split(t)
        return rest, match
    return exc, None


def _leaf_ids(exc, into):
    if isinstance(exc, BaseExceptionGroup):
        for e in exc.exceptions:
            _leaf_ids(e, into)
    else:
        into.add(id(exc))


def _tb_lines(tb):
    lines = []
    while tb is not None:
        lines.append(tb.tb_lineno)
        tb = tb.tb_next
    return lines


def _same_metadata(a, b):
    """Whether `a` is (part of) `b` raised again: split() copies these, and
    a bare `raise` adds no traceback entry. (Traceback objects here are
    made afresh on each read, so they are compared by their lines.)"""
    return (a.__cause__ is b.__cause__ and a.__context__ is b.__context__
            and _tb_lines(a.__traceback__) == _tb_lines(b.__traceback__))


def _prep_reraise_star(orig, excs):
    """What an ``except*`` statement raises at its end: the unhandled part
    of ``orig`` together with what the handlers raised, or None."""
    excs = [e for e in excs if e is not None]
    if not excs:
        return None
    if not isinstance(orig, BaseExceptionGroup):
        # A naked exception: at most one clause ran.
        return excs[0]
    raised, reraised = [], set()
    for e in excs:
        if _same_metadata(e, orig):
            _leaf_ids(e, reraised)
        else:
            raised.append(e)
    kept = None
    if reraised:
        kept = orig._split(lambda leaf: not isinstance(leaf, BaseExceptionGroup) and id(leaf) in reraised)[0]
    if not raised:
        return kept
    if kept is not None:
        raised.append(kept)
    if len(raised) == 1:
        return raised[0]
    return BaseExceptionGroup("", raised)
