"""concurrent.futures.thread: the thread pool, defined in concurrent.futures."""

from concurrent.futures import ThreadPoolExecutor, BrokenThreadPool, _worker
