# The in-language part of os.path (posixpath), run in the namespace of the
# native module (join, abspath, normpath, ... are its globals).


def commonprefix(m):
    """The longest string that is a prefix of every item in m."""
    if not m:
        return ''
    s1 = min(m)
    s2 = max(m)
    for i, c in enumerate(s1):
        if c != s2[i]:
            return s1[:i]
    return s1


def relpath(path, start=None):
    """A relative version of path, from start (the current directory)."""
    if not path:
        raise ValueError("no path specified")
    if start is None:
        start = curdir
    start_list = [x for x in abspath(start).split(sep) if x]
    path_list = [x for x in abspath(path).split(sep) if x]
    i = len(commonprefix([start_list, path_list]))
    rel_list = [pardir] * (len(start_list) - i) + path_list[i:]
    if not rel_list:
        return curdir
    return join(*rel_list)


def commonpath(paths):
    """The longest common sub-path of each pathname in paths."""
    if not paths:
        raise ValueError('commonpath() arg is an empty sequence')
    paths = tuple(paths)
    split_paths = [p.split(sep) for p in paths]
    try:
        isabs, = set(p[:1] == sep for p in paths)
    except ValueError:
        raise ValueError("Can't mix absolute and relative paths") from None
    split_paths = [[c for c in s if c and c != curdir] for s in split_paths]
    s1 = min(split_paths)
    s2 = max(split_paths)
    common = s1
    for i, c in enumerate(s1):
        if c != s2[i]:
            common = s1[:i]
            break
    prefix = sep if isabs else sep[:0]
    return prefix + sep.join(common)


def getatime(filename):
    """The time of last access of a file, in seconds since the epoch."""
    return _os_stat(filename).st_atime


def getctime(filename):
    """The time of the last metadata change of a file."""
    return _os_stat(filename).st_ctime


def _os_stat(filename):
    import os
    return os.stat(filename)
