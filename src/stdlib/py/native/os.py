# The in-language part of the os module, run in the namespace of the native
# module (listdir, path, fspath, _stat, ... are its globals).


class stat_result(tuple):
    """The result of os.stat(): ten integer fields, the times also as floats."""

    n_fields = 10
    _names = ('st_mode', 'st_ino', 'st_dev', 'st_nlink', 'st_uid', 'st_gid',
              'st_size', 'st_atime', 'st_mtime', 'st_ctime')

    def __new__(cls, values):
        ints = tuple(values[:10])
        self = tuple.__new__(cls, ints)
        self._times = tuple(values[10:13])
        return self

    st_mode = property(lambda self: self[0])
    st_ino = property(lambda self: self[1])
    st_dev = property(lambda self: self[2])
    st_nlink = property(lambda self: self[3])
    st_uid = property(lambda self: self[4])
    st_gid = property(lambda self: self[5])
    st_size = property(lambda self: self[6])
    st_atime = property(lambda self: self._times[0])
    st_mtime = property(lambda self: self._times[1])
    st_ctime = property(lambda self: self._times[2])

    def __repr__(self):
        fields = ', '.join(f'{n}={v!r}' for n, v in zip(self._names, self))
        return f'os.stat_result({fields})'


def stat(path, *, follow_symlinks=True):
    """Perform a stat system call on the given path."""
    return stat_result(_stat(path, follow_symlinks))


def lstat(path):
    """Like stat(), but do not follow a final symbolic link."""
    return stat_result(_stat(path, False))


def walk(top, topdown=True, onerror=None, followlinks=False):
    """Directory tree generator: a (dirpath, dirnames, filenames) tuple for
    each directory under top (top included). With topdown, the caller may
    prune dirnames in place to skip subdirectories."""
    return _walk(fspath(top), topdown, onerror, followlinks)


def _walk(top, topdown, onerror, followlinks):
    # CPython 3.11's recursive walk, with listdir for scandir.
    dirs = []
    nondirs = []
    walk_dirs = []
    try:
        names = listdir(top)
    except OSError as error:
        if onerror is not None:
            onerror(error)
        return
    for name in names:
        full = path.join(top, name)
        is_dir = path.isdir(full)
        if is_dir:
            dirs.append(name)
        else:
            nondirs.append(name)
        if not topdown and is_dir and (followlinks or not path.islink(full)):
            walk_dirs.append(full)
    if topdown:
        yield top, dirs, nondirs
        for dirname in dirs:
            new_path = path.join(top, dirname)
            if followlinks or not path.islink(new_path):
                yield from _walk(new_path, topdown, onerror, followlinks)
    else:
        for new_path in walk_dirs:
            yield from _walk(new_path, topdown, onerror, followlinks)
        yield top, dirs, nondirs


class DirEntry:
    """An entry of os.scandir(): the name, the path, and type tests."""

    def __init__(self, dirpath, name):
        self.name = name
        self.path = path.join(dirpath, name)

    def is_dir(self, *, follow_symlinks=True):
        if not follow_symlinks and path.islink(self.path):
            return False
        return path.isdir(self.path)

    def is_file(self, *, follow_symlinks=True):
        if not follow_symlinks and path.islink(self.path):
            return False
        return path.isfile(self.path)

    def is_symlink(self):
        return path.islink(self.path)

    def stat(self, *, follow_symlinks=True):
        return stat(self.path, follow_symlinks=follow_symlinks)

    def inode(self):
        return self.stat(follow_symlinks=False).st_ino

    def __fspath__(self):
        return self.path

    def __repr__(self):
        return f'<DirEntry {self.name!r}>'


DirEntry.__module__ = 'posix'


class ScandirIterator:
    """The iterator os.scandir() returns; also a context manager."""

    def __init__(self, top):
        self._top = top
        self._names = iter(listdir(top))

    def __iter__(self):
        return self

    def __next__(self):
        return DirEntry(self._top, next(self._names))

    def close(self):
        self._names = iter(())

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


ScandirIterator.__module__ = 'posix'


def scandir(path='.'):
    """An iterator of DirEntry objects for the entries of the directory."""
    return ScandirIterator(fspath(path))
