"""Names for type hints. The interpreter does not check types, so each name
is a placeholder that can be subscripted (List[int], Optional[str]) and
printed; programs that annotate their code run unchanged."""

__all__ = ['Any', 'Callable', 'ClassVar', 'Dict', 'FrozenSet', 'Generator',
           'Generic', 'Iterable', 'Iterator', 'List', 'Literal', 'Mapping',
           'NamedTuple', 'NoReturn', 'Optional', 'Protocol', 'Sequence',
           'Set', 'Tuple', 'Type', 'TypeVar', 'Union', 'Deque',
           'DefaultDict', 'Counter', 'Awaitable', 'Coroutine', 'Final',
           'cast', 'overload', 'TYPE_CHECKING', 'no_type_check',
           'get_type_hints']

TYPE_CHECKING = False


class _Hint:
    """A type-hint placeholder: `typing.List`, `typing.List[int]`."""

    def __init__(self, name, args=None):
        self._name = name
        self.__args__ = args

    def __getitem__(self, params):
        if not isinstance(params, tuple):
            params = (params,)
        return _Hint(self._name, params)

    def __repr__(self):
        if self.__args__ is None:
            return 'typing.' + self._name
        return 'typing.%s[%s]' % (self._name,
                                   ', '.join(_hint_repr(a)
                                             for a in self.__args__))

    def __call__(self, *args, **kwargs):
        raise TypeError(f"Type {self._name} cannot be instantiated; "
                        f"use {self._name.lower()}() instead")

    def __or__(self, other):
        return _Hint('Union', (self, other))

    def __ror__(self, other):
        return _Hint('Union', (other, self))


def _hint_repr(obj):
    if isinstance(obj, type):
        if obj.__module__ == 'builtins':
            return obj.__qualname__
        return f'{obj.__module__}.{obj.__qualname__}'
    if obj is ...:
        return '...'
    if isinstance(obj, list):
        return '[' + ', '.join(_hint_repr(a) for a in obj) + ']'
    return repr(obj)


for _name in ['Any', 'Callable', 'ClassVar', 'Dict', 'FrozenSet',
              'Generator', 'Iterable', 'Iterator', 'List', 'Literal',
              'Mapping', 'NoReturn', 'Optional', 'Sequence', 'Set', 'Tuple',
              'Type', 'Union', 'Deque', 'DefaultDict', 'Counter',
              'Awaitable', 'Coroutine', 'Final', 'MutableMapping',
              'MutableSequence', 'AbstractSet', 'Hashable', 'Sized',
              'Collection', 'Container', 'Reversible', 'SupportsInt',
              'SupportsFloat', 'Annotated', 'Self', 'Never']:
    globals()[_name] = _Hint(_name)
del _name


class TypeVar:
    """Type variable: `T = TypeVar('T')`."""

    def __init__(self, name, *constraints, bound=None, covariant=False,
                 contravariant=False):
        self.__name__ = name
        self.__constraints__ = constraints
        self.__bound__ = bound

    def __repr__(self):
        return '~' + self.__name__


class Generic:
    """Base class for generic classes: `class Box(Generic[T])`."""

    def __class_getitem__(cls, params):
        return cls


class Protocol(Generic):
    """Base class for structural types; no checks are made."""


def NamedTuple(typename, fields=None, **kwargs):
    """`NamedTuple('P', [('x', int), ('y', int)])`."""
    from collections import namedtuple
    if fields is None:
        fields = kwargs.items()
    return namedtuple(typename, [name for name, _ in fields])


class _NamedTuple(tuple):
    """What `class P(NamedTuple): x: int` derives from: the fields are the
    class's annotations, their class-level values the defaults; methods
    defined in the class body override the generated ones."""

    __slots__ = ()

    def __init_subclass__(cls, **kwargs):
        from collections import namedtuple
        ns = dict(cls.__dict__)
        fields = list(ns.get('__annotations__', {}))
        defaults = []
        for name in fields:
            if name in ns:
                defaults.append(ns[name])
            elif defaults:
                s = 's' if len(defaults) > 1 else ''
                given = ', '.join(fields[fields.index(name) - len(defaults):
                                         fields.index(name)])
                raise TypeError(f"Non-default namedtuple field {name} cannot "
                                f"follow default field{s} {given}")
        nt = namedtuple(cls.__name__, fields, defaults=defaults,
                        module=cls.__module__)
        for key, value in nt.__dict__.items():
            if key in ('__module__', '__dict__', '__weakref__', '__qualname__'):
                continue
            if key in ns and key not in fields and not (
                    key == '__doc__' and ns[key] is None):
                continue
            setattr(cls, key, value)


NamedTuple.__mro_entries__ = lambda bases: (_NamedTuple,)


def cast(typ, val):
    """Return the value unchanged (a hint for type checkers)."""
    return val


def overload(func):
    return func


def no_type_check(func):
    return func


def final(func):
    return func


def get_type_hints(obj, globalns=None, localns=None):
    return dict(getattr(obj, '__annotations__', {}) or {})
