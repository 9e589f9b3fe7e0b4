"""Heap queue algorithm (a.k.a. priority queue).

Heaps are plain lists for which a[k] <= a[2*k+1] and a[k] <= a[2*k+2] for
every k; a[0] is always the smallest item.

The sift routines follow CPython's algorithm exactly, so the lists a program
prints have the same layout as under CPython.
"""

__all__ = ['heappush', 'heappop', 'heapify', 'heapreplace', 'merge',
           'nlargest', 'nsmallest', 'heappushpop']


def _check_list(heap, func, single=False):
    # CPython's C functions reject anything but a list (or a list subclass).
    if not isinstance(heap, list):
        which = "argument" if single else "argument 1"
        raise TypeError(
            f"{func}() {which} must be list, not {type(heap).__name__}")


def heappush(heap, item):
    """Push item onto heap, maintaining the heap invariant."""
    _check_list(heap, "heappush")
    heap.append(item)
    _siftdown(heap, 0, len(heap) - 1)


def heappop(heap):
    """Pop the smallest item off the heap, maintaining the heap invariant."""
    _check_list(heap, "heappop", single=True)
    if not heap:
        raise IndexError("index out of range")
    last = heap.pop()
    if heap:
        returnitem = heap[0]
        heap[0] = last
        _siftup(heap, 0)
        return returnitem
    return last


def heapreplace(heap, item):
    """Pop and return the smallest item, then push item (heap size unchanged)."""
    _check_list(heap, "heapreplace")
    if not heap:
        raise IndexError("index out of range")
    returnitem = heap[0]
    heap[0] = item
    _siftup(heap, 0)
    return returnitem


def heappushpop(heap, item):
    """Push item, then pop and return the smallest item (faster than both)."""
    _check_list(heap, "heappushpop")
    if heap and heap[0] < item:
        item, heap[0] = heap[0], item
        _siftup(heap, 0)
    return item


def heapify(x):
    """Transform a list into a heap, in place, in O(len(x)) time."""
    _check_list(x, "heapify", single=True)
    n = len(x)
    # Leaves are already heaps; sift down every parent, last one first.
    for i in reversed(range(n // 2)):
        _siftup(x, i)


def _siftdown(heap, startpos, pos):
    # Move heap[pos] up towards startpos until its parent is not larger.
    newitem = heap[pos]
    while pos > startpos:
        parentpos = (pos - 1) >> 1
        parent = heap[parentpos]
        if newitem < parent:
            heap[pos] = parent
            pos = parentpos
            continue
        break
    heap[pos] = newitem


def _siftup(heap, pos):
    # Walk the smaller child down to a leaf, then bubble the new item up.
    # This does fewer comparisons than stopping early (see CPython's notes);
    # we keep it so heap layouts match CPython's.
    endpos = len(heap)
    startpos = pos
    newitem = heap[pos]
    childpos = 2 * pos + 1
    while childpos < endpos:
        rightpos = childpos + 1
        if rightpos < endpos and not heap[childpos] < heap[rightpos]:
            childpos = rightpos
        heap[pos] = heap[childpos]
        pos = childpos
        childpos = 2 * pos + 1
    heap[pos] = newitem
    _siftdown(heap, startpos, pos)


class _Reversed:
    # Wraps a sort key so a min-heap pops the largest first (merge(reverse=True)).
    # __eq__ matters: list comparison tests == before <, and ties must fall
    # through to the iterable's index.
    def __init__(self, value):
        self.value = value

    def __lt__(self, other):
        return other.value < self.value

    def __eq__(self, other):
        return self.value == other.value


_EXHAUSTED = object()


def merge(*iterables, key=None, reverse=False):
    """Merge sorted inputs into a single sorted output (a generator).

    Equal items come out in the order of the iterables they came from.
    """

    def sort_key(value):
        k = value if key is None else key(value)
        return _Reversed(k) if reverse else k

    heap = []
    order = 0
    for iterable in iterables:
        it = iter(iterable)
        value = next(it, _EXHAUSTED)
        if value is not _EXHAUSTED:
            # order breaks ties, so values themselves are compared only by key.
            heap.append([sort_key(value), order, value, it])
        order += 1
    heapify(heap)
    while heap:
        entry = heap[0]
        yield entry[2]
        value = next(entry[3], _EXHAUSTED)
        if value is _EXHAUSTED:
            heappop(heap)
        else:
            entry[0] = sort_key(value)
            entry[2] = value
            heapreplace(heap, entry)


def nsmallest(n, iterable, key=None):
    """Find the n smallest elements in a dataset.

    Equivalent to: sorted(iterable, key=key)[:n]
    """
    if n <= 0:
        # CPython still consumes nothing and returns an empty list.
        return []
    return sorted(iterable, key=key)[:n]


def nlargest(n, iterable, key=None):
    """Find the n largest elements in a dataset.

    Equivalent to: sorted(iterable, key=key, reverse=True)[:n]
    """
    if n <= 0:
        return []
    return sorted(iterable, key=key, reverse=True)[:n]
