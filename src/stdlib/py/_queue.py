"""_queue: Empty and SimpleQueue, the parts of the queue module CPython
writes in C (their frames stay out of tracebacks, as CPython's do)."""

import threading
from collections import deque


class Empty(Exception):
    'Exception raised by Queue.get(block=0)/get_nowait().'
    # CPython defines Empty in its C module _queue; keep the name it prints
    # in tracebacks ("_queue.Empty").
    __module__ = '_queue'


def _check_timeout(timeout):
    if timeout < 0:
        raise ValueError("'timeout' must be a non-negative number")


class SimpleQueue:
    '''Simple, unbounded FIFO queue (no task tracking).

    CPython implements it in C; here a semaphore counts the items, so get()
    waits exactly until there is one to take.
    '''

    # `Cls[int]` in type hints, as CPython allows (no alias object).
    __class_getitem__ = classmethod(type(list[int]))

    __module__ = '_queue'  # As CPython's C class reports itself.

    def __init__(self):
        self._queue = deque()
        # The deque is shared by producers and consumers: guard each access
        # so it stays consistent without relying on the GIL.
        self._lock = threading.Lock()
        self._count = threading.Semaphore(0)

    def put(self, item, block=True, timeout=None):
        '''Put the item on the queue; never blocks (the arguments exist for
        compatibility with Queue).'''
        with self._lock:
            self._queue.append(item)
        self._count.release()

    def get(self, block=True, timeout=None):
        '''Remove and return an item from the queue (see Queue.get()).'''
        if not block:
            timeout = None  # Ignored, as in CPython's C version.
        elif timeout is not None:
            _check_timeout(timeout)
        if not self._count.acquire(block, timeout):
            raise Empty
        with self._lock:
            return self._queue.popleft()

    def put_nowait(self, item):
        '''Put an item into the queue without blocking.'''
        return self.put(item, block=False)

    def get_nowait(self):
        '''Remove and return an item if one is immediately available,
        else raise Empty.'''
        return self.get(False)

    def empty(self):
        '''Return True if the queue is empty (not reliable with threads).'''
        with self._lock:
            return len(self._queue) == 0

    def qsize(self):
        '''Return the approximate size of the queue.'''
        with self._lock:
            return len(self._queue)
