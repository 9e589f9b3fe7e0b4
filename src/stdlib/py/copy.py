"""Shallow and deep copies of objects.

copy(x) makes a new container holding the same items; deepcopy(x) copies
the items too, recursively, keeping shared and cyclic references shared.

Instances are copied as CPython does: through __copy__/__deepcopy__ when the
class defines them, otherwise through a reduction (callable, args, state,
listitems, dictitems) taken from __reduce_ex__/__reduce__ or, by default,
from cls.__new__ and the instance's __getstate__ (its __dict__ and slots).
"""

__all__ = ['copy', 'deepcopy', 'Error']


class Error(Exception):
    pass


error = Error

_ATOMIC = (type(None), bool, int, float, str, bytes, type, range,
           type(len), type(lambda: 0), type(Ellipsis), type(NotImplemented),
           property)


def _is_atomic(x, cls):
    # Subclasses of atomic types carry instance state, so they are not atomic.
    return (cls in _ATOMIC and isinstance(x, _ATOMIC)) or issubclass(cls, type)


def _is_dict(cls):
    # An instance's __dict__ is a write-through subclass of dict that also
    # calls itself builtins.dict; it copies as the plain dict it stands for.
    return cls is dict or (issubclass(cls, dict) and cls.__name__ == 'dict'
                           and cls.__module__ == 'builtins')


def copy(x):
    cls = type(x)
    if _is_atomic(x, cls):
        return x
    if cls is list:
        return x[:]
    if _is_dict(cls):
        return dict(x)
    if cls is set:
        return x.copy()
    if cls is tuple or cls is frozenset:
        return x
    copier = getattr(cls, '__copy__', None)
    if copier is not None:
        return copier(x)
    rv = _reduce(x, cls)
    if isinstance(rv, str):
        return x
    return _reconstruct(x, None, *rv)


def deepcopy(x, memo=None, _nil=[]):
    if memo is None:
        memo = {}
    d = id(x)
    y = memo.get(d, _nil)
    if y is not _nil:
        return y
    cls = type(x)
    if _is_atomic(x, cls):
        y = x
    elif cls is list:
        y = []
        memo[d] = y
        for item in x:
            y.append(deepcopy(item, memo))
    elif _is_dict(cls):
        y = {}
        memo[d] = y
        for key, value in x.items():
            y[deepcopy(key, memo)] = deepcopy(value, memo)
    elif cls is tuple:
        items = [deepcopy(item, memo) for item in x]
        # A cycle through the tuple may already have produced its copy.
        if d in memo:
            return memo[d]
        if all(a is b for a, b in zip(items, x)):
            y = x
        else:
            y = tuple(items)
    else:
        copier = getattr(x, '__deepcopy__', None)
        if copier is not None:
            y = copier(memo)
        else:
            rv = _reduce(x, cls)
            if isinstance(rv, str):
                y = x
            else:
                y = _reconstruct(x, memo, *rv)
    if y is not x:
        memo[d] = y
        _keep_alive(x, memo)
    return y


def _keep_alive(x, memo):
    # x must outlive the memo, or its id could be reused by a new object.
    try:
        memo[id(memo)].append(x)
    except KeyError:
        memo[id(memo)] = [x]


def _reduce(x, cls):
    reductor = getattr(cls, '__reduce_ex__', None)
    if reductor is not None:
        rv = reductor(x, 4)
    else:
        reductor = getattr(cls, '__reduce__', None)
        if reductor is not None:
            rv = reductor(x)
        else:
            rv = _default_reduce(x, cls)
    if not isinstance(rv, (str, tuple)):
        raise Error("un(deep)copyable object of type %s" % cls)
    return rv


def __newobj__(cls, *args):
    return cls.__new__(cls, *args)


def _default_reduce(x, cls):
    """object.__reduce_ex__(4): cls.__new__(cls, *newargs) plus the state."""
    if cls in (set, frozenset):
        return (cls, (list(x),), _instance_dict(x))
    getnewargs = getattr(x, '__getnewargs__', None)
    args = tuple(getnewargs()) if getnewargs is not None else ()
    getstate = getattr(x, '__getstate__', None)
    state = getstate() if getstate is not None else _default_state(x, cls)
    listitems = iter(x) if isinstance(x, list) else None
    dictitems = iter(x.items()) if isinstance(x, dict) else None
    return (__newobj__, (cls,) + args, state, listitems, dictitems)


def _instance_dict(x):
    try:
        return dict(x.__dict__) or None
    except AttributeError:
        return None


def _default_state(x, cls):
    """What object.__getstate__() returns: the __dict__, plus the slots."""
    state = _instance_dict(x)
    slots = {}
    for name in _slotnames(cls):
        try:
            slots[name] = getattr(x, name)
        except AttributeError:
            pass
    if slots:
        return (state, slots)
    return state


def _slotnames(cls):
    """The names of the slots of cls and its bases (as copyreg._slotnames)."""
    names = []
    for klass in cls.__mro__:
        slots = vars(klass).get('__slots__', ())
        if isinstance(slots, str):
            slots = (slots,)
        for name in slots:
            if name in ('__dict__', '__weakref__'):
                continue
            # Private names are stored mangled.
            if name.startswith('__') and not name.endswith('__'):
                stripped = klass.__name__.lstrip('_')
                if stripped:
                    name = '_%s%s' % (stripped, name)
            names.append(name)
    return names


def _reconstruct(x, memo, func, args, state=None, listiter=None,
                 dictiter=None):
    deep = memo is not None
    if deep and args:
        args = [deepcopy(arg, memo) for arg in args]
    y = func(*args)
    # Registered before the state is copied, so cycles back to x find y.
    if deep:
        memo[id(x)] = y

    if state is not None:
        if deep:
            state = deepcopy(state, memo)
        if hasattr(y, '__setstate__'):
            y.__setstate__(state)
        else:
            if isinstance(state, tuple) and len(state) == 2:
                state, slotstate = state
            else:
                slotstate = None
            if state is not None:
                y.__dict__.update(state)
            if slotstate is not None:
                for key, value in slotstate.items():
                    setattr(y, key, value)

    if listiter is not None:
        if deep:
            for item in listiter:
                y.append(deepcopy(item, memo))
        else:
            for item in listiter:
                y.append(item)
    if dictiter is not None:
        if deep:
            for key, value in dictiter:
                y[deepcopy(key, memo)] = deepcopy(value, memo)
        else:
            for key, value in dictiter:
                y[key] = value
    return y
