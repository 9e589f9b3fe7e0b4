"""Synchronised queues for passing work between threads.

Queue (FIFO), LifoQueue, PriorityQueue and SimpleQueue, with CPython 3.11's
behaviour and messages. Queue and its subclasses share one lock and three
conditions on it, as CPython's Lib/queue.py does; subclasses only change the
storage (_init/_qsize/_put/_get).
"""

import threading
from collections import deque
from heapq import heappush, heappop
from time import monotonic as time

__all__ = ['Empty', 'Full', 'Queue', 'PriorityQueue', 'LifoQueue',
           'SimpleQueue']


# Empty and SimpleQueue live in _queue, as in CPython (where that module is
# C, so tracebacks show no frame of it).
from _queue import Empty, SimpleQueue


class Full(Exception):
    'Exception raised by Queue.put(block=0)/put_nowait().'
    pass


class Queue:
    '''Create a queue object with a given maximum size.

    If maxsize is <= 0, the queue size is infinite.
    '''

    # `Cls[int]` in type hints, as CPython allows (no alias object).
    __class_getitem__ = classmethod(type(list[int]))

    def __init__(self, maxsize=0):
        self.maxsize = maxsize
        self._init(maxsize)
        # One lock guards the storage; the three conditions share it so that
        # any state change can wake the right kind of waiter.
        self.mutex = threading.Lock()
        self.not_empty = threading.Condition(self.mutex)
        self.not_full = threading.Condition(self.mutex)
        self.all_tasks_done = threading.Condition(self.mutex)
        self.unfinished_tasks = 0

    def task_done(self):
        '''Indicate that a formerly enqueued task is complete.

        Used by consumer threads: each get() that fetched a task should be
        followed by one task_done(), which lets join() return once every
        item put so far has been processed.
        '''
        with self.all_tasks_done:
            unfinished = self.unfinished_tasks - 1
            if unfinished <= 0:
                if unfinished < 0:
                    raise ValueError('task_done() called too many times')
                self.all_tasks_done.notify_all()
            self.unfinished_tasks = unfinished

    def join(self):
        '''Block until every item put into the queue has been processed
        (see task_done()).'''
        with self.all_tasks_done:
            while self.unfinished_tasks:
                self.all_tasks_done.wait()

    def qsize(self):
        '''Return the approximate size of the queue.'''
        with self.mutex:
            return self._qsize()

    def empty(self):
        '''Return True if the queue is empty (not reliable with threads).'''
        with self.mutex:
            return not self._qsize()

    def full(self):
        '''Return True if the queue is full (not reliable with threads).'''
        with self.mutex:
            return 0 < self.maxsize <= self._qsize()

    def put(self, item, block=True, timeout=None):
        '''Put an item into the queue.

        With block true and timeout None, wait until a free slot is
        available; with a timeout, raise Full if none appears in time; with
        block false, raise Full at once if the queue is full.
        '''
        with self.not_full:
            if self.maxsize > 0:
                if not block:
                    if self._qsize() >= self.maxsize:
                        raise Full
                elif timeout is None:
                    while self._qsize() >= self.maxsize:
                        self.not_full.wait()
                elif timeout < 0:
                    raise ValueError("'timeout' must be a non-negative number")
                else:
                    endtime = time() + timeout
                    while self._qsize() >= self.maxsize:
                        remaining = endtime - time()
                        if remaining <= 0.0:
                            raise Full
                        self.not_full.wait(remaining)
            self._put(item)
            self.unfinished_tasks += 1
            self.not_empty.notify()

    def get(self, block=True, timeout=None):
        '''Remove and return an item from the queue.

        With block true and timeout None, wait until an item is available;
        with a timeout, raise Empty if none arrives in time; with block
        false, raise Empty at once if the queue is empty.
        '''
        with self.not_empty:
            if not block:
                if not self._qsize():
                    raise Empty
            elif timeout is None:
                while not self._qsize():
                    self.not_empty.wait()
            elif timeout < 0:
                raise ValueError("'timeout' must be a non-negative number")
            else:
                endtime = time() + timeout
                while not self._qsize():
                    remaining = endtime - time()
                    if remaining <= 0.0:
                        raise Empty
                    self.not_empty.wait(remaining)
            item = self._get()
            self.not_full.notify()
            return item

    def put_nowait(self, item):
        '''Put an item without blocking; raise Full if there is no room.'''
        return self.put(item, block=False)

    def get_nowait(self):
        '''Get an item without blocking; raise Empty if there is none.'''
        return self.get(block=False)

    # Storage. Override these four to change the ordering; they are called
    # with the mutex held.

    def _init(self, maxsize):
        self.queue = deque()

    def _qsize(self):
        return len(self.queue)

    def _put(self, item):
        self.queue.append(item)

    def _get(self):
        return self.queue.popleft()


class PriorityQueue(Queue):
    '''A queue that returns the lowest item first.

    Entries are typically tuples of the form: (priority number, data).
    '''

    def _init(self, maxsize):
        self.queue = []

    def _qsize(self):
        return len(self.queue)

    def _put(self, item):
        heappush(self.queue, item)

    def _get(self):
        return heappop(self.queue)


class LifoQueue(Queue):
    '''A queue that returns the most recently added item first.'''

    def _init(self, maxsize):
        self.queue = []

    def _qsize(self):
        return len(self.queue)

    def _put(self, item):
        self.queue.append(item)

    def _get(self):
        return self.queue.pop()
