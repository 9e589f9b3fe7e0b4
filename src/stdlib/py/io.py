"""In-memory streams: ``StringIO`` and ``BytesIO`` with CPython's behaviour
and messages, the ``SEEK_*`` constants, ``open`` and the base classes that
``isinstance`` checks name. Files themselves are the built-in ``open``'s.
"""

SEEK_SET = 0
SEEK_CUR = 1
SEEK_END = 2

DEFAULT_BUFFER_SIZE = 8192

open = open


class UnsupportedOperation(OSError, ValueError):
    pass


class IOBase:
    def __enter__(self):
        self._check_closed()
        return self

    def __exit__(self, *exc):
        self.close()

    def __iter__(self):
        self._check_closed()
        return self

    def __next__(self):
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def readable(self):
        self._check_closed()
        return True

    def writable(self):
        self._check_closed()
        return True

    def seekable(self):
        self._check_closed()
        return True

    def flush(self):
        self._check_closed()

    def isatty(self):
        self._check_closed()
        return False

    def readlines(self, hint=-1):
        lines = []
        total = 0
        for line in self:
            lines.append(line)
            total += len(line)
            if 0 < hint <= total:
                break
        return lines

    def writelines(self, lines):
        self._check_closed()
        for line in lines:
            self.write(line)


class TextIOBase(IOBase):
    pass


class BufferedIOBase(IOBase):
    pass


class RawIOBase(IOBase):
    pass


class _MemoryIO:
    """What StringIO and BytesIO share: a buffer and a position.

    Writes at the end (``print(..., file=f)``, the common case) wait in a
    list and are joined on once the buffer is read, as CPython's
    accumulator does: copying the buffer per write would be quadratic.
    """

    _empty = ""
    _closed_msg = "I/O operation on closed file"

    def _init_buffer(self, data):
        self._buf = data  # the joined part
        self._tail = []  # writes at the end not joined on yet
        self._size = len(data)  # len(self._buf) plus the tail's lengths
        self._pos = 0

    def _merged(self):
        """The whole buffer, the pending writes joined on."""
        if self._tail:
            self._buf += self._empty.join(self._tail)
            self._tail = []
        return self._buf

    def _check_closed(self):
        if self._closed:
            raise ValueError(self._closed_msg)

    @property
    def closed(self):
        return self._closed

    def close(self):
        self._closed = True

    def getvalue(self):
        self._check_closed()
        return self._merged()

    def tell(self):
        self._check_closed()
        return self._pos

    def read(self, size=-1):
        self._check_closed()
        buf = self._merged()
        if size is None or size < 0:
            size = len(buf)
        start = min(self._pos, len(buf))
        data = buf[start:start + size]
        self._pos = start + len(data)
        return data

    def readline(self, size=-1):
        self._check_closed()
        buf = self._merged()
        start = min(self._pos, len(buf))
        end = buf.find(self._newline, start)
        end = len(buf) if end < 0 else end + 1
        if size is not None and size >= 0:
            end = min(end, start + size)
        self._pos = end
        return buf[start:end]

    def truncate(self, size=None):
        self._check_closed()
        if size is None:
            size = self._pos
        if size < 0:
            raise ValueError(f"Negative size value {size}")
        self._buf = self._merged()[:size]
        self._size = len(self._buf)
        return size

    def _write(self, data):
        self._check_closed()
        n = len(data)
        if n == 0:
            return 0
        pos = self._pos
        if pos == self._size:
            self._tail.append(data)
        else:
            buf = self._merged()
            if pos > len(buf):
                buf += self._pad * (pos - len(buf))
            self._buf = buf[:pos] + data + buf[pos + n:]
        self._size = max(self._size, pos + n)
        self._pos = pos + n
        return n


class StringIO(_MemoryIO, TextIOBase):
    _newline = "\n"
    _pad = "\0"

    def __init__(self, initial_value="", newline="\n"):
        if newline is not None and not isinstance(newline, str):
            raise TypeError(f"newline must be str or None, not {type(newline).__name__}")
        if newline not in (None, "", "\n", "\r", "\r\n"):
            raise ValueError(f"illegal newline value: {newline!r}")
        if initial_value is None:
            initial_value = ""
        if not isinstance(initial_value, str):
            raise TypeError(f"initial_value must be str or None, not {type(initial_value).__name__}")
        self._translate = newline is None
        self._closed = False
        self._init_buffer("")
        self.write(initial_value)
        self._pos = 0

    def write(self, s):
        if not isinstance(s, str):
            raise TypeError(f"string argument expected, got '{type(s).__name__}'")
        if self._translate:
            s = s.replace("\r\n", "\n").replace("\r", "\n")
        return self._write(s)

    def seek(self, pos, whence=0):
        self._check_closed()
        if whence == SEEK_SET:
            if pos < 0:
                raise ValueError(f"Negative seek position {pos}")
            self._pos = pos
        elif whence == SEEK_CUR:
            if pos != 0:
                raise OSError("Can't do nonzero cur-relative seeks")
        elif whence == SEEK_END:
            if pos != 0:
                raise OSError("Can't do nonzero end-relative seeks")
            self._pos = self._size
        else:
            raise ValueError(f"Invalid whence ({whence}, should be 0, 1 or 2)")
        return self._pos

    def __repr__(self):
        return f"<_io.StringIO object at {hex(id(self))}>"


class BytesIO(_MemoryIO, BufferedIOBase):
    _newline = b"\n"
    _pad = b"\0"
    _empty = b""

    def __init__(self, initial_bytes=b""):
        self._closed = False
        self._init_buffer(b"" if initial_bytes is None else bytes(initial_bytes))

    def write(self, b):
        if isinstance(b, str) or not hasattr(b, "__len__"):
            raise TypeError(f"a bytes-like object is required, not '{type(b).__name__}'")
        return self._write(bytes(b))

    def read1(self, size=-1):
        return self.read(size)

    def getbuffer(self):
        self._check_closed()
        return self._merged()

    def seek(self, pos, whence=0):
        self._check_closed()
        if whence == SEEK_SET:
            if pos < 0:
                raise ValueError(f"negative seek value {pos}")
            self._pos = pos
        elif whence == SEEK_CUR:
            self._pos = max(0, self._pos + pos)
        elif whence == SEEK_END:
            self._pos = max(0, self._size + pos)
        else:
            raise ValueError(f"invalid whence ({whence}, should be 0, 1 or 2)")
        return self._pos

    def __repr__(self):
        return f"<_io.BytesIO object at {hex(id(self))}>"
