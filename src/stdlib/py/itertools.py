"""Iterator building blocks written as generators, with CPython's results
(and the usual errors for bad arguments)."""

import _thread

__all__ = ['count', 'cycle', 'repeat', 'accumulate', 'chain', 'compress',
           'dropwhile', 'filterfalse', 'groupby', 'islice', 'pairwise',
           'starmap', 'takewhile', 'tee', 'zip_longest', 'product',
           'permutations', 'combinations', 'combinations_with_replacement']


class count:
    """count(start=0, step=1) --> start, start+step, ...

    A class rather than a generator: `next(ids)` on one shared counter from
    several threads must hand out distinct numbers, never raise
    "generator already executing"."""

    def __init__(self, start=0, step=1):
        for value in (start, step):
            if not isinstance(value, (int, float)):
                raise TypeError('a number is required')
        self._next = start
        self._step = step
        self._lock = _thread.allocate_lock()

    def __iter__(self):
        return self

    def __next__(self):
        with self._lock:
            value = self._next
            self._next = value + self._step
        return value

    def __repr__(self):
        if self._step == 1:
            return f'count({self._next!r})'
        return f'count({self._next!r}, {self._step!r})'


def cycle(iterable):
    saved = []
    for element in iterable:
        yield element
        saved.append(element)
    while saved:
        for element in saved:
            yield element


class repeat:
    """repeat(object [,times]) -> create an iterator which returns the object
    for the specified number of times.  If not specified, returns the object
    endlessly."""

    def __init__(self, obj, times=None):
        self._obj = obj
        self._times = None if times is None else max(times, 0)

    def __iter__(self):
        return self

    def __next__(self):
        times = self._times
        if times is None:
            return self._obj
        if times <= 0:
            raise StopIteration
        self._times = times - 1
        return self._obj

    def __length_hint__(self):
        if self._times is None:
            raise TypeError('len() of unsized object')
        return self._times

    def __repr__(self):
        if self._times is None:
            return f'repeat({self._obj!r})'
        return f'repeat({self._obj!r}, {self._times})'


def accumulate(iterable, func=None, *, initial=None):
    it = iter(iterable)
    total = initial
    if initial is None:
        try:
            total = next(it)
        except StopIteration:
            return
    yield total
    for element in it:
        total = total + element if func is None else func(total, element)
        yield total


def chain(*iterables):
    for it in iterables:
        for element in it:
            yield element


def _from_iterable(iterables):
    for it in iterables:
        for element in it:
            yield element




def compress(data, selectors):
    return (d for d, s in zip(data, selectors) if s)


def dropwhile(predicate, iterable):
    it = iter(iterable)
    for x in it:
        if not predicate(x):
            yield x
            break
    for x in it:
        yield x


def takewhile(predicate, iterable):
    for x in iterable:
        if predicate(x):
            yield x
        else:
            break


def filterfalse(predicate, iterable):
    if predicate is None:
        predicate = bool
    for x in iterable:
        if not predicate(x):
            yield x


def groupby(iterable, key=None):
    keyfunc = (lambda x: x) if key is None else key
    it = iter(iterable)
    exhausted = False
    try:
        current = next(it)
    except StopIteration:
        return
    while not exhausted:
        target = keyfunc(current)
        group = [current]
        while True:
            try:
                current = next(it)
            except StopIteration:
                exhausted = True
                break
            if keyfunc(current) != target:
                break
            group.append(current)
        yield target, _grouper._of(iter(group))


def islice(iterable, *args):
    s = slice(*args)
    start, stop, step = s.start or 0, s.stop, s.step or 1
    for name, value in (('Indices', start), ('Stop argument', stop)):
        if value is not None and (type(value) is not int or value < 0):
            raise ValueError(f"{name} for islice() must be None or an "
                             "integer: 0 <= x <= sys.maxsize.")
    if type(step) is not int or step < 1:
        raise ValueError("Step for islice() must be a positive integer "
                         "or None.")
    return _islice(iter(iterable), start, stop, step)


def _islice(it, start, stop, step):
    # As CPython's islice_next: never reads past `stop`, so the rest of a
    # shared iterator stays for the next reader.
    count = 0
    nexti = start
    while True:
        while count < nexti:
            try:
                next(it)
            except StopIteration:
                return
            count += 1
        if stop is not None and count >= stop:
            return
        try:
            item = next(it)
        except StopIteration:
            return
        count += 1
        nexti += step
        if stop is not None and nexti > stop:
            nexti = stop
        yield item


def pairwise(iterable):
    it = iter(iterable)
    try:
        a = next(it)
    except StopIteration:
        return
    for b in it:
        yield a, b
        a = b


def starmap(function, iterable):
    for args in iterable:
        yield function(*args)


def tee(iterable, n=2):
    # Lazy: each copy reads ahead from the shared iterator only as far as
    # it needs (an endless iterator is fine).
    if n < 0:
        raise ValueError('n must be >= 0')
    it = iter(iterable)
    buffers = [[] for _ in range(n)]

    def gen(mine):
        while True:
            if not mine:
                try:
                    value = next(it)
                except StopIteration:
                    return
                for b in buffers:
                    b.append(value)
            yield mine.pop(0)
    return tuple(_tee._of(gen(b)) for b in buffers)


_fill_missing = object()


def zip_longest(*iterables, fillvalue=None):
    iterators = [iter(it) for it in iterables]
    active = len(iterators)
    if not active:
        return
    while True:
        values = []
        for i, it in enumerate(iterators):
            try:
                value = next(it)
            except StopIteration:
                active -= 1
                if not active:
                    return
                iterators[i] = repeat(fillvalue)
                value = fillvalue
            values.append(value)
        yield tuple(values)


def product(*iterables, repeat=1):
    # An odometer over the pools: lazy, one tuple per step.
    if repeat < 0:
        raise ValueError('repeat argument cannot be negative')
    pools = [tuple(pool) for pool in iterables] * repeat
    if not all(pools):
        return
    n = len(pools)
    indices = [0] * n
    yield tuple(pool[0] for pool in pools)
    while True:
        for i in reversed(range(n)):
            indices[i] += 1
            if indices[i] < len(pools[i]):
                break
            indices[i] = 0
        else:
            return
        yield tuple(pools[k][indices[k]] for k in range(n))


def _check_r(r):
    if not isinstance(r, int):
        raise TypeError(f"'{type(r).__name__}' object cannot be interpreted "
                        "as an integer")
    if r < 0:
        raise ValueError('r must be non-negative')


# permutations and the combinations: CPython's documented algorithms, in
# lexicographic order of positions without generating rejected tuples.
def permutations(iterable, r=None):
    pool = tuple(iterable)
    n = len(pool)
    r = n if r is None else r
    _check_r(r)
    if r > n:
        return
    indices = list(range(n))
    cycles = list(range(n, n - r, -1))
    yield tuple(pool[i] for i in indices[:r])
    while n:
        for i in reversed(range(r)):
            cycles[i] -= 1
            if cycles[i] == 0:
                indices[i:] = indices[i + 1:] + indices[i:i + 1]
                cycles[i] = n - i
            else:
                j = cycles[i]
                indices[i], indices[-j] = indices[-j], indices[i]
                yield tuple(pool[i] for i in indices[:r])
                break
        else:
            return


def combinations(iterable, r):
    pool = tuple(iterable)
    n = len(pool)
    _check_r(r)
    if r > n:
        return
    indices = list(range(r))
    yield tuple(pool[i] for i in indices)
    while True:
        for i in reversed(range(r)):
            if indices[i] != i + n - r:
                break
        else:
            return
        indices[i] += 1
        for j in range(i + 1, r):
            indices[j] = indices[j - 1] + 1
        yield tuple(pool[i] for i in indices)


def combinations_with_replacement(iterable, r):
    pool = tuple(iterable)
    n = len(pool)
    _check_r(r)
    if not n and r:
        return
    indices = [0] * r
    yield tuple(pool[i] for i in indices)
    while True:
        for i in reversed(range(r)):
            if indices[i] != n - 1:
                break
        else:
            return
        indices[i:] = [indices[i] + 1] * (r - i)
        yield tuple(pool[i] for i in indices)


# ---------------------------------------------------------------------------
# The generator functions above become classes named as CPython's, so that
# type(chain()).__name__ is 'chain' and the repr is <itertools.chain object
# at 0x...>; each instance drives its generator.

class _Iterator:
    __slots__ = ('_gen',)

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._gen)

    @classmethod
    def _of(cls, gen):
        self = object.__new__(cls)
        self._gen = gen
        return self


def _iterator_class(name, genfunc):
    def __new__(cls, *args, **kwargs):
        return cls._of(genfunc(*args, **kwargs))
    return type(name, (_Iterator,), {'__new__': staticmethod(__new__),
                                     '__module__': 'itertools',
                                     '__slots__': ()})


for _name in ['cycle', 'accumulate', 'chain', 'compress', 'dropwhile',
              'filterfalse', 'groupby', 'islice', 'pairwise', 'starmap',
              'takewhile', 'zip_longest', 'product', 'permutations',
              'combinations', 'combinations_with_replacement']:
    globals()[_name] = _iterator_class(_name, globals()[_name])
del _name

chain.from_iterable = classmethod(lambda cls, iterables:
                                  cls._of(_from_iterable(iterables)))
_tee = _iterator_class('_tee', None)
_grouper = _iterator_class('_grouper', None)
