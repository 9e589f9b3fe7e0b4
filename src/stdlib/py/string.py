"""String constants, capwords() and Template."""

__all__ = ["ascii_letters", "ascii_lowercase", "ascii_uppercase", "capwords",
           "digits", "hexdigits", "octdigits", "printable", "punctuation",
           "whitespace", "Template"]

whitespace = ' \t\n\r\v\f'
ascii_lowercase = 'abcdefghijklmnopqrstuvwxyz'
ascii_uppercase = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'
ascii_letters = ascii_lowercase + ascii_uppercase
digits = '0123456789'
hexdigits = digits + 'abcdef' + 'ABCDEF'
octdigits = '01234567'
punctuation = r"""!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~"""
printable = digits + ascii_letters + punctuation + whitespace


def capwords(s, sep=None):
    """Split s into words, capitalize each and join them with sep (or a space)."""
    return (sep or ' ').join(map(str.capitalize, s.split(sep)))


####################################################################
# Template: $-substitutions. CPython's matches a regular expression built
# from delimiter and idpattern; this one scans for the same grammar by hand
# ($$, $identifier, ${identifier}, anything else after $ is invalid), so a
# subclass may change `delimiter` but a custom `idpattern`, `braceidpattern`
# or `pattern` is not honoured.

_sentinel_dict = {}
_ID_START = '_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'
_ID_CHARS = _ID_START + '0123456789'


def _identifier_end(s, i):
    """The end of the ASCII identifier starting at s[i], or i if none."""
    n = len(s)
    if i >= n or s[i] not in _ID_START:
        return i
    j = i + 1
    while j < n and s[j] in _ID_CHARS:
        j += 1
    return j


class Template:
    """A string class for supporting $-substitutions."""

    delimiter = '$'
    idpattern = r'(?a:[_a-z][_a-z0-9]*)'
    braceidpattern = None

    def __init__(self, template):
        self.template = template

    def _scan(self):
        """Yield (start, end, kind, name) for each delimiter expression;
        kind is 'escaped', 'named', 'braced' or 'invalid'."""
        s = self.template
        delim = self.delimiter
        dl = len(delim)
        i = s.find(delim)
        while i >= 0:
            after = i + dl
            if s.startswith(delim, after):
                yield i, after + dl, 'escaped', None
                i = s.find(delim, after + dl)
                continue
            end = _identifier_end(s, after)
            if end > after:
                yield i, end, 'named', s[after:end]
                i = s.find(delim, end)
                continue
            if s.startswith('{', after):
                end = _identifier_end(s, after + 1)
                if end > after + 1 and s.startswith('}', end):
                    yield i, end + 1, 'braced', s[after + 1:end]
                    i = s.find(delim, end + 1)
                    continue
            yield i, after, 'invalid', None
            i = s.find(delim, after)

    def _invalid(self, i):
        lines = self.template[:i].splitlines(keepends=True)
        if not lines:
            colno = 1
            lineno = 1
        else:
            colno = i - len(''.join(lines[:-1]))
            lineno = len(lines)
        raise ValueError('Invalid placeholder in string: line %d, col %d' %
                         (lineno, colno))

    def _mapping(self, mapping, kws):
        if mapping is _sentinel_dict:
            return kws
        if kws:
            from collections import ChainMap
            return ChainMap(kws, mapping)
        return mapping

    def substitute(self, mapping=_sentinel_dict, /, **kws):
        return self._substitute(self._mapping(mapping, kws), safe=False)

    def safe_substitute(self, mapping=_sentinel_dict, /, **kws):
        return self._substitute(self._mapping(mapping, kws), safe=True)

    def _substitute(self, mapping, safe):
        # `safe` leaves unknown names and invalid placeholders as written.
        s = self.template
        out = []
        pos = 0
        for start, end, kind, name in self._scan():
            out.append(s[pos:start])
            if name is not None:
                try:
                    out.append(str(mapping[name]))
                except KeyError:
                    if not safe:
                        raise
                    out.append(s[start:end])
            elif kind == 'escaped':
                out.append(self.delimiter)
            elif safe:
                out.append(s[start:end])
            else:
                self._invalid(start + len(self.delimiter))
            pos = end
        out.append(s[pos:])
        return ''.join(out)

    def is_valid(self):
        return all(kind != 'invalid' for _, _, kind, _ in self._scan())

    def get_identifiers(self):
        ids = []
        for _, _, _, name in self._scan():
            if name is not None and name not in ids:
                ids.append(name)
        return ids
