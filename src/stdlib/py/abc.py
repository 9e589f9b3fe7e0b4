"""Abstract base classes.

A class deriving from ABC (or created with metaclass=ABCMeta) cannot be
instantiated while any method decorated with @abstractmethod is still
missing a concrete override. isinstance() and issubclass() against an ABC
also accept its registered virtual subclasses (ABC.register) and whatever
its __subclasshook__ accepts, as CPython's ABCMeta does (the algorithm is
that of CPython's _py_abc).

How the checks reach ABCMeta: every ABC carries `_abc_impl`, a hooks
object; when isinstance/issubclass find a class's MRO does not settle the
question, they ask `cls._abc_impl` (see `abc_hooks` in the VM), which runs
ABCMeta.__instancecheck__/__subclasscheck__ for the class. This works
whether or not the class records ABCMeta as its metaclass.

Differences from CPython: the caches and registries hold strong
references (there are no weak references), so a class once checked against
an ABC stays alive; the abstract-method check runs at the first
instantiation of each class, not at class creation.
"""

__all__ = ['ABC', 'ABCMeta', 'abstractmethod', 'abstractproperty',
           'abstractclassmethod', 'abstractstaticmethod', 'get_cache_token',
           'update_abstractmethods']


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


# The abstract methods of each class instantiated so far.
_abstracts = {}


def _checked_new(cls, *args, **kwargs):
    names = _abstracts.get(cls)
    if names is None:
        names = _abstracts[cls] = _abstract_names(cls)
    if names:
        plural = '' if len(names) == 1 else 's'
        raise TypeError(
            f"Can't instantiate abstract class {cls.__name__} "
            f"with abstract method{plural} {', '.join(names)}")
    return object.__new__(cls)


def _abstract_set(cls, namespace, bases):
    """CPython's `__abstractmethods__`: the namespace's abstract methods and
    the bases' ones that cls still leaves abstract."""
    names = {name for name, value in namespace.items() if _is_abstract(value)}
    for base in bases:
        for name in getattr(base, '__abstractmethods__', ()):
            if _is_abstract(getattr(cls, name, None)):
                names.add(name)
    return frozenset(names)


def update_abstractmethods(cls):
    """Recompute the abstract methods of cls (after adding methods to it)."""
    _abstracts.pop(cls, None)
    if hasattr(cls, '__abstractmethods__'):
        cls.__abstractmethods__ = _abstract_set(cls, dict(cls.__dict__),
                                                cls.__bases__)
    return cls


# Bumped by every register(): negative caches older than it are stale.
_abc_invalidation_counter = 0


class _AbcData:
    """An ABC's registry of virtual subclasses and its check caches."""

    __slots__ = ('registry', 'cache', 'negative_cache', 'negative_version')

    def __init__(self):
        self.registry = []
        self.cache = set()
        self.negative_cache = set()
        self.negative_version = _abc_invalidation_counter


_abc_data = {}


def _data(cls):
    data = _abc_data.get(cls)
    if data is None:
        data = _abc_data[cls] = _AbcData()
    return data


def _instancecheck(cls, instance):
    subclass = instance.__class__
    data = _data(cls)
    if subclass in data.cache:
        return True
    subtype = type(instance)
    if subtype is subclass:
        if (data.negative_version == _abc_invalidation_counter
                and subclass in data.negative_cache):
            return False
        return _subclasscheck(cls, subclass)
    return any(_subclasscheck(cls, c) for c in (subclass, subtype))


def _subclasscheck(cls, subclass):
    if not isinstance(subclass, type):
        raise TypeError('issubclass() arg 1 must be a class')
    data = _data(cls)
    if subclass in data.cache:
        return True
    if data.negative_version < _abc_invalidation_counter:
        data.negative_cache = set()
        data.negative_version = _abc_invalidation_counter
    elif subclass in data.negative_cache:
        return False
    ok = cls.__subclasshook__(subclass)
    if ok is not NotImplemented:
        if ok:
            data.cache.add(subclass)
        else:
            data.negative_cache.add(subclass)
        return ok
    if cls in getattr(subclass, '__mro__', ()):
        data.cache.add(subclass)
        return True
    for rcls in data.registry:
        if issubclass(subclass, rcls):
            data.cache.add(subclass)
            return True
    for scls in cls.__subclasses__():
        if issubclass(subclass, scls):
            data.cache.add(subclass)
            return True
    data.negative_cache.add(subclass)
    return False


def _register(cls, subclass):
    if not isinstance(subclass, type):
        raise TypeError("Can only register classes")
    if issubclass(subclass, cls):
        return subclass
    if issubclass(cls, subclass):
        raise RuntimeError("Refusing to create an inheritance cycle")
    global _abc_invalidation_counter
    _data(cls).registry.append(subclass)
    _abc_invalidation_counter += 1
    return subclass


class _AbcHooks:
    """What isinstance() and issubclass() call for an ABC (cls._abc_impl)."""

    __slots__ = ()

    def instancecheck(self, cls, instance):
        return _instancecheck(cls, instance)

    def subclasscheck(self, cls, subclass):
        return _subclasscheck(cls, subclass)


_hooks = _AbcHooks()


class _ProbeMeta(type):
    pass


class _Probe(metaclass=_ProbeMeta):
    pass


# Whether classes keep the metaclass that made them; when they do not, the
# methods ABCMeta gives its classes (register) are put in each ABC itself.
_HAS_METACLASSES = type(_Probe) is _ProbeMeta
del _Probe, _ProbeMeta


class ABCMeta(type):
    def __new__(mcls, name, bases, namespace, /, **kwargs):
        if '__new__' not in namespace:
            namespace['__new__'] = _checked_new
        namespace.setdefault('_abc_impl', _hooks)
        if not _HAS_METACLASSES:
            namespace.setdefault('register', classmethod(_register))
        cls = super().__new__(mcls, name, bases, namespace, **kwargs)
        cls.__abstractmethods__ = _abstract_set(cls, namespace, bases)
        return cls

    def register(cls, subclass):
        """Register a virtual subclass of an ABC; returns the subclass."""
        return _register(cls, subclass)

    def __instancecheck__(cls, instance):
        return _instancecheck(cls, instance)

    def __subclasscheck__(cls, subclass):
        return _subclasscheck(cls, subclass)


class ABC(metaclass=ABCMeta):
    __slots__ = ()


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
    return _abc_invalidation_counter
