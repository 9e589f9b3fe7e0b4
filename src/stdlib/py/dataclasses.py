"""dataclass and field: generated __init__, __repr__ and __eq__ (and the
ordering methods with order=True; frozen=True refuses assignments)."""

__all__ = ['dataclass', 'field', 'fields', 'asdict', 'astuple',
           'FrozenInstanceError', 'MISSING', 'replace', 'is_dataclass']


class _MissingType:
    def __repr__(self):
        return 'MISSING'


MISSING = _MissingType()


class FrozenInstanceError(AttributeError):
    pass


class Field:
    def __init__(self, default=MISSING, default_factory=MISSING, init=True,
                 repr=True, compare=True, hash=None, kw_only=False,
                 metadata=None):
        if default is not MISSING and default_factory is not MISSING:
            raise ValueError('cannot specify both default and '
                             'default_factory')
        self.name = None
        self.type = None
        self.default = default
        self.default_factory = default_factory
        self.init = init
        self.repr = repr
        self.compare = compare
        self.metadata = metadata or {}

    def __repr__(self):
        return (f'Field(name={self.name!r},type={self.type!r},'
                f'default={self.default!r},'
                f'default_factory={self.default_factory!r},'
                f'init={self.init!r},repr={self.repr!r},'
                f'compare={self.compare!r})')


def field(*, default=MISSING, default_factory=MISSING, init=True, repr=True,
          compare=True, hash=None, kw_only=False, metadata=None):
    return Field(default, default_factory, init, repr, compare, hash,
                 kw_only, metadata)


def fields(obj):
    cls = obj if isinstance(obj, type) else type(obj)
    try:
        return tuple(cls.__dataclass_fields__.values())
    except AttributeError:
        raise TypeError('must be called with a dataclass type or instance')


def is_dataclass(obj):
    cls = obj if isinstance(obj, type) else type(obj)
    return hasattr(cls, '__dataclass_fields__')


def asdict(obj):
    return {f.name: _copy_value(getattr(obj, f.name)) for f in fields(obj)}


def astuple(obj):
    return tuple(_copy_value(getattr(obj, f.name)) for f in fields(obj))


def _copy_value(v):
    if is_dataclass(v) and not isinstance(v, type):
        return asdict(v)
    if isinstance(v, list):
        return [_copy_value(x) for x in v]
    if isinstance(v, dict):
        return {k: _copy_value(x) for k, x in v.items()}
    return v


def replace(obj, **changes):
    values = {f.name: getattr(obj, f.name) for f in fields(obj) if f.init}
    values.update(changes)
    return type(obj)(**values)


def _collect_fields(cls):
    result = {}
    for base in reversed(cls.__mro__[1:]):
        result.update(getattr(base, '__dataclass_fields__', {}))
    annotations = cls.__dict__.get('__annotations__', {})
    for name, typ in annotations.items():
        default = cls.__dict__.get(name, MISSING)
        f = default if isinstance(default, Field) else Field(default=default)
        f.name = name
        f.type = typ
        if isinstance(default, Field):
            if f.default is MISSING:
                try:
                    delattr(cls, name)
                except AttributeError:
                    pass
            else:
                setattr(cls, name, f.default)
        result[name] = f
    return result


def _make_init(cls, flds, frozen):
    params = [f for f in flds.values() if f.init]
    seen_default = False
    for f in params:
        if f.default is not MISSING or f.default_factory is not MISSING:
            seen_default = True
        elif seen_default:
            raise TypeError(f'non-default argument {f.name!r} follows '
                            'default argument')
    qualname = cls.__qualname__

    def __init__(self, *args, **kwargs):
        if len(args) > len(params):
            raise TypeError(f'{qualname}.__init__() takes {len(params) + 1} '
                            f'positional arguments but {len(args) + 1} were '
                            'given')
        values = dict(zip([f.name for f in params], args))
        for name in kwargs:
            if name in values:
                raise TypeError(f"{qualname}.__init__() got multiple values "
                                f"for argument '{name}'")
            if name not in [f.name for f in params]:
                raise TypeError(f"{qualname}.__init__() got an unexpected "
                                f"keyword argument '{name}'")
        values.update(kwargs)
        missing = [f.name for f in params if f.name not in values
                   and f.default is MISSING and f.default_factory is MISSING]
        if missing:
            listed = ' and '.join(repr(m) for m in missing) \
                if len(missing) <= 2 else \
                ', '.join(repr(m) for m in missing[:-1]) + \
                f', and {missing[-1]!r}'
            s = 's' if len(missing) > 1 else ''
            raise TypeError(f'{qualname}.__init__() missing {len(missing)} '
                            f'required positional argument{s}: {listed}')
        for f in flds.values():
            if f.name in values:
                value = values[f.name]
            elif f.default_factory is not MISSING:
                value = f.default_factory()
            elif f.default is not MISSING:
                value = f.default
            else:
                continue
            if frozen:
                object.__setattr__(self, f.name, value)
            else:
                setattr(self, f.name, value)
        post_init = getattr(self, '__post_init__', None)
        if post_init is not None:
            post_init()
    return __init__


def _process_class(cls, init, repr, eq, order, frozen, match_args=True):
    flds = _collect_fields(cls)
    cls.__dataclass_fields__ = flds
    if match_args and '__match_args__' not in cls.__dict__:
        cls.__match_args__ = tuple(f.name for f in flds.values() if f.init)
    if init:
        cls.__init__ = _make_init(cls, flds, frozen)
    if repr:
        def __repr__(self):
            inner = ', '.join(f'{f.name}={getattr(self, f.name)!r}'
                              for f in flds.values() if f.repr)
            return f'{type(self).__qualname__}({inner})'
        cls.__repr__ = __repr__

    def _key(self):
        return tuple(getattr(self, f.name) for f in flds.values()
                     if f.compare)
    if eq:
        def __eq__(self, other):
            if other.__class__ is self.__class__:
                return _key(self) == _key(other)
            return NotImplemented
        cls.__eq__ = __eq__
        if not frozen and '__hash__' not in cls.__dict__:
            cls.__hash__ = None
    if frozen:
        def __hash__(self):
            return hash(_key(self))
        cls.__hash__ = __hash__

        def __setattr__(self, name, value):
            raise FrozenInstanceError(f"cannot assign to field '{name}'")

        def __delattr__(self, name):
            raise FrozenInstanceError(f"cannot delete field '{name}'")
        cls.__setattr__ = __setattr__
        cls.__delattr__ = __delattr__
    if order:
        def _cmp(op):
            def method(self, other):
                if other.__class__ is self.__class__:
                    return op(_key(self), _key(other))
                return NotImplemented
            return method
        cls.__lt__ = _cmp(lambda a, b: a < b)
        cls.__le__ = _cmp(lambda a, b: a <= b)
        cls.__gt__ = _cmp(lambda a, b: a > b)
        cls.__ge__ = _cmp(lambda a, b: a >= b)
    return cls


def dataclass(cls=None, /, *, init=True, repr=True, eq=True, order=False,
              unsafe_hash=False, frozen=False, match_args=True,
              kw_only=False, slots=False):
    def wrap(cls):
        return _process_class(cls, init, repr, eq, order, frozen,
                              match_args)
    if cls is None:
        return wrap
    return wrap(cls)
