"""Container datatypes: deque, defaultdict, Counter, namedtuple, OrderedDict
and ChainMap.

Pure-Python versions with CPython 3.11's behaviour, reprs and messages.
Not provided: UserDict, UserList, UserString.
"""

import _thread
from heapq import nlargest as _nlargest
import collections.abc as _collections_abc

__all__ = ['ChainMap', 'Counter', 'OrderedDict', 'defaultdict', 'deque',
           'namedtuple']


# ---------------------------------------------------------------------------
# deque

class deque:
    """deque([iterable[, maxlen]]) --> deque object

    A list-like sequence optimized for data accesses near its endpoints.

    Items live in self._items[self._head:]: popleft() advances _head instead
    of shifting the list, and the dead prefix is dropped once it is large.
    A lock makes every single operation atomic, as CPython's C deque is under
    the GIL (programs rely on append/popleft being thread-safe). The lock is
    never held while calling back into other code (__eq__, __repr__).
    """

    # `Cls[int]` in type hints, as CPython allows (no alias object).
    __class_getitem__ = classmethod(type(list[int]))

    __hash__ = None

    def __init__(self, iterable=(), maxlen=None):
        if maxlen is not None:
            if not isinstance(maxlen, int):
                raise TypeError("an integer is required")
            if maxlen < 0:
                raise ValueError("maxlen must be non-negative")
        self._lock = _thread.allocate_lock()
        self._items = []
        self._head = 0
        self._maxlen = maxlen
        # Bumped by every change in length, so iterators can detect it.
        self._state = 0
        self.extend(iterable)

    # -- internal helpers; all called with self._lock held ---------------

    def _len(self):
        return len(self._items) - self._head

    def _compact(self):
        # Drop the dead prefix once it is at least half of the list.
        if self._head > 16 and self._head * 2 >= len(self._items):
            del self._items[:self._head]
            self._head = 0

    def _append(self, item):
        if self._maxlen == 0:
            return
        self._items.append(item)
        self._state += 1
        if self._maxlen is not None and self._len() > self._maxlen:
            self._popleft()

    def _appendleft(self, item):
        if self._maxlen == 0:
            return
        if self._head == 0:
            # Make room at the front in one go, so runs of appendleft()
            # are cheap.
            room = max(8, len(self._items))
            self._items[:0] = [None] * room
            self._head = room
        self._head -= 1
        self._items[self._head] = item
        self._state += 1
        if self._maxlen is not None and self._len() > self._maxlen:
            self._pop()

    def _pop(self):
        if self._len() == 0:
            raise IndexError("pop from an empty deque")
        self._state += 1
        return self._items.pop()

    def _popleft(self):
        if self._len() == 0:
            raise IndexError("pop from an empty deque")
        item = self._items[self._head]
        self._items[self._head] = None
        self._head += 1
        self._state += 1
        self._compact()
        return item

    def _snapshot(self):
        with self._lock:
            return self._items[self._head:], self._state

    def _index(self, index):
        # Translate a public index into a position in self._items.
        if not isinstance(index, int):
            raise TypeError(f"sequence index must be integer, not"
                            f" '{type(index).__name__}'")
        n = self._len()
        if index < 0:
            index += n
        if index < 0 or index >= n:
            raise IndexError("deque index out of range")
        return self._head + index

    # -- public API --------------------------------------------------------

    @property
    def maxlen(self):
        """maximum size of a deque or None if unbounded"""
        return self._maxlen

    def append(self, x):
        """Add an element to the right side of the deque."""
        with self._lock:
            self._append(x)

    def appendleft(self, x):
        """Add an element to the left side of the deque."""
        with self._lock:
            self._appendleft(x)

    def pop(self):
        """Remove and return the rightmost element."""
        with self._lock:
            return self._pop()

    def popleft(self):
        """Remove and return the leftmost element."""
        with self._lock:
            return self._popleft()

    def extend(self, iterable):
        """Extend the right side of the deque with elements from the
        iterable."""
        if iterable is self:
            iterable = list(iterable)
        for item in iterable:
            self.append(item)

    def extendleft(self, iterable):
        """Extend the left side of the deque with elements from the
        iterable."""
        if iterable is self:
            iterable = list(iterable)
        for item in iterable:
            self.appendleft(item)

    def clear(self):
        """Remove all elements from the deque."""
        with self._lock:
            self._items = []
            self._head = 0
            self._state += 1

    def copy(self):
        """Return a shallow copy of a deque."""
        items, _ = self._snapshot()
        return self.__class__(items, self._maxlen)

    def __copy__(self):
        return self.copy()

    def count(self, value):
        """Return number of occurrences of value."""
        items, _ = self._snapshot()
        n = 0
        for item in items:
            if item is value or item == value:
                n += 1
        return n

    def index(self, value, start=0, stop=None):
        """Return first index of value.

        Raises ValueError if the value is not present.
        """
        items, _ = self._snapshot()
        n = len(items)
        if stop is None:
            stop = n
        if start < 0:
            start = max(start + n, 0)
        if stop < 0:
            stop = max(stop + n, 0)
        for i in range(start, min(stop, n)):
            item = items[i]
            if item is value or item == value:
                return i
        raise ValueError(f"{value!r} is not in deque")

    def insert(self, index, value):
        """Insert value before index."""
        with self._lock:
            n = self._len()
            if self._maxlen is not None and n >= self._maxlen:
                raise IndexError("deque already at its maximum size")
            if index < 0:
                index = max(index + n, 0)
            index = min(index, n)
            self._items.insert(self._head + index, value)
            self._state += 1

    def remove(self, value):
        """Remove first occurrence of value."""
        items, state = self._snapshot()
        for i in range(len(items)):
            item = items[i]
            if item is value or item == value:
                with self._lock:
                    if self._state != state:
                        raise IndexError("deque mutated during remove().")
                    del self._items[self._head + i]
                    self._state += 1
                return
        raise ValueError(f"{value!r} is not in deque")

    def reverse(self):
        """Reverse *IN PLACE*."""
        with self._lock:
            items = self._items[self._head:]
            items.reverse()
            self._items = items
            self._head = 0

    def rotate(self, n=1):
        """Rotate the deque n steps to the right (default n=1). If n is
        negative, rotates left."""
        with self._lock:
            items = self._items[self._head:]
            length = len(items)
            if length > 1:
                n %= length
                items = items[length - n:] + items[:length - n]
            self._items = items
            self._head = 0

    def __len__(self):
        with self._lock:
            return self._len()

    def __bool__(self):
        with self._lock:
            return self._len() > 0

    def __iter__(self):
        # Like CPython's iterator: fails if the deque's length changes.
        with self._lock:
            state = self._state
            remaining = self._len()
        i = 0
        while True:
            with self._lock:
                if self._state != state:
                    raise RuntimeError("deque mutated during iteration")
                if i >= remaining:
                    return
                item = self._items[self._head + i]
            yield item
            i += 1

    def __reversed__(self):
        items, _ = self._snapshot()
        items.reverse()
        return iter(items)

    def __contains__(self, value):
        items, _ = self._snapshot()
        for item in items:
            if item is value or item == value:
                return True
        return False

    def __getitem__(self, index):
        with self._lock:
            return self._items[self._index(index)]

    def __setitem__(self, index, value):
        with self._lock:
            self._items[self._index(index)] = value

    def __delitem__(self, index):
        with self._lock:
            del self._items[self._index(index)]
            self._state += 1

    def __repr__(self):
        key = (id(self), _thread.get_ident())
        if key in _repr_running:
            return '[...]'
        _repr_running.add(key)
        try:
            items, _ = self._snapshot()
            body = repr(items)
        finally:
            _repr_running.discard(key)
        name = type(self).__name__
        if self._maxlen is None:
            return f"{name}({body})"
        return f"{name}({body}, maxlen={self._maxlen})"

    # Comparisons work like list comparisons, between deques only.

    def _compare_items(self, other):
        if not isinstance(other, deque):
            return None
        return self._snapshot()[0], other._snapshot()[0]

    def __eq__(self, other):
        pair = self._compare_items(other)
        if pair is None:
            return NotImplemented
        return pair[0] == pair[1]

    def __ne__(self, other):
        pair = self._compare_items(other)
        if pair is None:
            return NotImplemented
        return pair[0] != pair[1]

    def __lt__(self, other):
        pair = self._compare_items(other)
        if pair is None:
            return NotImplemented
        return pair[0] < pair[1]

    def __le__(self, other):
        pair = self._compare_items(other)
        if pair is None:
            return NotImplemented
        return pair[0] <= pair[1]

    def __gt__(self, other):
        pair = self._compare_items(other)
        if pair is None:
            return NotImplemented
        return pair[0] > pair[1]

    def __ge__(self, other):
        pair = self._compare_items(other)
        if pair is None:
            return NotImplemented
        return pair[0] >= pair[1]

    def __add__(self, other):
        if not isinstance(other, deque):
            raise TypeError(f'can only concatenate deque (not'
                            f' "{type(other).__name__}") to deque')
        result = self.copy()
        result.extend(other)
        return result

    def __iadd__(self, other):
        self.extend(other)
        return self

    def __mul__(self, n):
        items, _ = self._snapshot()
        return self.__class__(items * n, self._maxlen)

    __rmul__ = __mul__

    def __imul__(self, n):
        items, _ = self._snapshot()
        with self._lock:
            self._items = []
            self._head = 0
            self._state += 1
        self.extend(items * n)
        return self


# (id, thread) pairs of deques whose repr is being built, to print a
# deque that contains itself as [...].
_repr_running = set()

_collections_abc.MutableSequence.register(deque)


# ---------------------------------------------------------------------------
# defaultdict

class defaultdict(dict):
    """defaultdict(default_factory=None, /, [...]) --> dict with default
    factory

    A missing key is set to default_factory() on first access with d[key].
    """

    # `Cls[int]` in type hints, as CPython allows (no alias object).
    __class_getitem__ = classmethod(type(list[int]))

    def __init__(self, *args, **kwargs):
        default_factory = None
        if args:
            default_factory = args[0]
            args = args[1:]
        if default_factory is not None and not callable(default_factory):
            raise TypeError("first argument must be callable or None")
        super().__init__(*args, **kwargs)
        self.default_factory = default_factory

    def __getitem__(self, key):
        # dict's own lookup calls __missing__ in CPython; doing it here
        # keeps the behaviour independent of that hook.
        if key in self:
            return dict.__getitem__(self, key)
        return self.__missing__(key)

    def __missing__(self, key):
        if self.default_factory is None:
            raise KeyError(key)
        value = self.default_factory()
        self[key] = value
        return value

    def copy(self):
        """D.copy() -> a shallow copy of D."""
        return self.__class__(self.default_factory, self)

    __copy__ = copy

    def __repr__(self):
        return (f"{type(self).__name__}({self.default_factory!r},"
                f" {dict.__repr__(self)})")


# ---------------------------------------------------------------------------
# Counter

def _is_mapping(obj):
    return isinstance(obj, dict) or (hasattr(obj, 'keys')
                                     and hasattr(obj, '__getitem__'))


class Counter(dict):
    """Dict subclass for counting hashable items. Elements are stored as
    dictionary keys and their counts are stored as dictionary values; a
    missing element counts as zero.

    >>> Counter('abracadabra').most_common(3)
    [('a', 5), ('b', 2), ('r', 2)]
    """

    # `Cls[int]` in type hints, as CPython allows (no alias object).
    __class_getitem__ = classmethod(type(list[int]))

    def __init__(self, *args, **kwds):
        super().__init__()
        self.update(*args, **kwds)

    def __getitem__(self, key):
        if key in self:
            return dict.__getitem__(self, key)
        return self.__missing__(key)

    def __missing__(self, key):
        'The count of elements not in the Counter is zero.'
        return 0

    def total(self):
        'Sum of the counts'
        return sum(self.values())

    def most_common(self, n=None):
        """List the n most common elements and their counts from the most
        common to the least. If n is None, then list all element counts.
        Elements with equal counts keep their insertion order.
        """
        if n is None:
            return sorted(self.items(), key=_count_of, reverse=True)
        return _nlargest(n, self.items(), key=_count_of)

    def elements(self):
        """Iterator over elements repeating each as many times as its count.
        Elements with a count below one are skipped."""
        for elem, count in list(self.items()):
            for _ in range(count):
                yield elem

    @classmethod
    def fromkeys(cls, iterable, v=None):
        raise NotImplementedError(
            'Counter.fromkeys() is undefined.  Use Counter(iterable) instead.')

    def update(self, *args, **kwds):
        """Like dict.update() but add counts instead of replacing them.

        Source can be an iterable, a dictionary, or another Counter instance.
        """
        if len(args) > 1:
            raise TypeError(f'expected at most 1 arguments, got {len(args)}')
        iterable = args[0] if args else None
        if iterable is not None:
            if _is_mapping(iterable):
                if self:
                    for elem in iterable.keys():
                        self[elem] = iterable[elem] + self.get(elem, 0)
                else:
                    # Fast path when the counter is empty.
                    dict.update(self, iterable)
            else:
                for elem in iterable:
                    self[elem] = self.get(elem, 0) + 1
        if kwds:
            self.update(kwds)

    def subtract(self, *args, **kwds):
        """Like dict.update() but subtracts counts instead of replacing them.
        Counts can be reduced below zero."""
        if len(args) > 1:
            raise TypeError(f'expected at most 1 arguments, got {len(args)}')
        iterable = args[0] if args else None
        if iterable is not None:
            if _is_mapping(iterable):
                for elem in iterable.keys():
                    self[elem] = self.get(elem, 0) - iterable[elem]
            else:
                for elem in iterable:
                    self[elem] = self.get(elem, 0) - 1
        if kwds:
            self.subtract(kwds)

    def copy(self):
        'Return a shallow copy.'
        return self.__class__(self)

    def __delitem__(self, elem):
        'Like dict.__delitem__() but does not raise KeyError for missing values.'
        if elem in self:
            super().__delitem__(elem)

    def __repr__(self):
        if not self:
            return f'{self.__class__.__name__}()'
        try:
            # Most common first, as CPython prints it.
            d = dict(self.most_common())
        except TypeError:
            # Counts that cannot be ordered.
            d = dict(self)
        return f'{self.__class__.__name__}({d!r})'

    # Comparisons treat missing elements as having zero count.

    def __eq__(self, other):
        if not isinstance(other, Counter):
            return NotImplemented
        for c in (self, other):
            for e in c:
                if self[e] != other[e]:
                    return False
        return True

    def __ne__(self, other):
        if not isinstance(other, Counter):
            return NotImplemented
        return not self == other

    def __le__(self, other):
        if not isinstance(other, Counter):
            return NotImplemented
        for c in (self, other):
            for e in c:
                if not self[e] <= other[e]:
                    return False
        return True

    def __lt__(self, other):
        if not isinstance(other, Counter):
            return NotImplemented
        return self <= other and self != other

    def __ge__(self, other):
        if not isinstance(other, Counter):
            return NotImplemented
        for c in (self, other):
            for e in c:
                if not self[e] >= other[e]:
                    return False
        return True

    def __gt__(self, other):
        if not isinstance(other, Counter):
            return NotImplemented
        return self >= other and self != other

    # Multiset arithmetic: results keep positive counts only.

    def __add__(self, other):
        if not isinstance(other, Counter):
            return NotImplemented
        result = Counter()
        for elem, count in self.items():
            newcount = count + other[elem]
            if newcount > 0:
                result[elem] = newcount
        for elem, count in other.items():
            if elem not in self and count > 0:
                result[elem] = count
        return result

    def __sub__(self, other):
        if not isinstance(other, Counter):
            return NotImplemented
        result = Counter()
        for elem, count in self.items():
            newcount = count - other[elem]
            if newcount > 0:
                result[elem] = newcount
        for elem, count in other.items():
            if elem not in self and count < 0:
                result[elem] = 0 - count
        return result

    def __or__(self, other):
        if not isinstance(other, Counter):
            return NotImplemented
        result = Counter()
        for elem, count in self.items():
            other_count = other[elem]
            newcount = other_count if count < other_count else count
            if newcount > 0:
                result[elem] = newcount
        for elem, count in other.items():
            if elem not in self and count > 0:
                result[elem] = count
        return result

    def __and__(self, other):
        if not isinstance(other, Counter):
            return NotImplemented
        result = Counter()
        for elem, count in self.items():
            other_count = other[elem]
            newcount = count if count < other_count else other_count
            if newcount > 0:
                result[elem] = newcount
        return result

    def __pos__(self):
        'Adds an empty counter, effectively stripping negative and zero counts'
        result = Counter()
        for elem, count in self.items():
            if count > 0:
                result[elem] = count
        return result

    def __neg__(self):
        """Subtracts from an empty counter. Strips positive and zero counts,
        and flips the sign on negative counts."""
        result = Counter()
        for elem, count in self.items():
            if count < 0:
                result[elem] = 0 - count
        return result

    def _keep_positive(self):
        nonpositive = [elem for elem, count in self.items() if not count > 0]
        for elem in nonpositive:
            del self[elem]
        return self

    def __iadd__(self, other):
        for elem, count in other.items():
            self[elem] += count
        return self._keep_positive()

    def __isub__(self, other):
        for elem, count in other.items():
            self[elem] -= count
        return self._keep_positive()

    def __ior__(self, other):
        for elem, other_count in other.items():
            count = self[elem]
            if other_count > count:
                self[elem] = other_count
        return self._keep_positive()

    def __iand__(self, other):
        for elem, count in list(self.items()):
            other_count = other[elem]
            if other_count < count:
                self[elem] = other_count
        return self._keep_positive()


def _count_of(item):
    return item[1]


# ---------------------------------------------------------------------------
# namedtuple

_KEYWORDS = frozenset([
    'False', 'None', 'True', 'and', 'as', 'assert', 'async', 'await',
    'break', 'class', 'continue', 'def', 'del', 'elif', 'else', 'except',
    'finally', 'for', 'from', 'global', 'if', 'import', 'in', 'is',
    'lambda', 'nonlocal', 'not', 'or', 'pass', 'raise', 'return', 'try',
    'while', 'with', 'yield',
])


class _tuplegetter:
    """CPython's field descriptor: reads item `index`, refuses writes."""

    __slots__ = ('index', '__doc__')

    def __init__(self, index, doc):
        self.index = index
        self.__doc__ = doc

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        return instance[self.index]

    def __set__(self, instance, value):
        raise AttributeError("can't set attribute")

    def __delete__(self, instance):
        raise AttributeError("can't delete attribute")


def _field_getter(index, name):
    return _tuplegetter(index, f'Alias for field number {index}')


def namedtuple(typename, field_names, *, rename=False, defaults=None,
               module=None):
    """Returns a new subclass of tuple with named fields.

    >>> Point = namedtuple('Point', ['x', 'y'])
    >>> Point(11, y=22)
    Point(x=11, y=22)
    """
    if isinstance(field_names, str):
        field_names = field_names.replace(',', ' ').split()
    field_names = list(map(str, field_names))
    typename = str(typename)
    if rename:
        seen = set()
        for index, name in enumerate(field_names):
            if (not name.isidentifier() or name in _KEYWORDS
                    or name.startswith('_') or name in seen):
                field_names[index] = f'_{index}'
            seen.add(name)
    for name in [typename] + field_names:
        if type(name) is not str:
            raise TypeError('Type names and field names must be strings')
        if not name.isidentifier():
            raise ValueError('Type names and field names must be valid '
                             f'identifiers: {name!r}')
        if name in _KEYWORDS:
            raise ValueError('Type names and field names cannot be a '
                             f'keyword: {name!r}')
    seen = set()
    for name in field_names:
        if name.startswith('_') and not rename:
            raise ValueError('Field names cannot start with an underscore: '
                             f'{name!r}')
        if name in seen:
            raise ValueError(f'Encountered duplicate field name: {name!r}')
        seen.add(name)

    field_defaults = {}
    if defaults is not None:
        defaults = tuple(defaults)
        if len(defaults) > len(field_names):
            raise TypeError('Got more default values than field names')
        field_defaults = dict(reversed(list(zip(reversed(field_names),
                                                reversed(defaults)))))
    fields = tuple(field_names)
    num_fields = len(fields)

    def __new__(_cls, *args, **kwargs):
        # The same checks and messages as CPython's generated
        # `def __new__(_cls, x, y)`.
        where = f'{typename}.__new__()'
        if len(args) > num_fields:
            given = len(args) + 1
            most = num_fields + 1
            least = most - len(field_defaults)
            if least == most:
                s = 's' if most > 1 else ''
                takes = f'{most} positional argument{s}'
            else:
                takes = f'from {least} to {most} positional arguments'
            raise TypeError(f'{where} takes {takes} but {given} were given')
        values = list(args)
        for name in fields[len(args):]:
            if name in kwargs:
                values.append(kwargs.pop(name))
            elif name in field_defaults:
                values.append(field_defaults[name])
            else:
                values.append(_MISSING)
        for name in kwargs:
            if name in fields:
                raise TypeError(f"{where} got multiple values for argument "
                                f"'{name}'")
            raise TypeError(f"{where} got an unexpected keyword argument "
                            f"'{name}'")
        missing = [f"'{n}'" for n, v in zip(fields, values) if v is _MISSING]
        if missing:
            s = 's' if len(missing) > 1 else ''
            if len(missing) == 1:
                listed = missing[0]
            else:
                listed = ', '.join(missing[:-1]) + ' and ' + missing[-1]
            raise TypeError(f'{where} missing {len(missing)} required '
                            f'positional argument{s}: {listed}')
        return tuple.__new__(_cls, values)

    def _make(cls, iterable):
        result = tuple.__new__(cls, iterable)
        if len(result) != num_fields:
            raise TypeError(f'Expected {num_fields} arguments, '
                            f'got {len(result)}')
        return result

    def _replace(self, **kwds):
        result = self._make([kwds.pop(name, value)
                             for name, value in zip(fields, self)])
        if kwds:
            raise ValueError(f'Got unexpected field names: {list(kwds)!r}')
        return result

    def __repr__(self):
        inner = ', '.join(f'{name}={value!r}'
                          for name, value in zip(fields, self))
        return f'{self.__class__.__name__}({inner})'

    def _asdict(self):
        return dict(zip(fields, self))

    def __getnewargs__(self):
        return tuple(self)

    namespace = {
        '__doc__': f'{typename}({", ".join(fields)})',
        '__slots__': (),
        '_fields': fields,
        '_field_defaults': field_defaults,
        '__new__': __new__,
        '_make': classmethod(_make),
        '_replace': _replace,
        '__repr__': __repr__,
        '_asdict': _asdict,
        '__getnewargs__': __getnewargs__,
        '__match_args__': fields,
    }
    for index, name in enumerate(fields):
        namespace[name] = _field_getter(index, name)
    result = type(typename, (tuple,), namespace)
    result.__module__ = '__main__' if module is None else module
    return result


_MISSING = object()


# ---------------------------------------------------------------------------
# OrderedDict

class OrderedDict(dict):
    """Dictionary that remembers insertion order, with move_to_end() and
    popitem(last=...). Plain dicts keep order too; this adds the methods
    and the order-sensitive equality between OrderedDicts."""

    # `Cls[int]` in type hints, as CPython allows (no alias object).
    __class_getitem__ = classmethod(type(list[int]))

    def popitem(self, last=True):
        """Remove and return a (key, value) pair from the dictionary."""
        if not self:
            raise KeyError('dictionary is empty')
        key = next(reversed(list(self))) if last else next(iter(self))
        value = dict.pop(self, key)
        return key, value

    def move_to_end(self, key, last=True):
        """Move an existing element to the end (or the start if
        last=False)."""
        value = dict.pop(self, key)
        if last:
            dict.__setitem__(self, key, value)
        else:
            rest = list(dict.items(self))
            dict.clear(self)
            dict.__setitem__(self, key, value)
            for k, v in rest:
                dict.__setitem__(self, k, v)

    def __eq__(self, other):
        if isinstance(other, OrderedDict):
            return dict.__eq__(self, other) and list(self) == list(other)
        return dict.__eq__(self, other)

    def __ne__(self, other):
        return not self == other

    def copy(self):
        return self.__class__(self)

    def __repr__(self):
        if not self:
            return f'{self.__class__.__name__}()'
        return f'{self.__class__.__name__}({list(self.items())!r})'


# ---------------------------------------------------------------------------
# ChainMap (CPython's, with its recursive-repr guard written out)

# (id, thread) pairs of ChainMaps whose repr is being built.
_repr_running_chainmaps = set()


class ChainMap(_collections_abc.MutableMapping):
    ''' A ChainMap groups multiple dicts (or other mappings) together
    to create a single, updateable view.

    The underlying mappings are stored in a list.  That list is public and can
    be accessed or updated using the *maps* attribute.  There is no other
    state.

    Lookups search the underlying mappings successively until a key is found.
    In contrast, writes, updates, and deletions only operate on the first
    mapping.

    '''

    def __init__(self, *maps):
        '''Initialize a ChainMap by setting *maps* to the given mappings.
        If no mappings are provided, a single empty dictionary is used.

        '''
        self.maps = list(maps) or [{}]          # always at least one map

    def __missing__(self, key):
        raise KeyError(key)

    def __getitem__(self, key):
        for mapping in self.maps:
            try:
                return mapping[key]             # can't use 'key in mapping' with defaultdict
            except KeyError:
                pass
        return self.__missing__(key)            # support subclasses that define __missing__

    def get(self, key, default=None):
        return self[key] if key in self else default

    def __len__(self):
        return len(set().union(*self.maps))     # reuses stored hash values if possible

    def __iter__(self):
        d = {}
        for mapping in reversed(self.maps):
            d.update(dict.fromkeys(mapping))    # reuses stored hash values if possible
        return iter(d)

    def __contains__(self, key):
        return any(key in m for m in self.maps)

    def __bool__(self):
        return any(self.maps)

    def __repr__(self):
        key = (id(self), _thread.get_ident())
        if key in _repr_running_chainmaps:
            return '...'
        _repr_running_chainmaps.add(key)
        try:
            return f'{self.__class__.__name__}({", ".join(map(repr, self.maps))})'
        finally:
            _repr_running_chainmaps.discard(key)

    @classmethod
    def fromkeys(cls, iterable, *args):
        'Create a ChainMap with a single dict created from the iterable.'
        return cls(dict.fromkeys(iterable, *args))

    def copy(self):
        'New ChainMap or subclass with a new copy of maps[0] and refs to maps[1:]'
        return self.__class__(self.maps[0].copy(), *self.maps[1:])

    __copy__ = copy

    def new_child(self, m=None, **kwargs):      # like Django's Context.push()
        '''New ChainMap with a new map followed by all previous maps.
        If no map is provided, an empty dict is used.
        Keyword arguments update the map or new empty dict.
        '''
        if m is None:
            m = kwargs
        elif kwargs:
            m.update(kwargs)
        return self.__class__(m, *self.maps)

    @property
    def parents(self):                          # like Django's Context.pop()
        'New ChainMap from maps[1:].'
        return self.__class__(*self.maps[1:])

    def __setitem__(self, key, value):
        self.maps[0][key] = value

    def __delitem__(self, key):
        try:
            del self.maps[0][key]
        except KeyError:
            raise KeyError(f'Key not found in the first mapping: {key!r}')

    def popitem(self):
        'Remove and return an item pair from maps[0]. Raise KeyError is maps[0] is empty.'
        try:
            return self.maps[0].popitem()
        except KeyError:
            raise KeyError('No keys found in the first mapping.')

    def pop(self, key, *args):
        'Remove *key* from maps[0] and return its value. Raise KeyError if *key* not in maps[0].'
        try:
            return self.maps[0].pop(key, *args)
        except KeyError:
            raise KeyError(f'Key not found in the first mapping: {key!r}')

    def clear(self):
        'Clear maps[0], leaving maps[1:] intact.'
        self.maps[0].clear()

    def __ior__(self, other):
        self.maps[0].update(other)
        return self

    def __or__(self, other):
        if not isinstance(other, _collections_abc.Mapping):
            return NotImplemented
        m = self.copy()
        m.maps[0].update(other)
        return m

    def __ror__(self, other):
        if not isinstance(other, _collections_abc.Mapping):
            return NotImplemented
        m = dict(other)
        for child in reversed(self.maps):
            m.update(child)
        return self.__class__(m)
