"""Shallow and deep copies of objects.

copy(x) makes a new container holding the same items; deepcopy(x) copies
the items too, recursively, keeping shared and cyclic references shared.
"""

__all__ = ['copy', 'deepcopy', 'Error']


class Error(Exception):
    pass


_ATOMIC = (type(None), bool, int, float, str, bytes, type, range,
           type(len), type(lambda: 0), type(Ellipsis), type(NotImplemented))


def _reconstruct(x, state_copier):
    cls = type(x)
    new = cls.__new__(cls)
    if hasattr(x, '__dict__'):
        for name, value in state_copier(dict(x.__dict__)).items():
            object.__setattr__(new, name, value)
    for klass in cls.__mro__:
        for name in klass.__dict__.get('__slots__', ()) if hasattr(klass, '__dict__') else ():
            if isinstance(klass.__dict__['__slots__'], str):
                name = klass.__dict__['__slots__']
            if name in ('__dict__', '__weakref__'):
                continue
            try:
                value = getattr(x, name)
            except AttributeError:
                continue
            setattr(new, name, state_copier(value))
    return new


def copy(x):
    cls = type(x)
    if isinstance(x, _ATOMIC) and cls in _ATOMIC:
        return x
    hook = getattr(cls, '__copy__', None)
    if hook is not None:
        return hook(x)
    if cls is list:
        return x[:]
    if cls is dict:
        return x.copy()
    if cls is set:
        return x.copy()
    if cls is tuple or cls is frozenset:
        return x
    if isinstance(x, list):
        new = _reconstruct(x, lambda s: s)
        new.extend(x)
        return new
    if isinstance(x, dict):
        new = _reconstruct(x, lambda s: s)
        new.update(x)
        return new
    return _reconstruct(x, lambda s: s)


def deepcopy(x, memo=None):
    if memo is None:
        memo = {}
    key = id(x)
    if key in memo:
        return memo[key]
    cls = type(x)
    if isinstance(x, _ATOMIC) and cls in _ATOMIC:
        return x
    hook = getattr(cls, '__deepcopy__', None)
    if hook is not None:
        new = hook(x, memo)
    elif cls is list:
        new = []
        memo[key] = new
        for item in x:
            new.append(deepcopy(item, memo))
    elif cls is dict:
        new = {}
        memo[key] = new
        for k, v in x.items():
            new[deepcopy(k, memo)] = deepcopy(v, memo)
    elif cls is tuple:
        items = [deepcopy(item, memo) for item in x]
        if key in memo:
            return memo[key]
        if all(a is b for a, b in zip(items, x)):
            new = x
        else:
            new = tuple(items)
    elif cls is set:
        new = {deepcopy(item, memo) for item in x}
    elif cls is frozenset:
        new = frozenset(deepcopy(item, memo) for item in x)
    else:
        new = _reconstruct(x, lambda s: deepcopy(s, memo))
        if isinstance(x, list):
            new.extend(deepcopy(item, memo) for item in x)
        elif isinstance(x, dict):
            for k, v in x.items():
                new[deepcopy(k, memo)] = deepcopy(v, memo)
    memo[key] = new
    # Keep x alive while its id is a memo key.
    memo.setdefault(id(memo), []).append(x)
    return new
