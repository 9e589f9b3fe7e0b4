"""concurrent.futures._base: futures and executors, defined in concurrent.futures."""

from concurrent.futures import (
    FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED, _AS_COMPLETED,
    PENDING, RUNNING, CANCELLED, CANCELLED_AND_NOTIFIED, FINISHED,
    Error, CancelledError, TimeoutError, InvalidStateError, BrokenExecutor,
    Future, Executor, as_completed, wait,
)
