"""CSV files: `reader`, `writer`, `DictReader`, `DictWriter`.

The parser follows CPython's `_csv` state machine for the common options
(delimiter, quotechar, doublequote, escapechar, skipinitialspace, quoting,
strict); the dialects are `excel`, `excel-tab` and `unix`.
"""

__all__ = ['QUOTE_MINIMAL', 'QUOTE_ALL', 'QUOTE_NONNUMERIC', 'QUOTE_NONE',
           'Error', 'Dialect', 'excel', 'excel_tab', 'unix_dialect', 'reader',
           'writer', 'DictReader', 'DictWriter', 'register_dialect',
           'get_dialect', 'list_dialects', 'field_size_limit']

QUOTE_MINIMAL, QUOTE_ALL, QUOTE_NONNUMERIC, QUOTE_NONE = range(4)


class Error(Exception):
    pass


class Dialect:
    delimiter = ','
    quotechar = '"'
    escapechar = None
    doublequote = True
    skipinitialspace = False
    lineterminator = '\r\n'
    quoting = QUOTE_MINIMAL
    strict = False


class excel(Dialect):
    pass


class excel_tab(excel):
    delimiter = '\t'


class unix_dialect(Dialect):
    lineterminator = '\n'
    quoting = QUOTE_ALL


_dialects = {'excel': excel, 'excel-tab': excel_tab, 'unix': unix_dialect}


def register_dialect(name, dialect=excel, **fmtparams):
    _dialects[name] = _Params(dialect, fmtparams)


def get_dialect(name):
    try:
        return _dialects[name]
    except KeyError:
        raise Error('unknown dialect') from None


def list_dialects():
    return list(_dialects)


def unregister_dialect(name):
    if _dialects.pop(name, None) is None:
        raise Error('unknown dialect')


_field_limit = 131072


def field_size_limit(*args):
    global _field_limit
    old = _field_limit
    if args:
        _field_limit = args[0]
    return old


class _Params:
    """A dialect with keyword overrides applied and checked."""

    _names = ('delimiter', 'quotechar', 'escapechar', 'doublequote',
              'skipinitialspace', 'lineterminator', 'quoting', 'strict')

    def __init__(self, dialect, fmtparams):
        if isinstance(dialect, str):
            dialect = get_dialect(dialect)
        for name in self._names:
            setattr(self, name, getattr(dialect, name))
        for name, value in fmtparams.items():
            if name not in self._names:
                raise TypeError("'%s' is an invalid keyword argument for "
                                "this function" % name)
            setattr(self, name, value)
        if not isinstance(self.delimiter, str) or len(self.delimiter) != 1:
            raise TypeError('"delimiter" must be a 1-character string')
        if self.quotechar is not None and (not isinstance(self.quotechar, str)
                                           or len(self.quotechar) != 1):
            raise TypeError('"quotechar" must be a 1-character string')
        if self.quotechar is None and self.quoting != QUOTE_NONE:
            raise TypeError('quotechar must be set if quoting enabled')


class _Reader:
    def __init__(self, f, dialect, fmtparams):
        self._lines = iter(f)
        self.dialect = _Params(dialect, fmtparams)
        self.line_num = 0

    def __iter__(self):
        return self

    def __next__(self):
        d = self.dialect
        fields = []
        field = []
        # States: start of field, in field, in quoted field, quote seen in
        # a quoted field, after an escape (in or out of quotes).
        state = 'start_record'
        while True:
            try:
                line = next(self._lines)
            except StopIteration:
                if state in ('start_record',):
                    raise
                if state == 'in_quoted' or state == 'escape_in_quoted':
                    if d.strict:
                        raise Error('unexpected end of data')
                fields.append(self._finish(field, state))
                return fields
            if not isinstance(line, str):
                raise Error('iterator should return strings, not %s (the '
                            'file should be opened in text mode)'
                            % type(line).__name__)
            self.line_num += 1
            if state == 'start_record' and line in ('\n', '\r\n', '\r', ''):
                return []
            quoted = [state in ('in_quoted', 'escape_in_quoted')]
            i = 0
            n = len(line)
            while i < n:
                c = line[i]
                i += 1
                if state in ('start_record', 'start_field'):
                    quoted[0] = False
                    if c in '\r\n':
                        if state == 'start_field':
                            fields.append('')
                        return fields if state == 'start_field' or fields else []
                    if c == d.quotechar and d.quoting != QUOTE_NONE:
                        state = 'in_quoted'
                        quoted[0] = True
                    elif c == d.escapechar:
                        state = 'escape'
                    elif c == ' ' and d.skipinitialspace:
                        state = 'start_field'
                    elif c == d.delimiter:
                        fields.append(self._convert('', False))
                        state = 'start_field'
                    else:
                        field.append(c)
                        state = 'in_field'
                elif state == 'escape':
                    field.append(c)
                    state = 'in_field'
                elif state == 'in_field':
                    if c in '\r\n':
                        fields.append(self._convert(''.join(field), False))
                        return fields
                    if c == d.escapechar:
                        state = 'escape'
                    elif c == d.delimiter:
                        fields.append(self._convert(''.join(field), False))
                        field = []
                        state = 'start_field'
                    else:
                        field.append(c)
                elif state == 'in_quoted':
                    if c == d.escapechar:
                        state = 'escape_in_quoted'
                    elif c == d.quotechar and d.quoting != QUOTE_NONE:
                        state = 'quote_in_quoted' if d.doublequote else 'in_field'
                    else:
                        field.append(c)
                elif state == 'escape_in_quoted':
                    field.append(c)
                    state = 'in_quoted'
                elif state == 'quote_in_quoted':
                    if c == d.quotechar:
                        field.append(c)
                        state = 'in_quoted'
                    elif c == d.delimiter:
                        fields.append(self._convert(''.join(field), True))
                        field = []
                        state = 'start_field'
                    elif c in '\r\n':
                        fields.append(self._convert(''.join(field), True))
                        return fields
                    elif not d.strict:
                        field.append(c)
                        state = 'in_field'
                    else:
                        raise Error("'%s' expected after '%s'"
                                    % (d.delimiter, d.quotechar))
            if state in ('in_quoted', 'escape_in_quoted'):
                continue
            # A line without its newline (the last one): the record ends.
            fields.append(self._finish(field, state))
            return fields

    def _finish(self, field, state):
        return self._convert(''.join(field), state in (
            'quote_in_quoted', 'in_quoted', 'escape_in_quoted'))

    def _convert(self, text, quoted):
        if len(text) > _field_limit:
            raise Error('field larger than field limit (%d)' % _field_limit)
        if self.dialect.quoting == QUOTE_NONNUMERIC and not quoted and text:
            return float(text)
        return text


def reader(csvfile, dialect='excel', **fmtparams):
    return _Reader(csvfile, dialect, fmtparams)


class _Writer:
    def __init__(self, f, dialect, fmtparams):
        self._file = f
        self.dialect = _Params(dialect, fmtparams)

    def _field(self, value):
        d = self.dialect
        if value is None:
            text = ''
        elif isinstance(value, float):
            text = repr(value)
        else:
            text = str(value)
        quote = d.quoting == QUOTE_ALL or (
            d.quoting == QUOTE_NONNUMERIC
            and not isinstance(value, (int, float)))
        special = (d.delimiter, '\n', '\r') + (
            (d.quotechar,) if d.quotechar else ())
        special += tuple(d.lineterminator)
        needs = any(ch in text for ch in special) or (
            text[:1] == ' ' and d.skipinitialspace)
        if d.quoting == QUOTE_NONE:
            if needs:
                if d.escapechar is None:
                    raise Error('need to escape, but no escapechar set')
                for ch in set(special) | {d.escapechar}:
                    if ch:
                        text = text.replace(ch, d.escapechar + ch)
            return text
        if needs:
            quote = True
        if d.quotechar and d.quotechar in text:
            if d.doublequote:
                text = text.replace(d.quotechar, d.quotechar * 2)
            elif d.escapechar:
                text = text.replace(d.quotechar, d.escapechar + d.quotechar)
            else:
                raise Error('need to escape, but no escapechar set')
        return d.quotechar + text + d.quotechar if quote else text

    def writerow(self, row):
        try:
            values = list(row)
        except TypeError:
            raise Error('iterable expected, not %s'
                        % type(row).__name__) from None
        fields = [self._field(v) for v in values]
        if len(fields) == 1 and fields[0] == '':
            if self.dialect.quoting == QUOTE_NONE:
                raise Error('single empty field record must be quoted')
            fields = [self.dialect.quotechar * 2]
        return self._file.write(self.dialect.delimiter.join(fields)
                                + self.dialect.lineterminator)

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)


def writer(csvfile, dialect='excel', **fmtparams):
    return _Writer(csvfile, dialect, fmtparams)


class DictReader:
    def __init__(self, f, fieldnames=None, restkey=None, restval=None,
                 dialect='excel', *args, **kwds):
        self._fieldnames = fieldnames
        self.restkey = restkey
        self.restval = restval
        self.reader = reader(f, dialect, *args, **kwds)
        self.dialect = dialect
        self.line_num = 0

    def __iter__(self):
        return self

    @property
    def fieldnames(self):
        if self._fieldnames is None:
            try:
                self._fieldnames = next(self.reader)
            except StopIteration:
                pass
        self.line_num = self.reader.line_num
        return self._fieldnames

    @fieldnames.setter
    def fieldnames(self, value):
        self._fieldnames = value

    def __next__(self):
        if self.line_num == 0:
            self.fieldnames
        row = next(self.reader)
        self.line_num = self.reader.line_num
        while row == []:
            row = next(self.reader)
        d = dict(zip(self.fieldnames, row))
        lf = len(self.fieldnames)
        lr = len(row)
        if lf < lr:
            d[self.restkey] = row[lf:]
        elif lf > lr:
            for key in self.fieldnames[lr:]:
                d[key] = self.restval
        return d


class DictWriter:
    def __init__(self, f, fieldnames, restval='', extrasaction='raise',
                 dialect='excel', *args, **kwds):
        if extrasaction.lower() not in ('raise', 'ignore'):
            raise ValueError("extrasaction (%s) must be 'raise' or 'ignore'"
                             % extrasaction)
        self.fieldnames = fieldnames
        self.restval = restval
        self.extrasaction = extrasaction.lower()
        self.writer = writer(f, dialect, *args, **kwds)

    def writeheader(self):
        return self.writer.writerow(dict(zip(self.fieldnames,
                                             self.fieldnames)).values())

    def _dict_to_list(self, rowdict):
        if self.extrasaction == 'raise':
            wrong = rowdict.keys() - self.fieldnames
            if wrong:
                raise ValueError('dict contains fields not in fieldnames: '
                                 + ', '.join([repr(x) for x in wrong]))
        return (rowdict.get(key, self.restval) for key in self.fieldnames)

    def writerow(self, rowdict):
        return self.writer.writerow(self._dict_to_list(rowdict))

    def writerows(self, rowdicts):
        return self.writer.writerows(map(self._dict_to_list, rowdicts))
