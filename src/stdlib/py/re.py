"""Regular expressions: CPython's `re` API over the native `_re` engine.

Patterns are str only. The engine has no backreferences or look-around
assertions; patterns using them raise `re.error`.
"""

import _re

__all__ = ['match', 'fullmatch', 'search', 'sub', 'subn', 'split', 'findall',
           'finditer', 'compile', 'purge', 'escape', 'error', 'Pattern',
           'Match', 'A', 'I', 'M', 'S', 'X', 'U', 'ASCII', 'IGNORECASE',
           'MULTILINE', 'DOTALL', 'VERBOSE', 'UNICODE', 'NOFLAG', 'RegexFlag']


class RegexFlag(int):
    """A set of flags, shown by name (`re.IGNORECASE|re.MULTILINE`)."""

    # Definition order, as CPython lists them.
    _order = (('ASCII', 256), ('IGNORECASE', 2), ('LOCALE', 4),
              ('UNICODE', 32), ('MULTILINE', 8), ('DOTALL', 16),
              ('VERBOSE', 64), ('TEMPLATE', 1), ('DEBUG', 128))

    def __repr__(self):
        value = int(self)
        if value == 0:
            return 're.NOFLAG'
        names = []
        for name, bit in self._order:
            if value & bit:
                names.append('re.' + name)
                value &= ~bit
        if value:
            names.append(hex(value))
        return '|'.join(names)

    __str__ = __repr__

    def __format__(self, spec):
        return format(str(self), spec)

    def __or__(self, other):
        if isinstance(other, int):
            return RegexFlag(int(self) | int(other))
        return NotImplemented

    __ror__ = __or__

    def __and__(self, other):
        if isinstance(other, int):
            return RegexFlag(int(self) & int(other))
        return NotImplemented

    __rand__ = __and__

    def __xor__(self, other):
        if isinstance(other, int):
            return RegexFlag(int(self) ^ int(other))
        return NotImplemented

    __rxor__ = __xor__

    def __invert__(self):
        return RegexFlag(~int(self) & 511)


NOFLAG = RegexFlag(0)
I = IGNORECASE = RegexFlag(2)
M = MULTILINE = RegexFlag(8)
S = DOTALL = RegexFlag(16)
U = UNICODE = RegexFlag(32)
X = VERBOSE = RegexFlag(64)
A = ASCII = RegexFlag(256)

_MAXSIZE = 9223372036854775807


class error(Exception):
    """Raised for an invalid regular expression."""

    def __init__(self, msg, pattern=None, pos=None):
        self.msg = msg
        self.pattern = pattern
        self.pos = pos
        if pattern is not None and pos is not None:
            msg = '%s at position %d' % (msg, pos)
            self.lineno = pattern.count('\n', 0, pos) + 1
            self.colno = pos - pattern.rfind('\n', 0, pos)
            if '\n' in pattern:
                msg = '%s (line %d, column %d)' % (msg, self.lineno, self.colno)
        else:
            self.lineno = self.colno = None
        super().__init__(msg)


def _quantifier_len(p, i):
    """The length of a `{m,n}` quantifier at p[i], or 0 for a literal `{`."""
    close = p.find('}', i)
    if close < 0:
        return 0
    lo, sep, hi = p[i + 1:close].partition(',')
    if not (lo.isdigit() or (sep and not lo)) or (hi and not hi.isdigit()):
        return 0
    return close + 1 - i


def _check_syntax(p):
    """Raise CPython's error (message and position) for the common
    mistakes: unbalanced parentheses, an unterminated set, a repeat of
    nothing or of a repeat, a reference to a missing or open group."""
    opened = []
    # The group number each open parenthesis starts (0: not capturing).
    open_groups = []
    groups = 0
    names = {}
    i = 0
    n = len(p)
    can_repeat = False
    # 0: no quantifier just before; 1: one; 2: one with its ? or + modifier.
    repeated = 0
    while i < n:
        c = p[i]
        if c == '\\':
            digits = 0
            while digits < 2 and p[i + 1 + digits:i + 2 + digits].isdigit():
                digits += 1
            octal = p[i + 1:i + 4]
            if (digits and p[i + 1] != '0'
                    and not (len(octal) == 3 and all(d in '01234567' for d in octal))):
                group = int(p[i + 1:i + 1 + digits])
                if group > groups:
                    raise error('invalid group reference %d' % group, p, i + 1)
                if group in open_groups:
                    raise error('cannot refer to an open group', p, i)
                i += 1 + digits
            else:
                i += 2
            # An anchor (\b, \A, ...) cannot be repeated.
            can_repeat = digits > 0 or p[i - 1:i] not in ('b', 'B', 'A', 'Z')
            repeated = 0
            continue
        if c == '[':
            start = i
            i += 1
            if i < n and p[i] == '^':
                i += 1
            if i < n and p[i] == ']':
                i += 1
            while i < n and p[i] != ']':
                i += 2 if p[i] == '\\' else 1
            if i >= n:
                raise error('unterminated character set', p, start)
            i += 1
            can_repeat, repeated = True, 0
            continue
        if c == '(':
            if p.startswith('(?', i) and i + 2 >= n:
                raise error('unexpected end of pattern', p, i + 2)
            flags = i + 2
            while flags < n and p[flags].isalpha() or p[flags:flags + 1] == '-':
                flags += 1
            if p.startswith('(?', i) and flags < n and p[flags] == ')' and flags > i + 2:
                i = flags + 1
                continue
            if p.startswith('(?#', i):
                close = p.find(')', i)
                i = n if close < 0 else close + 1
                continue
            opened.append(i)
            if p.startswith('(?P<', i) or not p.startswith('(?', i):
                groups += 1
                open_groups.append(groups)
            else:
                open_groups.append(0)
            if p.startswith('(?P<', i):
                close = p.find('>', i)
                names[p[i + 4:close]] = groups
                i = n if close < 0 else close + 1
            elif p.startswith('(?P=', i):
                close = p.find(')', i)
                name = p[i + 4:n if close < 0 else close]
                if name.isidentifier() and name not in names:
                    raise error("unknown group name '%s'" % name, p, i + 4)
                if names.get(name) in open_groups:
                    raise error('cannot refer to an open group', p, i + 4)
                i += 4
            elif p.startswith(('(?<=', '(?<!'), i):
                i += 4
            elif p.startswith(('(?:', '(?=', '(?!'), i):
                i += 3
            else:
                i += 2 if p.startswith('(?', i) else 1
            can_repeat, repeated = False, 0
            continue
        if c == ')':
            if not opened:
                raise error('unbalanced parenthesis', p, i)
            opened.pop()
            open_groups.pop()
            i += 1
            can_repeat, repeated = True, 0
            continue
        length = 1 if c in '*+?' else _quantifier_len(p, i) if c == '{' else 0
        if length:
            if repeated == 1 and length == 1 and c in '?+':
                repeated = 2
            elif repeated:
                raise error('multiple repeat', p, i)
            elif not can_repeat:
                raise error('nothing to repeat', p, i)
            else:
                repeated = 1
            i += length
            continue
        can_repeat = c not in '|^$'
        repeated = 0
        i += 1
    if opened:
        raise error('missing ), unterminated subpattern', p, opened[-1])


def _check_string(string):
    if not isinstance(string, str):
        raise TypeError("expected string or bytes-like object, got %r"
                        % type(string).__name__)


class Pattern:
    """A compiled regular expression."""

    def __init__(self, pattern, flags):
        flags = int(flags)
        # Verbose patterns may hold anything in their comments.
        leading = pattern[2:pattern.find(')')] if pattern.startswith('(?') else ''
        if not flags & VERBOSE and not (leading.isalpha() and 'x' in leading):
            _check_syntax(pattern)
        try:
            self._engine = _re.compile(pattern, flags)
        except ValueError as e:
            raise error(str(e), pattern) from None
        self.pattern = pattern
        self.flags = flags if flags & ASCII else flags | 32
        self.groups, self.groupindex = _re.info(self._engine)
        self._names = {i: n for n, i in self.groupindex.items()}

    def __repr__(self):
        text = 're.compile(%r' % self.pattern
        flags = self.flags & ~UNICODE
        if flags:
            names = [n for n, v in (('re.IGNORECASE', I), ('re.MULTILINE', M),
                                    ('re.DOTALL', S), ('re.VERBOSE', X),
                                    ('re.ASCII', A)) if flags & v]
            text += ', ' + '|'.join(names)
        return text + ')'

    def __eq__(self, other):
        if not isinstance(other, Pattern):
            return NotImplemented
        return self.pattern == other.pattern and self.flags == other.flags

    def __hash__(self):
        return hash((self.pattern, self.flags))

    def _scan(self, string, pos, endpos, mode, limit):
        _check_string(string)
        try:
            return _re.scan(self._engine, string, pos, endpos, mode, limit)
        except ValueError as e:
            # The engine's backtracking limit.
            raise error(str(e)) from None

    def _one(self, string, pos, endpos, mode):
        found = self._scan(string, pos, endpos, mode, 1)
        if not found:
            return None
        return Match(self, string, found[0], pos, endpos)

    def search(self, string, pos=0, endpos=_MAXSIZE):
        return self._one(string, pos, endpos, 0)

    def match(self, string, pos=0, endpos=_MAXSIZE):
        return self._one(string, pos, endpos, 1)

    def fullmatch(self, string, pos=0, endpos=_MAXSIZE):
        return self._one(string, pos, endpos, 2)

    def finditer(self, string, pos=0, endpos=_MAXSIZE):
        return iter([Match(self, string, spans, pos, endpos)
                     for spans in self._scan(string, pos, endpos, 0, 0)])

    def findall(self, string, pos=0, endpos=_MAXSIZE):
        out = []
        for spans in self._scan(string, pos, endpos, 0, 0):
            if self.groups == 0:
                out.append(string[spans[0]:spans[1]])
            else:
                items = tuple('' if spans[2 * g] < 0
                              else string[spans[2 * g]:spans[2 * g + 1]]
                              for g in range(1, self.groups + 1))
                out.append(items[0] if self.groups == 1 else items)
        return out

    def split(self, string, maxsplit=0):
        out = []
        last = 0
        if maxsplit < 0:
            return [string]
        for spans in self._scan(string, 0, _MAXSIZE, 0, maxsplit):
            out.append(string[last:spans[0]])
            for g in range(1, self.groups + 1):
                s, e = spans[2 * g], spans[2 * g + 1]
                out.append(None if s < 0 else string[s:e])
            last = spans[1]
        out.append(string[last:])
        return out

    def subn(self, repl, string, count=0):
        if callable(repl):
            expand = repl
        else:
            if not isinstance(repl, str):
                raise TypeError("expected str instance, %s found"
                                % type(repl).__name__)
            pieces = _parse_template(repl, self)
            if all(isinstance(p, str) for p in pieces):
                literal = ''.join(pieces)
                expand = lambda m: literal
            else:
                expand = lambda m: _expand(pieces, m)
        out = []
        last = 0
        n = 0
        for spans in self._scan(string, 0, _MAXSIZE, 0, max(count, 0)):
            out.append(string[last:spans[0]])
            piece = expand(Match(self, string, spans, 0, _MAXSIZE))
            if not isinstance(piece, str):
                raise TypeError("expected str instance, %s found"
                                % type(piece).__name__)
            out.append(piece)
            last = spans[1]
            n += 1
        out.append(string[last:])
        return ''.join(out), n

    def sub(self, repl, string, count=0):
        return self.subn(repl, string, count)[0]


class Match:
    """The result of a successful match."""

    def __init__(self, pattern, string, spans, pos, endpos):
        self.re = pattern
        self.string = string
        self._spans = spans
        self.pos = max(0, min(pos, len(string)))
        self.endpos = max(0, min(endpos, len(string)))
        last = None
        for g in range(1, pattern.groups + 1):
            if spans[2 * g] >= 0 and (last is None or
                                      spans[2 * g + 1] > spans[2 * last + 1]):
                last = g
        self.lastindex = last
        self.lastgroup = pattern._names.get(last)

    def _index(self, group):
        if isinstance(group, str):
            index = self.re.groupindex.get(group)
            if index is not None:
                return index
        elif isinstance(group, int) and not isinstance(group, bool):
            if 0 <= group <= self.re.groups:
                return group
        raise IndexError("no such group")

    def _get(self, group, default=None):
        g = self._index(group)
        s = self._spans[2 * g]
        if s < 0:
            return default
        return self.string[s:self._spans[2 * g + 1]]

    def group(self, *groups):
        if not groups:
            return self._get(0)
        if len(groups) == 1:
            return self._get(groups[0])
        return tuple(self._get(g) for g in groups)

    def __getitem__(self, group):
        return self._get(group)

    def groups(self, default=None):
        return tuple(self._get(g, default) for g in range(1, self.re.groups + 1))

    def groupdict(self, default=None):
        return {name: self._get(index, default)
                for name, index in self.re.groupindex.items()}

    def start(self, group=0):
        return self._spans[2 * self._index(group)]

    def end(self, group=0):
        return self._spans[2 * self._index(group) + 1]

    def span(self, group=0):
        g = self._index(group)
        return self._spans[2 * g], self._spans[2 * g + 1]

    @property
    def regs(self):
        return tuple(self.span(g) for g in range(self.re.groups + 1))

    def expand(self, template):
        return _expand(_parse_template(template, self.re), self)

    def __repr__(self):
        return '<re.Match object; span=%r, match=%r>' % (self.span(), self.group())


_ESCAPES = {'a': '\a', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r',
            't': '\t', 'v': '\v', '\\': '\\'}
_OCTAL = '01234567'


def _parse_template(template, pattern):
    """A replacement template as literal strings and group numbers."""
    pieces = []
    literal = []
    i = 0
    n = len(template)
    while i < n:
        c = template[i]
        i += 1
        if c != '\\':
            literal.append(c)
            continue
        if i >= n:
            raise error('bad escape (end of pattern)', template, i - 1)
        c = template[i]
        i += 1
        if c == 'g':
            if i >= n or template[i] != '<':
                raise error('missing <', template, i)
            close = template.find('>', i + 1)
            if close < 0:
                raise error('missing >, unterminated name', template, i + 1)
            name = template[i + 1:close]
            if not name:
                raise error('missing group name', template, i + 1)
            if name.isdigit() and name.isascii():
                index = int(name)
                if index > pattern.groups:
                    raise error('invalid group reference %d' % index,
                                template, i + 1)
            elif name.isidentifier():
                if name not in pattern.groupindex:
                    raise IndexError('unknown group name %r' % name)
                index = pattern.groupindex[name]
            else:
                raise error('bad character in group name %r' % name,
                            template, i + 1)
            i = close + 1
        elif c == '0':
            code = 0
            for _ in range(2):
                if i < n and template[i] in _OCTAL:
                    code = code * 8 + int(template[i])
                    i += 1
            literal.append(chr(code))
            continue
        elif c.isdigit() and c.isascii():
            digits = c
            if i < n and template[i].isdigit() and template[i].isascii():
                digits += template[i]
                i += 1
                if (i < n and template[i] in _OCTAL and digits[0] in _OCTAL
                        and digits[1] in _OCTAL):
                    value = int(digits + template[i], 8)
                    i += 1
                    if value > 0o377:
                        raise error('octal escape value \\%s outside of range 0-0o377'
                                    % (digits + template[i - 1]), template, i - 4)
                    literal.append(chr(value))
                    continue
            index = int(digits)
            if index > pattern.groups:
                raise error('invalid group reference %d' % index,
                            template, i - len(digits))
        elif c in _ESCAPES:
            literal.append(_ESCAPES[c])
            continue
        elif c.isascii() and c.isalpha():
            raise error('bad escape \\%s' % c, template, i - 2)
        else:
            literal.append('\\' + c)
            continue
        if literal:
            pieces.append(''.join(literal))
            literal = []
        pieces.append(index)
    if literal:
        pieces.append(''.join(literal))
    return pieces


def _expand(pieces, match):
    return ''.join(p if isinstance(p, str) else (match.group(p) or '')
                   for p in pieces)


_cache = {}
_MAXCACHE = 512


def _compile(pattern, flags):
    if isinstance(pattern, Pattern):
        if flags:
            raise ValueError(
                'cannot process flags argument with a compiled pattern')
        return pattern
    if not isinstance(pattern, str):
        raise TypeError('first argument must be string or compiled pattern')
    key = (pattern, int(flags))
    compiled = _cache.get(key)
    if compiled is None:
        compiled = Pattern(pattern, flags)
        if len(_cache) >= _MAXCACHE:
            _cache.clear()
        _cache[key] = compiled
    return compiled


def compile(pattern, flags=0):
    return _compile(pattern, flags)


def search(pattern, string, flags=0):
    return _compile(pattern, flags).search(string)


def match(pattern, string, flags=0):
    return _compile(pattern, flags).match(string)


def fullmatch(pattern, string, flags=0):
    return _compile(pattern, flags).fullmatch(string)


def findall(pattern, string, flags=0):
    return _compile(pattern, flags).findall(string)


def finditer(pattern, string, flags=0):
    return _compile(pattern, flags).finditer(string)


def sub(pattern, repl, string, count=0, flags=0):
    return _compile(pattern, flags).sub(repl, string, count)


def subn(pattern, repl, string, count=0, flags=0):
    return _compile(pattern, flags).subn(repl, string, count)


def split(pattern, string, maxsplit=0, flags=0):
    return _compile(pattern, flags).split(string, maxsplit)


def purge():
    _cache.clear()


_SPECIAL = {c: '\\' + c for c in '()[]{}?*+-|^$\\.&~# \t\n\r\v\f'}


def escape(pattern):
    if isinstance(pattern, str):
        return ''.join(_SPECIAL.get(c, c) for c in pattern)
    raise TypeError('expected str')
