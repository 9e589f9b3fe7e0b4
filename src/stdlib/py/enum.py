"""Enumerations: Enum, IntEnum, StrEnum, Flag, IntFlag, auto and unique.

An enumeration is a class whose metaclass, EnumType, turns the plain
values of the class body into members: instances of the class that carry
a name and a value. Members are created once, when the class is; looking
a member up by value (`Color(1)`) or by name (`Color['RED']`) returns one
of them, never a new object.
"""

__all__ = ['EnumType', 'EnumMeta', 'Enum', 'ReprEnum', 'IntEnum', 'StrEnum',
           'Flag', 'IntFlag', 'FlagBoundary', 'STRICT', 'CONFORM', 'EJECT',
           'KEEP', 'auto', 'unique']


class _AutoNull:
    def __repr__(self):
        return '_auto_null'


_auto_null = _AutoNull()


class _Later:
    """Arithmetic on auto() values in a class body (`RW = R | W`), done once
    the enumeration has chosen their values."""

    def __or__(self, other):
        return _Op(lambda a, b: a | b, self, other)

    def __ror__(self, other):
        return _Op(lambda a, b: a | b, other, self)

    def __and__(self, other):
        return _Op(lambda a, b: a & b, self, other)

    def __rand__(self, other):
        return _Op(lambda a, b: a & b, other, self)

    def __xor__(self, other):
        return _Op(lambda a, b: a ^ b, self, other)

    def __rxor__(self, other):
        return _Op(lambda a, b: a ^ b, other, self)

    def __add__(self, other):
        return _Op(lambda a, b: a + b, self, other)

    def __radd__(self, other):
        return _Op(lambda a, b: a + b, other, self)


def _resolve(value):
    if isinstance(value, _Op):
        return value.op(_resolve(value.left), _resolve(value.right))
    if isinstance(value, auto):
        return value.value
    return value


class _Op(_Later):
    def __init__(self, op, left, right):
        self.op, self.left, self.right = op, left, right


class auto(_Later):
    """A member value chosen by the enumeration (`_generate_next_value_`)."""

    def __init__(self, value=_auto_null):
        self.value = value

    def __repr__(self):
        return 'auto(%r)' % (self.value,)


class mappingproxy:
    """A read-only view of a dict (what `Color.__members__` returns)."""

    def __init__(self, mapping):
        self._mapping = mapping

    def __getitem__(self, key):
        return self._mapping[key]

    def __iter__(self):
        return iter(self._mapping)

    def __len__(self):
        return len(self._mapping)

    def __contains__(self, key):
        return key in self._mapping

    def __eq__(self, other):
        return self._mapping == other

    def __repr__(self):
        return 'mappingproxy(%r)' % (self._mapping,)

    def __str__(self):
        return str(self._mapping)

    def get(self, key, default=None):
        return self._mapping.get(key, default)

    def keys(self):
        return self._mapping.keys()

    def values(self):
        return self._mapping.values()

    def items(self):
        return self._mapping.items()

    def copy(self):
        return dict(self._mapping)


def _is_dunder(name):
    return (len(name) > 4 and name[:2] == name[-2:] == '__'
            and name[2] != '_' and name[-3] != '_')


def _is_sunder(name):
    return (len(name) > 2 and name[0] == name[-1] == '_'
            and name[1] != '_' and name[-2] != '_')


def _is_private(cls_name, name):
    prefix = '_%s__' % (cls_name.lstrip('_'),)
    return name.startswith(prefix) and not name.endswith('__')


def _is_descriptor(obj):
    return (hasattr(obj, '__get__') or hasattr(obj, '__set__')
            or hasattr(obj, '__delete__'))


def _is_single_bit(num):
    return num != 0 and num & (num - 1) == 0


def _bits(num):
    """The single-bit values set in `num`, lowest first."""
    while num:
        bit = num & -num
        yield bit
        num ^= bit


def _bin(num, max_bits=None):
    """`bin()` with a sign digit: `0b0 0111` (how Flag errors print values)."""
    ceiling = 2 ** num.bit_length()
    if num >= 0:
        s = bin(num + ceiling).replace('1', '0', 1)
    else:
        s = bin(~num ^ (ceiling - 1) + ceiling)
    sign, digits = s[:3], s[3:]
    if max_bits is not None and len(digits) < max_bits:
        digits = (sign[-1] * max_bits + digits)[-max_bits:]
    return '%s %s' % (sign, digits)


# Set once the classes exist: EnumType.__new__ builds these classes too.
Enum = ReprEnum = Flag = None


class EnumType(type):
    """The metaclass of every enumeration."""

    def __new__(metacls, cls, bases, classdict, *, boundary=None, **kwds):
        member_type, first_enum = metacls._mixins(cls, bases)
        # The plain values of the body are the members, in definition order.
        members = []
        for key, value in list(classdict.items()):
            if (_is_dunder(key) or _is_sunder(key) or _is_private(cls, key)
                    or _is_descriptor(value)):
                continue
            members.append((key, value))
            del classdict[key]
        if members and first_enum is not None and first_enum._member_names_:
            raise TypeError('<enum %r> cannot extend %r' % (cls, first_enum))
        new = classdict.get('__new__')
        if isinstance(new, staticmethod):
            new = new.__func__
        enum_class = super().__new__(metacls, cls, bases, classdict, **kwds)
        setattr_ = type.__setattr__
        setattr_(enum_class, '_member_names_', [])
        setattr_(enum_class, '_member_map_', {})
        setattr_(enum_class, '_value2member_map_', {})
        setattr_(enum_class, '_member_type_', member_type)
        if new is None and first_enum is not None:
            new = first_enum._new_member_
        setattr_(enum_class, '_new_member_', new)
        if boundary is None:
            boundary = getattr(first_enum, '_boundary_', None)
        setattr_(enum_class, '_boundary_', boundary)
        is_flag = Flag is not None and issubclass(enum_class, Flag)

        # The methods a data type mixin would otherwise shadow are Enum's;
        # a ReprEnum prints as its data type.
        if ReprEnum is not None and ReprEnum in bases:
            if '__format__' not in classdict:
                setattr_(enum_class, '__format__', member_type.__format__)
                classdict['__format__'] = member_type.__format__
            if '__str__' not in classdict:
                method = member_type.__str__
                if method is object.__str__:
                    method = member_type.__repr__
                setattr_(enum_class, '__str__', method)
                classdict['__str__'] = method
        if first_enum is not None:
            for name in ('__repr__', '__str__', '__format__'):
                if name in classdict:
                    continue
                found = getattr(enum_class, name)
                if found is getattr(member_type, name) or found is getattr(object, name):
                    setattr_(enum_class, name, getattr(first_enum, name))

        last_values = []
        flag_mask = 0
        for name, value in members:
            if isinstance(value, auto):
                if value.value is _auto_null:
                    value.value = enum_class._generate_next_value_(
                        name, 1, len(last_values), last_values[:])
                value = value.value
            elif isinstance(value, _Op):
                value = _resolve(value)
            last_values.append(value)
            member = metacls._make_member(enum_class, name, value)
            value = member._value_
            # An alias is a second name for the first member with its value.
            try:
                canonical = enum_class._value2member_map_.get(value)
            except TypeError:
                canonical = None
                for m in enum_class._member_map_.values():
                    if m._value_ == value:
                        canonical = m
                        break
            if canonical is not None:
                member = canonical
            else:
                if not is_flag or _is_single_bit(value):
                    enum_class._member_names_.append(name)
                try:
                    enum_class._value2member_map_[value] = member
                except TypeError:
                    pass
            if is_flag and isinstance(value, int):
                flag_mask |= value
            enum_class._member_map_[name] = member
            setattr_(enum_class, name, member)
        if is_flag:
            setattr_(enum_class, '_flag_mask_', flag_mask)
            setattr_(enum_class, '_all_bits_', 2 ** flag_mask.bit_length() - 1)
        return enum_class

    @staticmethod
    def _mixins(cls_name, bases):
        """The data type members are made of, and the enum class to extend."""
        if not bases or Enum is None:
            return object, None
        first_enum = bases[-1]
        if not isinstance(first_enum, EnumType):
            raise TypeError('new enumerations should be created as '
                            '`EnumName([mixin_type, ...] [data_type,] enum_type)`')
        data_types = []
        for base in bases:
            for c in base.__mro__:
                if c is object:
                    continue
                if isinstance(c, EnumType):
                    if c._member_type_ is not object:
                        data_types.append(c._member_type_)
                        break
                elif '__new__' in c.__dict__:
                    data_types.append(c)
                    break
        data_types = list(dict.fromkeys(data_types))
        if len(data_types) > 1:
            raise TypeError('too many data types for %r: %r' % (cls_name, data_types))
        return (data_types[0] if data_types else object), first_enum

    @staticmethod
    def _make_member(enum_class, name, value):
        member_type = enum_class._member_type_
        args = value if isinstance(value, tuple) else (value,)
        if member_type is tuple:
            args = (args,)
        new = enum_class._new_member_
        if new is not None:
            member = new(enum_class, *args)
        elif member_type is object:
            member = object.__new__(enum_class)
        else:
            member = member_type.__new__(enum_class, *args)
        if not hasattr(member, '_value_'):
            if member_type is object:
                member._value_ = value
            else:
                member._value_ = member_type(*args)
        member._name_ = name
        member.__init__(*args)
        return member

    def __call__(cls, value, names=None, *, module=None, qualname=None,
                 type=None, start=1, boundary=None):
        if names is None:
            return cls._lookup(value)
        return cls._create(value, names, module=module, type=type,
                           start=start, boundary=boundary)

    def _lookup(cls, value):
        if isinstance(value, cls):
            return value
        try:
            return cls._value2member_map_[value]
        except KeyError:
            pass
        except TypeError:
            for member in cls._member_map_.values():
                if member._value_ == value:
                    return member
        result = cls._missing_(value)
        if isinstance(result, cls):
            return result
        if Flag is not None and issubclass(cls, Flag) and cls._boundary_ is EJECT \
                and isinstance(result, int):
            return result
        if result is None:
            raise ValueError('%r is not a valid %s' % (value, cls.__qualname__))
        raise TypeError('error in %s._missing_: returned %r instead of None or a valid member'
                        % (cls.__name__, result))

    def _create(cls, class_name, names, *, module=None, type=None, start=1,
                boundary=None):
        """The functional API: `Enum('Color', 'RED GREEN BLUE')`."""
        bases = (cls,) if type is None else (type, cls)
        if isinstance(names, str):
            names = names.replace(',', ' ').split()
        classdict = {'__module__': module or '__main__'}
        if isinstance(names, (tuple, list)) and names and isinstance(names[0], str):
            last_values = []
            for count, name in enumerate(names):
                value = cls._generate_next_value_(name, start, count, last_values[:])
                last_values.append(value)
                classdict[name] = value
        else:
            items = names.items() if hasattr(names, 'items') else names
            for name, value in items:
                classdict[name] = value
        metacls = cls.__class__
        if boundary is None:
            return metacls.__new__(metacls, class_name, bases, classdict)
        return metacls.__new__(metacls, class_name, bases, classdict, boundary=boundary)

    def __contains__(cls, member):
        if not isinstance(member, Enum):
            raise TypeError("unsupported operand type(s) for 'in': '%s' and '%s'" % (
                type(member).__qualname__, cls.__class__.__qualname__))
        return isinstance(member, cls) and member._name_ in cls._member_map_

    def __delattr__(cls, attr):
        if attr in cls._member_map_:
            raise AttributeError('%r cannot delete member %r.' % (cls.__name__, attr))
        super().__delattr__(attr)

    def __setattr__(cls, name, value):
        if name in cls.__dict__.get('_member_map_', {}):
            raise AttributeError('cannot reassign member %r' % (name,))
        super().__setattr__(name, value)

    def __getitem__(cls, name):
        return cls._member_map_[name]

    def __getattr__(cls, name):
        # Reached only when normal lookup failed (members are class
        # attributes): 3.11 reports the bare name.
        raise AttributeError(name)

    def __iter__(cls):
        return (cls._member_map_[name] for name in cls._member_names_)

    def __reversed__(cls):
        return (cls._member_map_[name] for name in reversed(cls._member_names_))

    def __len__(cls):
        return len(cls._member_names_)

    def __bool__(cls):
        return True

    def __repr__(cls):
        if Flag is not None and issubclass(cls, Flag):
            return '<flag %r>' % (cls.__name__,)
        return '<enum %r>' % (cls.__name__,)

    @property
    def __members__(cls):
        return mappingproxy(cls._member_map_)


EnumMeta = EnumType


def _read_only(attr):
    def fail(self, value):
        raise AttributeError("<enum 'Enum'> cannot set attribute %r" % (attr,))
    return fail


class Enum(metaclass=EnumType):
    """An enumeration: members compare by identity and hash by name."""

    def __init__(self, *args, **kwds):
        pass

    def _generate_next_value_(name, start, count, last_values):
        for value in reversed(last_values):
            try:
                return value + 1
            except TypeError:
                pass
        return start

    @classmethod
    def _missing_(cls, value):
        return None

    def __repr__(self):
        return '<%s.%s: %r>' % (self.__class__.__name__, self._name_, self._value_)

    def __str__(self):
        return '%s.%s' % (self.__class__.__name__, self._name_)

    def __format__(self, format_spec):
        return str.__format__(str(self), format_spec)

    def __hash__(self):
        return hash(self._name_)

    def __reduce_ex__(self, proto):
        return self.__class__, (self._value_,)

    def __dir__(self):
        if self._member_type_ is object:
            names = {'__class__', '__doc__', '__eq__', '__hash__', '__module__',
                     'name', 'value'}
        else:
            names = set(object.__dir__(self))
        names.update(n for n in self.__dict__ if n[0] != '_')
        for cls in self.__class__.mro():
            for n in cls.__dict__:
                if n[0] != '_' and n not in self._member_map_:
                    names.add(n)
        return sorted(names)

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    name = property(lambda self: self._name_, _read_only('name'))
    value = property(lambda self: self._value_, _read_only('value'))


class ReprEnum(Enum):
    """An enum whose str() and format() are those of its data type."""


class IntEnum(int, ReprEnum):
    """Members are ints, and compare equal to them."""


class StrEnum(str, ReprEnum):
    """Members are strs; auto() gives the lowercased member name."""

    def __new__(cls, *values):
        if len(values) > 3:
            raise TypeError('too many arguments for str(): %r' % (values,))
        if len(values) == 1 and not isinstance(values[0], str):
            raise TypeError('%r is not a string' % (values[0],))
        member = str.__new__(cls, *values)
        member._value_ = str(*values)
        return member

    def _generate_next_value_(name, start, count, last_values):
        return name.lower()


class FlagBoundary(StrEnum):
    """What a Flag does with a value that has bits no member has."""
    STRICT = auto()
    CONFORM = auto()
    EJECT = auto()
    KEEP = auto()


STRICT, CONFORM, EJECT, KEEP = FlagBoundary


class Flag(Enum, boundary=STRICT):
    """Members are bits; `|`, `&`, `^` and `~` combine them."""

    def _generate_next_value_(name, start, count, last_values):
        if not count:
            return start if start is not None else 1
        last = max(last_values)
        return 2 ** last.bit_length()

    @classmethod
    def _missing_(cls, value):
        if not isinstance(value, int):
            raise ValueError('%r is not a valid %s' % (value, cls.__qualname__))
        flag_mask = cls._flag_mask_
        all_bits = cls._all_bits_
        boundary = cls._boundary_
        if value < 0:
            value = max(all_bits + 1, 2 ** value.bit_length()) + value
        unknown = value & ~flag_mask
        if unknown:
            if boundary is STRICT:
                bits = max(value.bit_length(), flag_mask.bit_length())
                raise ValueError('%r invalid value %r\n    given %s\n  allowed %s' % (
                    cls, value, _bin(value, bits), _bin(flag_mask, bits)))
            if boundary is CONFORM:
                value &= flag_mask
                unknown = 0
            elif boundary is EJECT:
                return value
        known = value & flag_mask
        if value in cls._value2member_map_:
            return cls._value2member_map_[value]
        member_type = cls._member_type_
        if member_type is object:
            pseudo = object.__new__(cls)
        else:
            pseudo = member_type.__new__(cls, value)
        pseudo._value_ = value
        if value:
            names = [m._name_ for m in cls._members_in(known)]
            if unknown:
                names.append(repr(unknown))
            pseudo._name_ = '|'.join(names)
        else:
            pseudo._name_ = None
        return cls._value2member_map_.setdefault(value, pseudo)

    @classmethod
    def _members_in(cls, value):
        """The single-bit members whose bits are in `value`, in definition order."""
        return [cls._member_map_[name] for name in cls._member_names_
                if cls._member_map_[name]._value_ & value]

    def __contains__(self, other):
        if not isinstance(other, self.__class__):
            raise TypeError("unsupported operand type(s) for 'in': %r and %r" % (
                type(other).__qualname__, self.__class__.__qualname__))
        return other._value_ & self._value_ == other._value_

    def __iter__(self):
        return iter(self._members_in(self._value_))

    def __len__(self):
        return bin(self._value_).count('1')

    def __repr__(self):
        cls_name = self.__class__.__name__
        if self._name_ is None:
            return '<%s: %r>' % (cls_name, self._value_)
        return '<%s.%s: %r>' % (cls_name, self._name_, self._value_)

    def __str__(self):
        cls_name = self.__class__.__name__
        if self._name_ is None:
            return '%s(%r)' % (cls_name, self._value_)
        return '%s.%s' % (cls_name, self._name_)

    def __bool__(self):
        return bool(self._value_)

    def _other_value(self, other):
        if isinstance(other, self.__class__):
            return other._value_
        if self._member_type_ is not object and isinstance(other, self._member_type_):
            return other
        return NotImplemented

    def __or__(self, other):
        other = self._other_value(other)
        if other is NotImplemented:
            return NotImplemented
        return self.__class__(self._value_ | other)

    def __and__(self, other):
        other = self._other_value(other)
        if other is NotImplemented:
            return NotImplemented
        return self.__class__(self._value_ & other)

    def __xor__(self, other):
        other = self._other_value(other)
        if other is NotImplemented:
            return NotImplemented
        return self.__class__(self._value_ ^ other)

    def __invert__(self):
        if self._boundary_ in (EJECT, KEEP):
            return self.__class__(~self._value_)
        return self.__class__(self._flag_mask_ ^ self._value_)

    __ror__ = __or__
    __rand__ = __and__
    __rxor__ = __xor__


class IntFlag(int, ReprEnum, Flag, boundary=KEEP):
    """Flags that are ints: they combine with ints too."""
    __or__ = Flag.__or__
    __and__ = Flag.__and__
    __xor__ = Flag.__xor__
    __ror__ = Flag.__ror__
    __rand__ = Flag.__rand__
    __rxor__ = Flag.__rxor__
    __invert__ = Flag.__invert__


def unique(enumeration):
    """Class decorator: ValueError if any member has an alias."""
    duplicates = [(name, member._name_)
                  for name, member in enumeration.__members__.items()
                  if name != member._name_]
    if duplicates:
        details = ', '.join('%s -> %s' % (alias, name) for alias, name in duplicates)
        raise ValueError('duplicate values found in %r: %s' % (enumeration, details))
    return enumeration
