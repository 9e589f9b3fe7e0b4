"""The garbage collector interface.

gilvm frees every object when its last reference goes (reference counting)
and has no cycle collector: objects in reference cycles are never freed, so
`collect()` finds nothing to collect and returns 0. The switches and
thresholds are kept so that programs written for CPython's collector (timing
code that disables it, for instance) run unchanged.
"""

garbage = []
callbacks = []

_enabled = True
_threshold = [700, 10, 10]
_frozen = 0


def _index(value):
    if isinstance(value, int):
        return value
    if hasattr(type(value), "__index__"):
        return type(value).__index__(value)
    raise TypeError(f"'{type(value).__name__}' object cannot be interpreted as an integer")


def collect(generation=2):
    if not 0 <= _index(generation) <= 2:
        raise ValueError("invalid generation")
    return 0


def enable():
    global _enabled
    _enabled = True


def disable():
    global _enabled
    _enabled = False


def isenabled():
    return _enabled


def get_threshold():
    return tuple(_threshold)


def set_threshold(*thresholds):
    if not thresholds:
        raise TypeError("set_threshold() takes at least 1 argument (0 given)")
    if len(thresholds) > 3:
        raise TypeError(f"set_threshold() takes at most 3 arguments ({len(thresholds)} given)")
    for i, t in enumerate(thresholds):
        _threshold[i] = _index(t)


def get_count():
    # No allocations are counted towards a collection that never comes.
    return (0, 0, 0)


def freeze():
    pass


def unfreeze():
    pass


def get_freeze_count():
    return _frozen
