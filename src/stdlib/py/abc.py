"""Abstract base classes.

A class deriving from ABC (or created with metaclass=ABCMeta) cannot be
instantiated while any method decorated with @abstractmethod is still
missing a concrete override.
"""

__all__ = ['ABC', 'ABCMeta', 'abstractmethod', 'abstractproperty',
           'abstractclassmethod', 'abstractstaticmethod', 'get_cache_token']


def abstractmethod(funcobj):
    funcobj.__isabstractmethod__ = True
    return funcobj


def _is_abstract(value):
    if isinstance(value, property):
        return any(_is_abstract(f) for f in (value.fget, value.fset, value.fdel)
                   if f is not None)
    inner = getattr(value, '__func__', None)
    if inner is not None and _is_abstract(inner):
        return True
    return getattr(value, '__isabstractmethod__', False) is True


def _abstract_names(cls):
    seen = set()
    names = []
    for klass in cls.__mro__:
        for name, value in klass.__dict__.items():
            if name in seen:
                continue
            seen.add(name)
            if _is_abstract(value):
                names.append(name)
    return sorted(names)


def _checked_new(cls, *args, **kwargs):
    names = _abstract_names(cls)
    if names:
        plural = '' if len(names) == 1 else 's'
        raise TypeError(
            f"Can't instantiate abstract class {cls.__name__} "
            f"with abstract method{plural} {', '.join(names)}")
    return object.__new__(cls)


class ABCMeta(type):
    def __new__(mcls, name, bases, namespace, **kwargs):
        if '__new__' not in namespace:
            namespace['__new__'] = _checked_new
        return super().__new__(mcls, name, bases, namespace, **kwargs)


class ABC:
    __slots__ = ()

    def __new__(cls, *args, **kwargs):
        return _checked_new(cls)


class abstractproperty(property):
    __isabstractmethod__ = True


class abstractclassmethod(classmethod):
    __isabstractmethod__ = True

    def __init__(self, callable):
        callable.__isabstractmethod__ = True
        super().__init__(callable)


class abstractstaticmethod(staticmethod):
    __isabstractmethod__ = True

    def __init__(self, callable):
        callable.__isabstractmethod__ = True
        super().__init__(callable)


def get_cache_token():
    return 0
