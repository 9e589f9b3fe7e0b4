"""A compact logging module: loggers with levels, StreamHandler and
FileHandler, Formatter with CPython's %-style record attributes
(threadName, levelname, asctime...), basicConfig and the module-level
shortcuts. Each handler holds a lock so records from threads never mix."""

import os
import sys
import threading
import time
from traceback import _caller_info

__all__ = ['CRITICAL', 'DEBUG', 'ERROR', 'FATAL', 'INFO', 'NOTSET', 'WARN',
           'WARNING', 'Formatter', 'Handler', 'Logger', 'LogRecord',
           'StreamHandler', 'FileHandler', 'basicConfig', 'critical',
           'debug', 'error', 'exception', 'fatal', 'getLogger', 'info',
           'log', 'warning', 'warn', 'getLevelName', 'disable']

CRITICAL = 50
FATAL = CRITICAL
ERROR = 40
WARNING = 30
WARN = WARNING
INFO = 20
DEBUG = 10
NOTSET = 0

_levelToName = {CRITICAL: 'CRITICAL', ERROR: 'ERROR', WARNING: 'WARNING',
                INFO: 'INFO', DEBUG: 'DEBUG', NOTSET: 'NOTSET'}
_nameToLevel = {'CRITICAL': CRITICAL, 'FATAL': FATAL, 'ERROR': ERROR,
                'WARN': WARNING, 'WARNING': WARNING, 'INFO': INFO,
                'DEBUG': DEBUG, 'NOTSET': NOTSET}
_start_time = time.time()
_lock = threading.RLock()
_disable = 0

BASIC_FORMAT = "%(levelname)s:%(name)s:%(message)s"


def getLevelName(level):
    result = _levelToName.get(level)
    if result is not None:
        return result
    result = _nameToLevel.get(level)
    if result is not None:
        return result
    return "Level %s" % level


def _check_level(level):
    if isinstance(level, int):
        return level
    if str(level) == level:
        if level not in _nameToLevel:
            raise ValueError("Unknown level: %r" % level)
        return _nameToLevel[level]
    raise TypeError("Level not an integer or a valid string: %r" % (level,))


class LogRecord:
    def __init__(self, name, level, pathname, lineno, msg, args, exc_info,
                 func=None, sinfo=None, **kwargs):
        now = time.time()
        self.name = name
        self.msg = msg
        if (args and len(args) == 1 and isinstance(args[0], dict)
                and args[0]):
            args = args[0]
        self.args = args
        self.levelno = level
        self.levelname = getLevelName(level)
        self.exc_info = exc_info
        self.exc_text = None
        self.created = now
        self.msecs = int((now - int(now)) * 1000)
        self.relativeCreated = (now - _start_time) * 1000
        current = threading.current_thread()
        self.thread = threading.get_ident()
        self.threadName = current.name
        self.process = os.getpid()
        self.processName = 'MainProcess'
        self.pathname = pathname
        self.filename = os.path.basename(pathname)
        self.module = os.path.splitext(self.filename)[0]
        self.funcName = func
        self.lineno = lineno
        self.stack_info = sinfo

    def getMessage(self):
        msg = str(self.msg)
        if self.args:
            msg = msg % self.args
        return msg


class Formatter:
    default_time_format = '%Y-%m-%d %H:%M:%S'
    default_msec_format = '%s,%03d'

    def __init__(self, fmt=None, datefmt=None, style='%'):
        self._fmt = fmt or '%(message)s'
        self.datefmt = datefmt

    def formatTime(self, record, datefmt=None):
        ct = time.localtime(record.created)
        if datefmt:
            return time.strftime(datefmt, ct)
        s = time.strftime(self.default_time_format, ct)
        return self.default_msec_format % (s, record.msecs)

    def formatException(self, exc_info):
        import traceback
        return ''.join(traceback.format_exception(*exc_info)).rstrip('\n')

    def usesTime(self):
        return '%(asctime)' in self._fmt

    def format(self, record):
        record.message = record.getMessage()
        if self.usesTime():
            record.asctime = self.formatTime(record, self.datefmt)
        s = self._fmt % record.__dict__
        if record.exc_info:
            if not record.exc_text:
                record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            s = s + '\n' + record.exc_text
        return s


_defaultFormatter = Formatter()


class Handler:
    def __init__(self, level=NOTSET):
        self.level = _check_level(level)
        self.formatter = None
        self.lock = threading.RLock()

    def setLevel(self, level):
        self.level = _check_level(level)

    def setFormatter(self, fmt):
        self.formatter = fmt

    def format(self, record):
        return (self.formatter or _defaultFormatter).format(record)

    def handle(self, record):
        if record.levelno >= self.level:
            with self.lock:
                self.emit(record)

    def emit(self, record):
        raise NotImplementedError('emit must be implemented '
                                  'by Handler subclasses')

    def flush(self):
        pass

    def close(self):
        pass


class StreamHandler(Handler):
    terminator = '\n'

    def __init__(self, stream=None):
        super().__init__()
        self._stream = stream

    @property
    def stream(self):
        # sys.stderr looked up late, as CPython's lastResort does.
        return sys.stderr if self._stream is None else self._stream

    def emit(self, record):
        self.stream.write(self.format(record) + self.terminator)
        self.flush()

    def flush(self):
        if hasattr(self.stream, 'flush'):
            self.stream.flush()


class FileHandler(StreamHandler):
    def __init__(self, filename, mode='a', encoding=None, delay=False):
        super().__init__(open(filename, mode))
        self.baseFilename = filename

    def close(self):
        self._stream.close()


class Logger:
    def __init__(self, name, level=NOTSET):
        self.name = name
        self.level = _check_level(level)
        self.handlers = []
        self.parent = None
        self.propagate = True
        self.disabled = False

    def setLevel(self, level):
        self.level = _check_level(level)

    def getEffectiveLevel(self):
        logger = self
        while logger:
            if logger.level:
                return logger.level
            logger = logger.parent
        return NOTSET

    def isEnabledFor(self, level):
        return level > _disable and level >= self.getEffectiveLevel()

    def addHandler(self, handler):
        with _lock:
            if handler not in self.handlers:
                self.handlers.append(handler)

    def removeHandler(self, handler):
        with _lock:
            if handler in self.handlers:
                self.handlers.remove(handler)

    def hasHandlers(self):
        logger = self
        while logger:
            if logger.handlers:
                return True
            logger = logger.parent if logger.propagate else None
        return False

    def _log(self, level, msg, args, exc_info=None, **kwargs):
        if exc_info and not isinstance(exc_info, tuple):
            exc_info = sys.exc_info()
        # The logging call's location: the innermost frame outside this module.
        fn, lno, func = (_caller_info(__name__)
                         or ("(unknown file)", 0, "(unknown function)"))
        record = LogRecord(self.name, level, fn, lno, msg, args, exc_info,
                           func)
        found = 0
        logger = self
        while logger:
            for handler in logger.handlers:
                found += 1
                handler.handle(record)
            logger = logger.parent if logger.propagate else None
        if not found and level >= WARNING:
            lastResort.handle(record)

    def log(self, level, msg, *args, **kwargs):
        if self.isEnabledFor(level):
            self._log(level, msg, args, **kwargs)

    def debug(self, msg, *args, **kwargs):
        if self.isEnabledFor(DEBUG):
            self._log(DEBUG, msg, args, **kwargs)

    def info(self, msg, *args, **kwargs):
        if self.isEnabledFor(INFO):
            self._log(INFO, msg, args, **kwargs)

    def warning(self, msg, *args, **kwargs):
        if self.isEnabledFor(WARNING):
            self._log(WARNING, msg, args, **kwargs)

    warn = warning

    def error(self, msg, *args, **kwargs):
        if self.isEnabledFor(ERROR):
            self._log(ERROR, msg, args, **kwargs)

    def exception(self, msg, *args, exc_info=True, **kwargs):
        self.error(msg, *args, exc_info=exc_info, **kwargs)

    def critical(self, msg, *args, **kwargs):
        if self.isEnabledFor(CRITICAL):
            self._log(CRITICAL, msg, args, **kwargs)

    fatal = critical

    def __repr__(self):
        level = getLevelName(self.getEffectiveLevel())
        return '<%s %s (%s)>' % (self.__class__.__name__, self.name, level)


class RootLogger(Logger):
    def __init__(self, level):
        super().__init__('root', level)


root = RootLogger(WARNING)
lastResort = StreamHandler()
lastResort.setLevel(WARNING)
_loggers = {}


def getLogger(name=None):
    if not name or name == 'root':
        return root
    with _lock:
        logger = _loggers.get(name)
        if logger is None:
            logger = Logger(name)
            parent_name = name.rpartition('.')[0]
            logger.parent = getLogger(parent_name) if parent_name else root
            _loggers[name] = logger
        return logger


def basicConfig(**kwargs):
    with _lock:
        force = kwargs.pop('force', False)
        if force:
            for h in root.handlers[:]:
                root.removeHandler(h)
                h.close()
        if root.handlers:
            return
        handlers = kwargs.pop('handlers', None)
        filename = kwargs.pop('filename', None)
        stream = kwargs.pop('stream', None)
        if handlers is None:
            if filename:
                handler = FileHandler(filename, kwargs.pop('filemode', 'a'))
            else:
                handler = StreamHandler(stream)
            handlers = [handler]
        fmt = Formatter(kwargs.pop('format', BASIC_FORMAT),
                        kwargs.pop('datefmt', None))
        for h in handlers:
            if h.formatter is None:
                h.setFormatter(fmt)
            root.addHandler(h)
        level = kwargs.pop('level', None)
        if level is not None:
            root.setLevel(level)


def _root_call(method, msg, args, kwargs):
    if not root.handlers:
        basicConfig()
    getattr(root, method)(msg, *args, **kwargs)


def critical(msg, *args, **kwargs):
    _root_call('critical', msg, args, kwargs)


fatal = critical


def error(msg, *args, **kwargs):
    _root_call('error', msg, args, kwargs)


def exception(msg, *args, exc_info=True, **kwargs):
    _root_call('error', msg, args, dict(kwargs, exc_info=exc_info))


def warning(msg, *args, **kwargs):
    _root_call('warning', msg, args, kwargs)


warn = warning


def info(msg, *args, **kwargs):
    _root_call('info', msg, args, kwargs)


def debug(msg, *args, **kwargs):
    _root_call('debug', msg, args, kwargs)


def log(level, msg, *args, **kwargs):
    if not root.handlers:
        basicConfig()
    root.log(level, msg, *args, **kwargs)


def disable(level=CRITICAL):
    global _disable
    _disable = level
