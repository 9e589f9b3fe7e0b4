"""Dates and times: `date`, `time`, `datetime` and `timedelta`.

Naive values only: there is no `tzinfo` support (`tzinfo` must be None),
and `strftime` formats in the C locale.
"""

import time as _time
from operator import index as _index

__all__ = ('date', 'datetime', 'time', 'timedelta', 'MINYEAR', 'MAXYEAR')

MINYEAR = 1
MAXYEAR = 9999

_DAYS_IN_MONTH = [-1, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
_DAYS_BEFORE_MONTH = [-1]
_n = 0
for _d in _DAYS_IN_MONTH[1:]:
    _DAYS_BEFORE_MONTH.append(_n)
    _n += _d
del _n, _d

_MONTHNAMES = [None, 'January', 'February', 'March', 'April', 'May', 'June',
               'July', 'August', 'September', 'October', 'November',
               'December']
_DAYNAMES = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday',
             'Saturday', 'Sunday']
_US_PER_DAY = 86400 * 1000000


def _is_leap(year):
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _days_in_month(year, month):
    if month == 2 and _is_leap(year):
        return 29
    return _DAYS_IN_MONTH[month]


def _days_before_year(year):
    y = year - 1
    return y * 365 + y // 4 - y // 100 + y // 400


def _ymd2ord(year, month, day):
    return (_days_before_year(year) + _DAYS_BEFORE_MONTH[month]
            + (month > 2 and _is_leap(year)) + day)


def _ord2ymd(n):
    # Count whole 400-, 100-, 4- and 1-year cycles, as CPython does.
    n -= 1
    n400, n = divmod(n, 146097)
    year = n400 * 400 + 1
    n100, n = divmod(n, 36524)
    n4, n = divmod(n, 1461)
    n1, n = divmod(n, 365)
    year += n100 * 100 + n4 * 4 + n1
    if n1 == 4 or n100 == 4:
        return year - 1, 12, 31
    leap = n1 == 3 and (n4 != 24 or n100 == 3)
    month = (n + 50) >> 5
    preceding = _DAYS_BEFORE_MONTH[month] + (month > 2 and leap)
    if preceding > n:
        month -= 1
        preceding -= _DAYS_IN_MONTH[month] + (month == 2 and leap)
    return year, month, n - preceding + 1


def _check_date(year, month, day):
    year, month, day = _index(year), _index(month), _index(day)
    if not MINYEAR <= year <= MAXYEAR:
        raise ValueError('year %d is out of range' % year)
    if not 1 <= month <= 12:
        raise ValueError('month must be in 1..12')
    if not 1 <= day <= _days_in_month(year, month):
        raise ValueError('day is out of range for month')
    return year, month, day


def _check_time(hour, minute, second, microsecond):
    hour, minute = _index(hour), _index(minute)
    second, microsecond = _index(second), _index(microsecond)
    if not 0 <= hour <= 23:
        raise ValueError('hour must be in 0..23')
    if not 0 <= minute <= 59:
        raise ValueError('minute must be in 0..59')
    if not 0 <= second <= 59:
        raise ValueError('second must be in 0..59')
    if not 0 <= microsecond <= 999999:
        raise ValueError('microsecond must be in 0..999999')
    return hour, minute, second, microsecond


def _check_tzinfo(tzinfo):
    if tzinfo is not None:
        raise NotImplementedError('time zones are not supported')


def _divide_and_round(a, b):
    """a / b rounded half to even, in integers."""
    q, r = divmod(a, b)
    r *= 2
    greater = r > b if b > 0 else r < b
    if greater or r == b and q % 2 == 1:
        q += 1
    return q


def _cmp(x, y):
    return 0 if x == y else 1 if x > y else -1


# ---------------------------------------------------------------------------
# strftime / strptime in the C locale.

def _format(fmt, year, month, day, hour, minute, second, microsecond):
    weekday = (_ymd2ord(year, month, day) + 6) % 7
    yday = _ymd2ord(year, month, day) - _days_before_year(year)
    out = []
    i = 0
    n = len(fmt)
    while i < n:
        c = fmt[i]
        i += 1
        if c != '%' or i >= n:
            out.append(c)
            continue
        c = fmt[i]
        i += 1
        if c == 'Y':
            out.append(str(year))
        elif c == 'y':
            out.append('%02d' % (year % 100))
        elif c == 'm':
            out.append('%02d' % month)
        elif c == 'd':
            out.append('%02d' % day)
        elif c == 'e':
            out.append('%2d' % day)
        elif c == 'H':
            out.append('%02d' % hour)
        elif c == 'I':
            out.append('%02d' % (hour % 12 or 12))
        elif c == 'M':
            out.append('%02d' % minute)
        elif c == 'S':
            out.append('%02d' % second)
        elif c == 'f':
            out.append('%06d' % microsecond)
        elif c == 'p':
            out.append('AM' if hour < 12 else 'PM')
        elif c == 'A':
            out.append(_DAYNAMES[weekday])
        elif c == 'a':
            out.append(_DAYNAMES[weekday][:3])
        elif c == 'B':
            out.append(_MONTHNAMES[month])
        elif c in 'bh':
            out.append(_MONTHNAMES[month][:3])
        elif c == 'j':
            out.append('%03d' % yday)
        elif c == 'w':
            out.append(str((weekday + 1) % 7))
        elif c == 'u':
            out.append(str(weekday + 1))
        elif c == 'U':
            out.append('%02d' % ((yday + 6 - (weekday + 1) % 7) // 7))
        elif c == 'W':
            out.append('%02d' % ((yday + 6 - weekday) // 7))
        elif c == 'c':
            out.append('%s %s %2d %02d:%02d:%02d %d' % (
                _DAYNAMES[weekday][:3], _MONTHNAMES[month][:3], day,
                hour, minute, second, year))
        elif c == 'x':
            out.append('%02d/%02d/%02d' % (month, day, year % 100))
        elif c == 'X':
            out.append('%02d:%02d:%02d' % (hour, minute, second))
        elif c == 'D':
            out.append('%02d/%02d/%02d' % (month, day, year % 100))
        elif c == 'F':
            out.append('%d-%02d-%02d' % (year, month, day))
        elif c == 'T':
            out.append('%02d:%02d:%02d' % (hour, minute, second))
        elif c == 'R':
            out.append('%02d:%02d' % (hour, minute))
        elif c in 'zZ':
            pass
        elif c == '%':
            out.append('%')
        elif c == 'n':
            out.append('\n')
        elif c == 't':
            out.append('\t')
        else:
            out.append('%' + c)
    return ''.join(out)


# What strptime accepts for each two-digit field.
_RANGES = {'m': (1, 12), 'd': (1, 31), 'H': (0, 23), 'M': (0, 59),
           'S': (0, 61), 'I': (1, 12)}


def _parse(string, fmt):
    """strptime: the fields (year, month, day, hour, minute, second, us)."""
    fields = {'Y': 1900, 'm': 1, 'd': 1, 'H': 0, 'M': 0, 'S': 0, 'f': 0}
    pm = None
    pos = 0
    i = 0

    def fail():
        raise ValueError("time data %r does not match format %r"
                         % (string, fmt))

    def number(maxlen):
        nonlocal pos
        end = pos
        while end < len(string) and end - pos < maxlen and string[end].isdigit():
            end += 1
        if end == pos:
            fail()
        text = string[pos:end]
        pos = end
        return text

    def name(names):
        nonlocal pos
        for k, full in sorted(enumerate(names), key=lambda p: -len(p[1])):
            for cand in (full, full[:3]):
                if string[pos:pos + len(cand)].lower() == cand.lower():
                    pos += len(cand)
                    return k
        fail()

    while i < len(fmt):
        c = fmt[i]
        i += 1
        if c == '%' and i < len(fmt):
            d = fmt[i]
            i += 1
            if d == 'Y':
                fields['Y'] = int(number(4))
            elif d == 'y':
                y = int(number(2))
                fields['Y'] = y + (2000 if y < 69 else 1900)
            elif d in 'mdHMSI':
                value = int(number(2))
                lo, hi = _RANGES[d]
                if not lo <= value <= hi:
                    fail()
                fields['H' if d == 'I' else d] = value
            elif d == 'f':
                text = number(6)
                fields['f'] = int(text + '0' * (6 - len(text)))
            elif d == 'p':
                k = name(['AM', 'PM'])
                pm = k == 1
            elif d in 'bBh':
                fields['m'] = name(_MONTHNAMES[1:]) + 1
            elif d in 'aA':
                name(_DAYNAMES)
            elif d == 'j':
                fields['j'] = int(number(3))
            elif d == '%':
                if string[pos:pos + 1] != '%':
                    fail()
                pos += 1
            else:
                raise ValueError("'%s' is a bad directive in format '%s'"
                                 % (d, '%' + d))
        elif c.isspace():
            while pos < len(string) and string[pos].isspace():
                pos += 1
        else:
            if string[pos:pos + 1] != c:
                fail()
            pos += 1
    if pos != len(string):
        raise ValueError('unconverted data remains: %s' % string[pos:])
    hour = fields['H']
    if pm is not None:
        hour = hour % 12 + (12 if pm else 0)
    year, month, day = fields['Y'], fields['m'], fields['d']
    if 'j' in fields:
        year, month, day = _ord2ymd(_days_before_year(year) + fields['j'])
    return year, month, day, hour, fields['M'], fields['S'], fields['f']


def _time_strptime(data_string, format='%a %b %d %H:%M:%S %Y'):
    """`time.strptime`: the fields as a struct_time."""
    # CPython's _strptime counts from 0 and shows the class itself.
    for n, value in enumerate((data_string, format)):
        if not isinstance(value, str):
            raise TypeError('strptime() argument %d must be str, not %s'
                            % (n, type(value)))
    y, m, d, hh, mm, ss, _ = _parse(data_string, format)
    n = _ymd2ord(y, m, d)
    return _time.struct_time((y, m, d, hh, mm, ss, (n + 6) % 7,
                              n - _days_before_year(y), -1))


# ---------------------------------------------------------------------------

class _field:
    """A read-only field stored in the slot `_name`, with the message of
    CPython's getset descriptors."""

    __slots__ = ('name', 'owner')

    def __set_name__(self, owner, name):
        self.name = name
        self.owner = owner.__name__

    def __get__(self, obj, cls=None):
        if obj is None:
            return self
        return getattr(obj, '_' + self.name)

    def __set__(self, obj, value):
        raise AttributeError("attribute '%s' of 'datetime.%s' objects is not "
                             "writable" % (self.name, self.owner))

    def __delete__(self, obj):
        self.__set__(obj, None)


def _ordered(cls):
    """Give ``cls`` the four orderings: by ``_key()`` against what its
    ``_comparable`` accepts, else ``_incomparable``'s answer
    (NotImplemented unless the class says otherwise)."""

    def __lt__(self, other):
        if self._comparable(other):
            return self._key() < other._key()
        return self._incomparable(other, '<')

    def __le__(self, other):
        if self._comparable(other):
            return self._key() <= other._key()
        return self._incomparable(other, '<=')

    def __gt__(self, other):
        if self._comparable(other):
            return self._key() > other._key()
        return self._incomparable(other, '>')

    def __ge__(self, other):
        if self._comparable(other):
            return self._key() >= other._key()
        return self._incomparable(other, '>=')

    def _incomparable(self, other, op):
        return NotImplemented

    for f in (__lt__, __le__, __gt__, __ge__):
        f.__qualname__ = cls.__qualname__ + '.' + f.__name__
        setattr(cls, f.__name__, f)
    if '_incomparable' not in cls.__dict__:
        cls._incomparable = _incomparable
    return cls


@_ordered
class timedelta:
    """A duration: days, seconds and microseconds, normalised."""

    __slots__ = ('_days', '_seconds', '_microseconds', '_hashcode')

    def __new__(cls, days=0, seconds=0, microseconds=0, milliseconds=0,
                minutes=0, hours=0, weeks=0):
        parts = (days * 86400 * 1000000, seconds * 1000000, microseconds,
                 milliseconds * 1000, minutes * 60 * 1000000,
                 hours * 3600 * 1000000, weeks * 7 * 86400 * 1000000)
        if all(isinstance(p, int) for p in parts):
            total = sum(parts)
        else:
            total = 0
            for p in parts:
                if isinstance(p, float):
                    a, b = p.as_integer_ratio()
                    total += _divide_and_round(a, b) if b != 1 else a
                else:
                    total += _index(p)
        return cls._from_us(total)

    @classmethod
    def _from_us(cls, total):
        days, rest = divmod(total, _US_PER_DAY)
        seconds, us = divmod(rest, 1000000)
        if abs(days) > 999999999:
            raise OverflowError('days=%d; must have magnitude <= 999999999'
                                % days)
        self = object.__new__(cls)
        self._days = days
        self._seconds = seconds
        self._microseconds = us
        self._hashcode = -1
        return self

    def _us(self):
        return (self._days * 86400 + self._seconds) * 1000000 + self._microseconds

    days = _field()
    seconds = _field()
    microseconds = _field()

    def total_seconds(self):
        return self._us() / 10 ** 6

    def __repr__(self):
        args = []
        if self._days:
            args.append('days=%d' % self._days)
        if self._seconds:
            args.append('seconds=%d' % self._seconds)
        if self._microseconds:
            args.append('microseconds=%d' % self._microseconds)
        return '%s(%s)' % (_name(self), ', '.join(args) or '0')

    def __str__(self):
        mm, ss = divmod(self._seconds, 60)
        hh, mm = divmod(mm, 60)
        s = '%d:%02d:%02d' % (hh, mm, ss)
        if self._days:
            plural = 's' if abs(self._days) != 1 else ''
            s = '%d day%s, ' % (self._days, plural) + s
        if self._microseconds:
            s += '.%06d' % self._microseconds
        return s

    def __add__(self, other):
        if isinstance(other, timedelta):
            return timedelta._from_us(self._us() + other._us())
        return NotImplemented

    __radd__ = __add__

    def __sub__(self, other):
        if isinstance(other, timedelta):
            return timedelta._from_us(self._us() - other._us())
        return NotImplemented

    def __rsub__(self, other):
        if isinstance(other, timedelta):
            return -self + other
        return NotImplemented

    def __neg__(self):
        return timedelta._from_us(-self._us())

    def __pos__(self):
        return self

    def __abs__(self):
        return -self if self._days < 0 else self

    def __mul__(self, other):
        if isinstance(other, int):
            return timedelta._from_us(self._us() * other)
        if isinstance(other, float):
            a, b = other.as_integer_ratio()
            return timedelta._from_us(_divide_and_round(self._us() * a, b))
        return NotImplemented

    __rmul__ = __mul__

    def __floordiv__(self, other):
        if isinstance(other, timedelta):
            return self._us() // other._us()
        if isinstance(other, int):
            return timedelta._from_us(self._us() // other)
        return NotImplemented

    def __truediv__(self, other):
        if isinstance(other, timedelta):
            return self._us() / other._us()
        if isinstance(other, int):
            return timedelta._from_us(_divide_and_round(self._us(), other))
        if isinstance(other, float):
            a, b = other.as_integer_ratio()
            return timedelta._from_us(_divide_and_round(b * self._us(), a))
        return NotImplemented

    def __mod__(self, other):
        if isinstance(other, timedelta):
            return timedelta._from_us(self._us() % other._us())
        return NotImplemented

    def __divmod__(self, other):
        if isinstance(other, timedelta):
            q, r = divmod(self._us(), other._us())
            return q, timedelta._from_us(r)
        return NotImplemented

    def __eq__(self, other):
        if isinstance(other, timedelta):
            return self._us() == other._us()
        return NotImplemented

    def _key(self):
        return self._us()

    def _comparable(self, other):
        return isinstance(other, timedelta)

    def __hash__(self):
        return hash((self._days, self._seconds, self._microseconds))

    def __bool__(self):
        return self._us() != 0


def _name(obj):
    """The class name reprs and messages use: CPython's type name, which
    carries the module for the built-in classes only."""
    cls = type(obj)
    if cls.__module__ == 'datetime':
        return 'datetime.' + cls.__qualname__
    return cls.__name__


class IsoCalendarDate(tuple):
    def __new__(cls, year, week, weekday):
        return super().__new__(cls, (year, week, weekday))

    year = property(lambda self: self[0])
    week = property(lambda self: self[1])
    weekday = property(lambda self: self[2])

    def __repr__(self):
        return ('datetime.IsoCalendarDate(year=%d, week=%d, weekday=%d)'
                % tuple(self))


def _iso_week1_monday(year):
    first = _ymd2ord(year, 1, 1)
    weekday = (first + 6) % 7
    monday = first - weekday
    if weekday > 3:
        monday += 7
    return monday


@_ordered
class date:
    """A calendar date (proleptic Gregorian)."""

    __slots__ = ('_year', '_month', '_day', '_hashcode')

    def __new__(cls, year, month, day):
        self = object.__new__(cls)
        self._year, self._month, self._day = _check_date(year, month, day)
        self._hashcode = -1
        return self

    year = _field()
    month = _field()
    day = _field()

    @classmethod
    def today(cls):
        return cls.fromtimestamp(_time.time())

    @classmethod
    def fromtimestamp(cls, t):
        y, m, d = _time.localtime(t)[:3]
        return cls(y, m, d)

    @classmethod
    def fromordinal(cls, n):
        return cls(*_ord2ymd(n))

    @classmethod
    def fromisoformat(cls, s):
        if not isinstance(s, str):
            raise TypeError('fromisoformat: argument must be str')
        try:
            if len(s) == 10 and s[4] == '-' and s[7] == '-':
                return cls(int(s[:4]), int(s[5:7]), int(s[8:]))
            if len(s) == 8 and s.isdigit():
                return cls(int(s[:4]), int(s[4:6]), int(s[6:]))
        except ValueError:
            pass
        raise ValueError('Invalid isoformat string: %r' % s)

    @classmethod
    def fromisocalendar(cls, year, week, day):
        return cls.fromordinal(_iso_week1_monday(year) + (week - 1) * 7 + day - 1)

    def toordinal(self):
        return _ymd2ord(self._year, self._month, self._day)

    def weekday(self):
        return (self.toordinal() + 6) % 7

    def isoweekday(self):
        return self.weekday() + 1

    def isocalendar(self):
        year = self._year
        monday = _iso_week1_monday(year)
        today = self.toordinal()
        week, day = divmod(today - monday, 7)
        if week < 0:
            year -= 1
            monday = _iso_week1_monday(year)
            week, day = divmod(today - monday, 7)
        elif week >= 52 and today >= _iso_week1_monday(year + 1):
            year += 1
            week = 0
        return IsoCalendarDate(year, week + 1, day + 1)

    def replace(self, year=None, month=None, day=None):
        return type(self)(self._year if year is None else year,
                          self._month if month is None else month,
                          self._day if day is None else day)

    def timetuple(self):
        return _time.struct_time((self._year, self._month, self._day, 0, 0, 0,
                                  self.weekday(),
                                  self.toordinal() - _days_before_year(self._year),
                                  -1))

    def isoformat(self):
        return '%04d-%02d-%02d' % (self._year, self._month, self._day)

    __str__ = isoformat

    def __repr__(self):
        return '%s(%d, %d, %d)' % (_name(self), self._year, self._month,
                                   self._day)

    def ctime(self):
        return _format('%c', self._year, self._month, self._day, 0, 0, 0, 0)

    def strftime(self, fmt):
        return _format(fmt, self._year, self._month, self._day, 0, 0, 0, 0)

    def __format__(self, spec):
        if not isinstance(spec, str):
            raise TypeError('must be str, not %s' % type(spec).__name__)
        return self.strftime(spec) if spec else str(self)

    def _key(self):
        return (self._year, self._month, self._day)

    def __eq__(self, other):
        if isinstance(other, date) and not isinstance(other, datetime):
            return self._key() == other._key()
        return NotImplemented

    def _comparable(self, other):
        return (isinstance(other, date) and not isinstance(other, datetime)
                and not isinstance(self, datetime))


    def __hash__(self):
        return hash(self._key())

    def __add__(self, other):
        if isinstance(other, timedelta):
            n = self.toordinal() + other.days
            if 0 < n <= 3652059:
                return type(self).fromordinal(n)
            raise OverflowError('result out of range')
        return NotImplemented

    __radd__ = __add__

    def __sub__(self, other):
        if isinstance(other, timedelta):
            return self + timedelta(-other.days)
        if isinstance(other, date) and not isinstance(other, datetime):
            return timedelta(self.toordinal() - other.toordinal())
        return NotImplemented


date.min = date(1, 1, 1)
date.max = date(9999, 12, 31)
date.resolution = timedelta(days=1)


@_ordered
class time:
    """A time of day (naive)."""

    __slots__ = ('_hour', '_minute', '_second', '_microsecond', '_hashcode')

    def __new__(cls, hour=0, minute=0, second=0, microsecond=0, tzinfo=None):
        _check_tzinfo(tzinfo)
        self = object.__new__(cls)
        (self._hour, self._minute, self._second,
         self._microsecond) = _check_time(hour, minute, second, microsecond)
        self._hashcode = -1
        return self

    hour = _field()
    minute = _field()
    second = _field()
    microsecond = _field()
    tzinfo = property(lambda self: None)

    def _key(self):
        return (self._hour, self._minute, self._second, self._microsecond)

    def isoformat(self, timespec='auto'):
        return _format_time(*self._key(), timespec)

    __str__ = isoformat

    def __repr__(self):
        args = '%d, %d' % (self._hour, self._minute)
        if self._second or self._microsecond:
            args += ', %d' % self._second
        if self._microsecond:
            args += ', %d' % self._microsecond
        return '%s(%s)' % (_name(self), args)

    def strftime(self, fmt):
        return _format(fmt, 1900, 1, 1, *self._key())

    def __format__(self, spec):
        return self.strftime(spec) if spec else str(self)

    def replace(self, hour=None, minute=None, second=None, microsecond=None):
        h, m, s, us = self._key()
        return type(self)(h if hour is None else hour,
                          m if minute is None else minute,
                          s if second is None else second,
                          us if microsecond is None else microsecond)

    @classmethod
    def fromisoformat(cls, s):
        try:
            return cls(*_parse_iso_time(s))
        except (ValueError, IndexError):
            raise ValueError('Invalid isoformat string: %r' % s) from None

    def __eq__(self, other):
        if isinstance(other, time):
            return self._key() == other._key()
        return NotImplemented

    def _comparable(self, other):
        return isinstance(other, time)

    def __hash__(self):
        return hash(self._key())

    def __bool__(self):
        return True


time.min = time(0, 0, 0)
time.max = time(23, 59, 59, 999999)
time.resolution = timedelta(microseconds=1)


def _format_time(hh, mm, ss, us, timespec='auto'):
    if timespec == 'auto':
        timespec = 'microseconds' if us else 'seconds'
    if timespec == 'hours':
        return '%02d' % hh
    if timespec == 'minutes':
        return '%02d:%02d' % (hh, mm)
    if timespec == 'seconds':
        return '%02d:%02d:%02d' % (hh, mm, ss)
    if timespec == 'milliseconds':
        return '%02d:%02d:%02d.%03d' % (hh, mm, ss, us // 1000)
    if timespec == 'microseconds':
        return '%02d:%02d:%02d.%06d' % (hh, mm, ss, us)
    raise ValueError('Unknown timespec value')


def _parse_iso_time(s):
    parts = s.split(':')
    hh = int(parts[0])
    mm = int(parts[1]) if len(parts) > 1 else 0
    ss, us = 0, 0
    if len(parts) > 2:
        sec = parts[2]
        if '.' in sec or ',' in sec:
            sec, frac = sec.replace(',', '.').split('.')
            us = int((frac + '000000')[:6])
        ss = int(sec)
    if len(parts) > 3:
        raise ValueError
    return hh, mm, ss, us


@_ordered
class datetime(date):
    """A date with a time of day (naive)."""

    __slots__ = ('_hour', '_minute', '_second', '_microsecond')

    def __new__(cls, year, month, day, hour=0, minute=0, second=0,
                microsecond=0, tzinfo=None):
        _check_tzinfo(tzinfo)
        self = object.__new__(cls)
        self._year, self._month, self._day = _check_date(year, month, day)
        (self._hour, self._minute, self._second,
         self._microsecond) = _check_time(hour, minute, second, microsecond)
        self._hashcode = -1
        return self

    hour = _field()
    minute = _field()
    second = _field()
    microsecond = _field()
    tzinfo = property(lambda self: None)

    @classmethod
    def fromtimestamp(cls, t, tz=None):
        _check_tzinfo(tz)
        frac, whole = _modf(t)
        us = round(frac * 1e6)
        if us >= 1000000:
            whole += 1
            us -= 1000000
        elif us < 0:
            whole -= 1
            us += 1000000
        y, m, d, hh, mm, ss = _time.localtime(whole)[:6]
        return cls(y, m, d, hh, mm, min(ss, 59), us)

    @classmethod
    def now(cls, tz=None):
        return cls.fromtimestamp(_time.time(), tz)

    @classmethod
    def today(cls):
        return cls.now()

    @classmethod
    def combine(cls, date, time):
        return cls(date.year, date.month, date.day, time.hour, time.minute,
                   time.second, time.microsecond)

    @classmethod
    def fromisoformat(cls, s):
        if not isinstance(s, str):
            raise TypeError('fromisoformat: argument must be str')
        try:
            d = date.fromisoformat(s[:10])
            if len(s) == 10:
                return cls(d.year, d.month, d.day)
            return cls(d.year, d.month, d.day, *_parse_iso_time(s[11:]))
        except (ValueError, IndexError):
            raise ValueError('Invalid isoformat string: %r' % s) from None

    @classmethod
    def strptime(cls, date_string, format):
        return cls(*_parse(date_string, format))

    def date(self):
        return date(self._year, self._month, self._day)

    def time(self):
        return time(self._hour, self._minute, self._second, self._microsecond)

    def _key(self):
        return (self._year, self._month, self._day, self._hour, self._minute,
                self._second, self._microsecond)

    def replace(self, year=None, month=None, day=None, hour=None, minute=None,
                second=None, microsecond=None):
        new = [year, month, day, hour, minute, second, microsecond]
        return type(self)(*[o if n is None else n
                            for o, n in zip(self._key(), new)])

    def timetuple(self):
        return _time.struct_time(self._key()[:6] + (
            self.weekday(), self.toordinal() - _days_before_year(self._year),
            -1))

    def timestamp(self):
        return _time.mktime(self.timetuple()) + self._microsecond / 1e6

    def isoformat(self, sep='T', timespec='auto'):
        return ('%04d-%02d-%02d%s' % (self._year, self._month, self._day, sep)
                + _format_time(self._hour, self._minute, self._second,
                               self._microsecond, timespec))

    def __str__(self):
        return self.isoformat(sep=' ')

    def __repr__(self):
        parts = list(self._key())
        while len(parts) > 5 and parts[-1] == 0:
            parts.pop()
        return '%s(%s)' % (_name(self), ', '.join(map(str, parts)))

    def ctime(self):
        return _format('%c', *self._key())

    def strftime(self, fmt):
        return _format(fmt, *self._key())

    def _total_us(self):
        return ((self.toordinal() * 86400 + self._hour * 3600
                 + self._minute * 60 + self._second) * 1000000
                + self._microsecond)

    def __eq__(self, other):
        if isinstance(other, datetime):
            return self._key() == other._key()
        if isinstance(other, date):
            return False
        return NotImplemented

    def _comparable(self, other):
        return isinstance(other, datetime)

    def _incomparable(self, other, op):
        return _compare_error(self, other, op)

    def __hash__(self):
        return hash(self._key())

    def __add__(self, other):
        if not isinstance(other, timedelta):
            return NotImplemented
        total = self._total_us() + other._us()
        days, rest = divmod(total, _US_PER_DAY)
        if not 0 < days <= 3652059:
            raise OverflowError('date value out of range')
        secs, us = divmod(rest, 1000000)
        hh, rest = divmod(secs, 3600)
        mm, ss = divmod(rest, 60)
        y, m, d = _ord2ymd(days)
        return type(self)(y, m, d, hh, mm, ss, us)

    __radd__ = __add__

    def __sub__(self, other):
        if isinstance(other, timedelta):
            return self + -other
        if isinstance(other, datetime):
            return timedelta._from_us(self._total_us() - other._total_us())
        return NotImplemented


def _compare_error(a, b, op):
    if isinstance(b, date):
        raise TypeError("can't compare %s to %s" % (_name(a), _name(b)))
    return NotImplemented


def _modf(t):
    whole = int(t // 1)
    return t - whole, whole


datetime.min = datetime(1, 1, 1)
datetime.max = datetime(9999, 12, 31, 23, 59, 59, 999999)
datetime.resolution = timedelta(microseconds=1)
timedelta.min = timedelta(-999999999)
timedelta.max = timedelta(days=999999999, hours=23, minutes=59, seconds=59,
                          microseconds=999999)
timedelta.resolution = timedelta(microseconds=1)
