"""dataclass and field: generated __init__, __repr__ and __eq__ (and the
ordering methods with order=True; frozen=True refuses assignments)."""

__all__ = ['dataclass', 'field', 'fields', 'asdict', 'astuple',
           'FrozenInstanceError', 'MISSING', 'replace', 'is_dataclass',
           'InitVar', 'KW_ONLY']


class _MissingType:
    def __repr__(self):
        return 'MISSING'


MISSING = _MissingType()


class FrozenInstanceError(AttributeError):
    pass


class InitVar:
    """`x: InitVar[int]`: an __init__ parameter passed on to __post_init__,
    not a field."""

    def __init__(self, type):
        self.type = type

    def __class_getitem__(cls, type):
        return InitVar(type)

    def __repr__(self):
        name = getattr(self.type, '__name__', None) or repr(self.type)
        return f'dataclasses.InitVar[{name}]'


class _KW_ONLY_TYPE:
    pass


# `_: KW_ONLY`: the fields after it are keyword-only.
KW_ONLY = _KW_ONLY_TYPE()


def _is_classvar(typ):
    if isinstance(typ, str):
        return typ.startswith(('ClassVar', 'typing.ClassVar'))
    return repr(typ).startswith('typing.ClassVar')


def _is_initvar(typ):
    if isinstance(typ, str):
        return typ.startswith(('InitVar', 'dataclasses.InitVar'))
    return typ is InitVar or isinstance(typ, InitVar)


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
        self.kw_only = kw_only
        self.metadata = metadata or {}
        self._initvar = False

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
        return tuple(f for f in cls.__dataclass_fields__.values()
                     if not f._initvar)
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


def _collect_fields(cls, kw_only):
    result = {}
    for base in reversed(cls.__mro__[1:]):
        result.update(getattr(base, '__dataclass_fields__', {}))
    annotations = cls.__dict__.get('__annotations__', {})
    for name, typ in annotations.items():
        if _is_classvar(typ):
            continue
        if typ is KW_ONLY or isinstance(typ, _KW_ONLY_TYPE):
            kw_only = True
            continue
        default = cls.__dict__.get(name, MISSING)
        f = default if isinstance(default, Field) else Field(default=default)
        f.name = name
        f.type = typ
        f._initvar = _is_initvar(typ)
        if kw_only:
            f.kw_only = True
        if isinstance(f.default, (list, dict, set)):
            raise ValueError(f'mutable default {type(f.default)} for field '
                             f'{name} is not allowed: use default_factory')
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


def _has_default(f):
    return f.default is not MISSING or f.default_factory is not MISSING


def _make_init(cls, flds, frozen):
    params = [f for f in flds.values() if f.init and not f.kw_only]
    params += [f for f in flds.values() if f.init and f.kw_only]
    positional = [f for f in params if not f.kw_only]
    seen_default = False
    for f in positional:
        if _has_default(f):
            seen_default = True
        elif seen_default:
            raise TypeError(f'non-default argument {f.name!r} follows '
                            'default argument')
    qualname = cls.__qualname__
    initvars = [f.name for f in flds.values() if f._initvar]
    required = len([f for f in positional if not _has_default(f)])

    def __init__(self, *args, **kwargs):
        if len(args) > len(positional):
            most = len(positional) + 1
            if required + 1 == most:
                takes = f'{most} positional argument' + ('s' if most > 1 else '')
            else:
                takes = f'from {required + 1} to {most} positional arguments'
            given = len(args) + 1
            raise TypeError(f'{qualname}.__init__() takes {takes} but '
                            f'{given} {"was" if given == 1 else "were"} given')
        values = dict(zip([f.name for f in positional], args))
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
            if f._initvar:
                continue
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
            post_init(*[values.get(n, flds[n].default) for n in initvars])
    __init__.__qualname__ = f'{qualname}.__init__'
    return __init__


def _process_class(cls, init, repr, eq, order, frozen, match_args=True,
                   kw_only=False, unsafe_hash=False, slots=False):
    flds = _collect_fields(cls, kw_only)
    if slots and '__slots__' not in cls.__dict__:
        # A new class with __slots__ for the fields, as CPython makes one.
        ns = {k: v for k, v in cls.__dict__.items()
              if k not in ('__dict__', '__weakref__') and k not in flds}
        ns['__slots__'] = tuple(n for n, f in flds.items() if not f._initvar)
        cls = type(cls)(cls.__name__, cls.__bases__, ns)
    cls.__dataclass_fields__ = flds
    data = [f for f in flds.values() if not f._initvar]
    if match_args and '__match_args__' not in cls.__dict__:
        cls.__match_args__ = tuple(f.name for f in data
                                   if f.init and not f.kw_only)
    if init:
        cls.__init__ = _make_init(cls, flds, frozen)
    if repr:
        def __repr__(self):
            inner = ', '.join(f'{f.name}={getattr(self, f.name)!r}'
                              for f in data if f.repr)
            return f'{type(self).__qualname__}({inner})'
        cls.__repr__ = __repr__

    def _key(self):
        return tuple(getattr(self, f.name) for f in data if f.compare)
    if eq:
        def __eq__(self, other):
            if other.__class__ is self.__class__:
                return _key(self) == _key(other)
            return NotImplemented
        cls.__eq__ = __eq__
        if not frozen and '__hash__' not in cls.__dict__:
            cls.__hash__ = None
    if not getattr(cls, '__doc__'):
        cls.__doc__ = _signature_doc(cls.__name__, flds)
    if frozen or unsafe_hash:
        def __hash__(self):
            return hash(_key(self))
        cls.__hash__ = __hash__
    if frozen:
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


def _annotation_text(a):
    # As inspect.formatannotation: classes by (qualified) name, typing's
    # objects without the module prefix, others by repr.
    if getattr(a, '__module__', None) == 'typing':
        return repr(a).replace('typing.', '')
    if isinstance(a, type):
        if a.__module__ == 'builtins':
            return a.__qualname__
        return f'{a.__module__}.{a.__qualname__}'
    return repr(a)


def _signature_doc(name, flds):
    """CPython's docstring for a dataclass without one: its name and the
    signature of its __init__, e.g. `Point(x: int, y: int = 0)`."""
    params = [f for f in flds.values() if f.init and not f.kw_only]
    kw = [f for f in flds.values() if f.init and f.kw_only]
    parts = []
    for f in params + kw:
        if f is (kw[0] if kw else None):
            parts.append('*')
        text = f'{f.name}: {_annotation_text(f.type)}'
        if f.default is not MISSING:
            text += f' = {f.default!r}'
        elif f.default_factory is not MISSING:
            text += ' = <factory>'
        parts.append(text)
    return f"{name}({', '.join(parts)})"


def dataclass(cls=None, /, *, init=True, repr=True, eq=True, order=False,
              unsafe_hash=False, frozen=False, match_args=True,
              kw_only=False, slots=False):
    def wrap(cls):
        return _process_class(cls, init, repr, eq, order, frozen,
                              match_args, kw_only, unsafe_hash, slots)
    if cls is None:
        return wrap
    return wrap(cls)
