"""JSON encoding and decoding with the ``json`` module's API and messages:
``dumps``/``dump``, ``loads``/``load``, ``JSONEncoder``, ``JSONDecoder`` and
``JSONDecodeError``. Our own implementation, in the language.
"""

__all__ = ["dump", "dumps", "load", "loads", "JSONDecoder", "JSONDecodeError", "JSONEncoder"]

_INFINITY = float("inf")


class JSONDecodeError(ValueError):
    """Subclass of ValueError with: msg, doc, pos, lineno, colno."""

    def __init__(self, msg, doc, pos):
        lineno = doc.count("\n", 0, pos) + 1
        colno = pos - doc.rfind("\n", 0, pos)
        errmsg = "%s: line %d column %d (char %d)" % (msg, lineno, colno, pos)
        ValueError.__init__(self, errmsg)
        self.msg = msg
        self.doc = doc
        self.pos = pos
        self.lineno = lineno
        self.colno = colno

    def __reduce__(self):
        return self.__class__, (self.msg, self.doc, self.pos)


JSONDecodeError.__module__ = "json.decoder"

# ---------------------------------------------------------------- encoding

_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}


def _encode_str(s, ensure_ascii):
    out = ['"']
    for ch in s:
        esc = _ESCAPES.get(ch)
        if esc is not None:
            out.append(esc)
            continue
        n = ord(ch)
        if n < 0x20:
            out.append("\\u%04x" % n)
        elif ensure_ascii and n > 0x7E:
            if n > 0xFFFF:
                n -= 0x10000
                out.append("\\u%04x\\u%04x" % (0xD800 | (n >> 10), 0xDC00 | (n & 0x3FF)))
            else:
                out.append("\\u%04x" % n)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


class JSONEncoder:
    item_separator = ", "
    key_separator = ": "

    def __init__(self, *, skipkeys=False, ensure_ascii=True, check_circular=True,
                 allow_nan=True, sort_keys=False, indent=None, separators=None, default=None):
        self.skipkeys = skipkeys
        self.ensure_ascii = ensure_ascii
        self.check_circular = check_circular
        self.allow_nan = allow_nan
        self.sort_keys = sort_keys
        self.indent = indent
        if separators is not None:
            self.item_separator, self.key_separator = separators
        elif indent is not None:
            self.item_separator = ","
        if default is not None:
            self.default = default

    def default(self, o):
        raise TypeError(f"Object of type {o.__class__.__name__} is not JSON serializable")

    def encode(self, o):
        if isinstance(o, str):
            return _encode_str(o, self.ensure_ascii)
        return "".join(self.iterencode(o))

    def iterencode(self, o, _one_shot=False):
        indent = self.indent
        if indent is not None and not isinstance(indent, str):
            indent = " " * indent
        markers = {} if self.check_circular else None
        chunks = []
        self._encode(o, chunks, markers, indent, 0)
        return iter(chunks)

    def _float(self, o):
        if o != o:
            text = "NaN"
        elif o == _INFINITY:
            text = "Infinity"
        elif o == -_INFINITY:
            text = "-Infinity"
        else:
            return float.__repr__(o)
        if not self.allow_nan:
            raise ValueError("Out of range float values are not JSON compliant")
        return text

    def _key(self, key):
        if isinstance(key, str):
            return key
        if isinstance(key, float):
            return self._float(key)
        if key is True:
            return "true"
        if key is False:
            return "false"
        if key is None:
            return "null"
        if isinstance(key, int):
            return int.__repr__(key)
        if self.skipkeys:
            return None
        raise TypeError(f"keys must be str, int, float, bool or None, not {key.__class__.__name__}")

    def _encode(self, o, out, markers, indent, level):
        # One frame per level of nesting, as CPython's C encoder counts it
        # against the recursion limit.
        if isinstance(o, str):
            out.append(_encode_str(o, self.ensure_ascii))
        elif o is None:
            out.append("null")
        elif o is True:
            out.append("true")
        elif o is False:
            out.append("false")
        elif isinstance(o, int):
            out.append(int.__repr__(o))
        elif isinstance(o, float):
            out.append(self._float(o))
        elif isinstance(o, (list, tuple, dict)):
            is_dict = isinstance(o, dict)
            if not o:
                out.append("{}" if is_dict else "[]")
                return
            if markers is not None:
                mid = id(o)
                if mid in markers:
                    raise ValueError("Circular reference detected")
                markers[mid] = o
            out.append("{" if is_dict else "[")
            if indent is not None:
                level += 1
                newline = "\n" + indent * level
                separator = self.item_separator + newline
                out.append(newline)
            else:
                separator = self.item_separator
            first = True
            if is_dict:
                items = sorted(o.items()) if self.sort_keys else o.items()
                for k, v in items:
                    key = self._key(k)
                    if key is None:
                        continue
                    if not first:
                        out.append(separator)
                    first = False
                    out.append(_encode_str(key, self.ensure_ascii))
                    out.append(self.key_separator)
                    self._encode(v, out, markers, indent, level)
            else:
                for v in o:
                    if not first:
                        out.append(separator)
                    first = False
                    self._encode(v, out, markers, indent, level)
            if indent is not None:
                level -= 1
                out.append("\n" + indent * level)
            out.append("}" if is_dict else "]")
            if markers is not None:
                del markers[mid]
        else:
            if markers is not None:
                mid = id(o)
                if mid in markers:
                    raise ValueError("Circular reference detected")
                markers[mid] = o
            self._encode(self.default(o), out, markers, indent, level)
            if markers is not None:
                del markers[mid]


def dumps(obj, *, skipkeys=False, ensure_ascii=True, check_circular=True, allow_nan=True,
          cls=None, indent=None, separators=None, default=None, sort_keys=False, **kw):
    """Serialize ``obj`` to a JSON formatted ``str``."""
    if cls is None:
        cls = JSONEncoder
    return cls(skipkeys=skipkeys, ensure_ascii=ensure_ascii, check_circular=check_circular,
               allow_nan=allow_nan, indent=indent, separators=separators, default=default,
               sort_keys=sort_keys, **kw).encode(obj)


def dump(obj, fp, *, skipkeys=False, ensure_ascii=True, check_circular=True, allow_nan=True,
         cls=None, indent=None, separators=None, default=None, sort_keys=False, **kw):
    """Serialize ``obj`` as a JSON formatted stream to ``fp`` (a ``.write()``-supporting file)."""
    if cls is None:
        cls = JSONEncoder
    encoder = cls(skipkeys=skipkeys, ensure_ascii=ensure_ascii, check_circular=check_circular,
                  allow_nan=allow_nan, indent=indent, separators=separators, default=default,
                  sort_keys=sort_keys, **kw)
    for chunk in encoder.iterencode(obj):
        fp.write(chunk)


# ---------------------------------------------------------------- decoding

_WS = " \t\n\r"
_BACKSLASH = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_DIGITS = "0123456789"


class JSONDecoder:
    def __init__(self, *, object_hook=None, parse_float=None, parse_int=None,
                 parse_constant=None, strict=True, object_pairs_hook=None):
        self.object_hook = object_hook
        self.parse_float = parse_float or float
        self.parse_int = parse_int or int
        self.parse_constant = parse_constant or _CONSTANTS.__getitem__
        self.strict = strict
        self.object_pairs_hook = object_pairs_hook

    def decode(self, s):
        obj, end = self.raw_decode(s, _skip_ws(s, 0))
        end = _skip_ws(s, end)
        if end != len(s):
            raise JSONDecodeError("Extra data", s, end)
        return obj

    def raw_decode(self, s, idx=0):
        c = s[idx:idx + 1]
        if c == "{":
            return self._object(s, idx + 1)
        if c == "[":
            return self._array(s, idx + 1)
        return self._scalar(s, idx)

    # Containers parse nested containers themselves, so that each level of
    # nesting takes one frame: CPython's scanner counts one level against
    # the recursion limit.

    def _scalar(self, s, i):
        c = s[i:i + 1]
        if c == '"':
            return self._string(s, i + 1)
        if c == "n" and s.startswith("null", i):
            return None, i + 4
        if c == "t" and s.startswith("true", i):
            return True, i + 4
        if c == "f" and s.startswith("false", i):
            return False, i + 5
        if c == "N" and s.startswith("NaN", i):
            return self.parse_constant("NaN"), i + 3
        if c == "I" and s.startswith("Infinity", i):
            return self.parse_constant("Infinity"), i + 8
        if c == "-" and s.startswith("-Infinity", i):
            return self.parse_constant("-Infinity"), i + 9
        return self._number(s, i)

    def _number(self, s, i):
        """A number at `i`; "Expecting value" when there is none."""
        n = len(s)
        j = i
        if j < n and s[j] == "-":
            j += 1
        if j < n and s[j] == "0":
            j += 1
        elif j < n and s[j] in "123456789":
            j += 1
            while j < n and s[j] in _DIGITS:
                j += 1
        else:
            raise JSONDecodeError("Expecting value", s, i)
        integer_end = j
        frac = exp = ""
        if j + 1 < n and s[j] == "." and s[j + 1] in _DIGITS:
            k = j + 2
            while k < n and s[k] in _DIGITS:
                k += 1
            frac = s[j:k]
            j = k
        if j < n and s[j] in "eE":
            k = j + 1
            if k < n and s[k] in "+-":
                k += 1
            if k < n and s[k] in _DIGITS:
                while k < n and s[k] in _DIGITS:
                    k += 1
                exp = s[j:k]
                j = k
        if frac or exp:
            return self.parse_float(s[i:integer_end] + frac + exp), j
        return self.parse_int(s[i:integer_end]), j

    def _string(self, s, i):
        begin = i - 1
        chunks = []
        n = len(s)
        while True:
            j = i
            while j < n and s[j] != '"' and s[j] != "\\" and (s[j] >= " " or not self.strict):
                j += 1
            if j >= n:
                raise JSONDecodeError("Unterminated string starting at", s, begin)
            chunks.append(s[i:j])
            c = s[j]
            if c == '"':
                return "".join(chunks), j + 1
            if c != "\\":
                raise JSONDecodeError("Invalid control character at", s, j)
            if j + 1 >= n:
                raise JSONDecodeError("Unterminated string starting at", s, begin)
            e = s[j + 1]
            if e != "u":
                ch = _BACKSLASH.get(e)
                if ch is None:
                    raise JSONDecodeError("Invalid \\escape", s, j)
                chunks.append(ch)
                i = j + 2
                continue
            uni = self._hex4(s, j + 2, j + 1)
            i = j + 6
            if 0xD800 <= uni <= 0xDBFF and s.startswith("\\u", i):
                low = self._hex4(s, i + 2, i + 1)
                if 0xDC00 <= low <= 0xDFFF:
                    uni = 0x10000 + (((uni - 0xD800) << 10) | (low - 0xDC00))
                    i += 6
            chunks.append(chr(uni))

    def _hex4(self, s, i, at):
        esc = s[i:i + 4]
        if len(esc) == 4 and all(c in "0123456789abcdefABCDEF" for c in esc):
            return int(esc, 16)
        raise JSONDecodeError("Invalid \\uXXXX escape", s, at)

    def _object(self, s, i):
        pairs = []
        i = _skip_ws(s, i)
        if s[i:i + 1] == "}":
            return self._finish_object(pairs), i + 1
        while True:
            if s[i:i + 1] != '"':
                raise JSONDecodeError("Expecting property name enclosed in double quotes", s, i)
            key, i = self._string(s, i + 1)
            i = _skip_ws(s, i)
            if s[i:i + 1] != ":":
                raise JSONDecodeError("Expecting ':' delimiter", s, i)
            i = _skip_ws(s, i + 1)
            c = s[i:i + 1]
            if c == "{":
                value, i = self._object(s, i + 1)
            elif c == "[":
                value, i = self._array(s, i + 1)
            else:
                value, i = self._scalar(s, i)
            pairs.append((key, value))
            i = _skip_ws(s, i)
            c = s[i:i + 1]
            if c == "}":
                return self._finish_object(pairs), i + 1
            if c != ",":
                raise JSONDecodeError("Expecting ',' delimiter", s, i)
            i = _skip_ws(s, i + 1)

    def _finish_object(self, pairs):
        if self.object_pairs_hook is not None:
            return self.object_pairs_hook(pairs)
        obj = dict(pairs)
        if self.object_hook is not None:
            return self.object_hook(obj)
        return obj

    def _array(self, s, i):
        values = []
        i = _skip_ws(s, i)
        if s[i:i + 1] == "]":
            return values, i + 1
        while True:
            c = s[i:i + 1]
            if c == "{":
                value, i = self._object(s, i + 1)
            elif c == "[":
                value, i = self._array(s, i + 1)
            else:
                value, i = self._scalar(s, i)
            values.append(value)
            i = _skip_ws(s, i)
            c = s[i:i + 1]
            if c == "]":
                return values, i + 1
            if c != ",":
                raise JSONDecodeError("Expecting ',' delimiter", s, i)
            i = _skip_ws(s, i + 1)


try:
    _BYTES_LIKE = (bytes, bytearray)
except NameError:
    _BYTES_LIKE = (bytes,)

_CONSTANTS = {"-Infinity": -_INFINITY, "Infinity": _INFINITY, "NaN": float("nan")}


def _skip_ws(s, i):
    n = len(s)
    while i < n and s[i] in _WS:
        i += 1
    return i


def loads(s, *, cls=None, object_hook=None, parse_float=None, parse_int=None,
          parse_constant=None, object_pairs_hook=None, **kw):
    """Deserialize ``s`` (a ``str``, ``bytes`` or ``bytearray``) to a Python object."""
    if isinstance(s, str):
        if s.startswith("\ufeff"):
            raise JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", s, 0)
    elif isinstance(s, _BYTES_LIKE):
        s = s.decode("utf-8")
    else:
        raise TypeError(f"the JSON object must be str, bytes or bytearray, not {s.__class__.__name__}")
    if cls is None:
        cls = JSONDecoder
    return cls(object_hook=object_hook, parse_float=parse_float, parse_int=parse_int,
               parse_constant=parse_constant, object_pairs_hook=object_pairs_hook, **kw).decode(s)


def load(fp, *, cls=None, object_hook=None, parse_float=None, parse_int=None,
         parse_constant=None, object_pairs_hook=None, **kw):
    """Deserialize ``fp`` (a ``.read()``-supporting file) to a Python object."""
    return loads(fp.read(), cls=cls, object_hook=object_hook, parse_float=parse_float,
                 parse_int=parse_int, parse_constant=parse_constant,
                 object_pairs_hook=object_pairs_hook, **kw)
