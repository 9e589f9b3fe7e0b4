//! Exceptions as Rust values: [`PyErr`] carries a Python exception instance
//! through `Result`s. Built-in exception classes are named by [`ExcKind`].

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::vm::brc::Brc;
use crate::vm::types::types;
use crate::vm::value::{ExcData, Instance, InstanceBase, PyTuple, Value};

/// A raised Python exception. Always an instance of a `BaseException` subclass.
#[derive(Clone)]
pub struct PyErr {
    pub exc: Brc<Instance>,
}

pub type PyResult<T = Value> = Result<T, PyErr>;

/// The built-in exception classes, in CPython's hierarchy order (a parent
/// always comes before its children).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExcKind {
    BaseException,
    SystemExit,
    KeyboardInterrupt,
    GeneratorExit,
    Exception,
    StopIteration,
    StopAsyncIteration,
    ArithmeticError,
    FloatingPointError,
    OverflowError,
    ZeroDivisionError,
    AssertionError,
    AttributeError,
    BufferError,
    EOFError,
    ImportError,
    ModuleNotFoundError,
    LookupError,
    IndexError,
    KeyError,
    MemoryError,
    NameError,
    UnboundLocalError,
    OSError,
    BlockingIOError,
    ChildProcessError,
    ConnectionError,
    BrokenPipeError,
    ConnectionAbortedError,
    ConnectionRefusedError,
    ConnectionResetError,
    FileExistsError,
    FileNotFoundError,
    InterruptedError,
    IsADirectoryError,
    NotADirectoryError,
    PermissionError,
    ProcessLookupError,
    TimeoutError,
    ReferenceError,
    RuntimeError,
    NotImplementedError,
    RecursionError,
    SyntaxError,
    IndentationError,
    TabError,
    SystemError,
    TypeError,
    ValueError,
    UnicodeError,
    UnicodeDecodeError,
    UnicodeEncodeError,
    Warning,
    DeprecationWarning,
    PendingDeprecationWarning,
    RuntimeWarning,
    SyntaxWarning,
    UserWarning,
    FutureWarning,
    ImportWarning,
    UnicodeWarning,
    BytesWarning,
    ResourceWarning,
}

impl ExcKind {
    pub const ALL: [ExcKind; 63] = [
        ExcKind::BaseException,
        ExcKind::SystemExit,
        ExcKind::KeyboardInterrupt,
        ExcKind::GeneratorExit,
        ExcKind::Exception,
        ExcKind::StopIteration,
        ExcKind::StopAsyncIteration,
        ExcKind::ArithmeticError,
        ExcKind::FloatingPointError,
        ExcKind::OverflowError,
        ExcKind::ZeroDivisionError,
        ExcKind::AssertionError,
        ExcKind::AttributeError,
        ExcKind::BufferError,
        ExcKind::EOFError,
        ExcKind::ImportError,
        ExcKind::ModuleNotFoundError,
        ExcKind::LookupError,
        ExcKind::IndexError,
        ExcKind::KeyError,
        ExcKind::MemoryError,
        ExcKind::NameError,
        ExcKind::UnboundLocalError,
        ExcKind::OSError,
        ExcKind::BlockingIOError,
        ExcKind::ChildProcessError,
        ExcKind::ConnectionError,
        ExcKind::BrokenPipeError,
        ExcKind::ConnectionAbortedError,
        ExcKind::ConnectionRefusedError,
        ExcKind::ConnectionResetError,
        ExcKind::FileExistsError,
        ExcKind::FileNotFoundError,
        ExcKind::InterruptedError,
        ExcKind::IsADirectoryError,
        ExcKind::NotADirectoryError,
        ExcKind::PermissionError,
        ExcKind::ProcessLookupError,
        ExcKind::TimeoutError,
        ExcKind::ReferenceError,
        ExcKind::RuntimeError,
        ExcKind::NotImplementedError,
        ExcKind::RecursionError,
        ExcKind::SyntaxError,
        ExcKind::IndentationError,
        ExcKind::TabError,
        ExcKind::SystemError,
        ExcKind::TypeError,
        ExcKind::ValueError,
        ExcKind::UnicodeError,
        ExcKind::UnicodeDecodeError,
        ExcKind::UnicodeEncodeError,
        ExcKind::Warning,
        ExcKind::DeprecationWarning,
        ExcKind::PendingDeprecationWarning,
        ExcKind::RuntimeWarning,
        ExcKind::SyntaxWarning,
        ExcKind::UserWarning,
        ExcKind::FutureWarning,
        ExcKind::ImportWarning,
        ExcKind::UnicodeWarning,
        ExcKind::BytesWarning,
        ExcKind::ResourceWarning,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ExcKind::BaseException => "BaseException",
            ExcKind::SystemExit => "SystemExit",
            ExcKind::KeyboardInterrupt => "KeyboardInterrupt",
            ExcKind::GeneratorExit => "GeneratorExit",
            ExcKind::Exception => "Exception",
            ExcKind::StopIteration => "StopIteration",
            ExcKind::StopAsyncIteration => "StopAsyncIteration",
            ExcKind::ArithmeticError => "ArithmeticError",
            ExcKind::FloatingPointError => "FloatingPointError",
            ExcKind::OverflowError => "OverflowError",
            ExcKind::ZeroDivisionError => "ZeroDivisionError",
            ExcKind::AssertionError => "AssertionError",
            ExcKind::AttributeError => "AttributeError",
            ExcKind::BufferError => "BufferError",
            ExcKind::EOFError => "EOFError",
            ExcKind::ImportError => "ImportError",
            ExcKind::ModuleNotFoundError => "ModuleNotFoundError",
            ExcKind::LookupError => "LookupError",
            ExcKind::IndexError => "IndexError",
            ExcKind::KeyError => "KeyError",
            ExcKind::MemoryError => "MemoryError",
            ExcKind::NameError => "NameError",
            ExcKind::UnboundLocalError => "UnboundLocalError",
            ExcKind::OSError => "OSError",
            ExcKind::BlockingIOError => "BlockingIOError",
            ExcKind::ChildProcessError => "ChildProcessError",
            ExcKind::ConnectionError => "ConnectionError",
            ExcKind::BrokenPipeError => "BrokenPipeError",
            ExcKind::ConnectionAbortedError => "ConnectionAbortedError",
            ExcKind::ConnectionRefusedError => "ConnectionRefusedError",
            ExcKind::ConnectionResetError => "ConnectionResetError",
            ExcKind::FileExistsError => "FileExistsError",
            ExcKind::FileNotFoundError => "FileNotFoundError",
            ExcKind::InterruptedError => "InterruptedError",
            ExcKind::IsADirectoryError => "IsADirectoryError",
            ExcKind::NotADirectoryError => "NotADirectoryError",
            ExcKind::PermissionError => "PermissionError",
            ExcKind::ProcessLookupError => "ProcessLookupError",
            ExcKind::TimeoutError => "TimeoutError",
            ExcKind::ReferenceError => "ReferenceError",
            ExcKind::RuntimeError => "RuntimeError",
            ExcKind::NotImplementedError => "NotImplementedError",
            ExcKind::RecursionError => "RecursionError",
            ExcKind::SyntaxError => "SyntaxError",
            ExcKind::IndentationError => "IndentationError",
            ExcKind::TabError => "TabError",
            ExcKind::SystemError => "SystemError",
            ExcKind::TypeError => "TypeError",
            ExcKind::ValueError => "ValueError",
            ExcKind::UnicodeError => "UnicodeError",
            ExcKind::UnicodeDecodeError => "UnicodeDecodeError",
            ExcKind::UnicodeEncodeError => "UnicodeEncodeError",
            ExcKind::Warning => "Warning",
            ExcKind::DeprecationWarning => "DeprecationWarning",
            ExcKind::PendingDeprecationWarning => "PendingDeprecationWarning",
            ExcKind::RuntimeWarning => "RuntimeWarning",
            ExcKind::SyntaxWarning => "SyntaxWarning",
            ExcKind::UserWarning => "UserWarning",
            ExcKind::FutureWarning => "FutureWarning",
            ExcKind::ImportWarning => "ImportWarning",
            ExcKind::UnicodeWarning => "UnicodeWarning",
            ExcKind::BytesWarning => "BytesWarning",
            ExcKind::ResourceWarning => "ResourceWarning",
        }
    }

    /// The direct base class, `None` for `BaseException`.
    pub fn parent(self) -> Option<ExcKind> {
        match self {
            ExcKind::BaseException => None,
            ExcKind::SystemExit => Some(ExcKind::BaseException),
            ExcKind::KeyboardInterrupt => Some(ExcKind::BaseException),
            ExcKind::GeneratorExit => Some(ExcKind::BaseException),
            ExcKind::Exception => Some(ExcKind::BaseException),
            ExcKind::StopIteration => Some(ExcKind::Exception),
            ExcKind::StopAsyncIteration => Some(ExcKind::Exception),
            ExcKind::ArithmeticError => Some(ExcKind::Exception),
            ExcKind::FloatingPointError => Some(ExcKind::ArithmeticError),
            ExcKind::OverflowError => Some(ExcKind::ArithmeticError),
            ExcKind::ZeroDivisionError => Some(ExcKind::ArithmeticError),
            ExcKind::AssertionError => Some(ExcKind::Exception),
            ExcKind::AttributeError => Some(ExcKind::Exception),
            ExcKind::BufferError => Some(ExcKind::Exception),
            ExcKind::EOFError => Some(ExcKind::Exception),
            ExcKind::ImportError => Some(ExcKind::Exception),
            ExcKind::ModuleNotFoundError => Some(ExcKind::ImportError),
            ExcKind::LookupError => Some(ExcKind::Exception),
            ExcKind::IndexError => Some(ExcKind::LookupError),
            ExcKind::KeyError => Some(ExcKind::LookupError),
            ExcKind::MemoryError => Some(ExcKind::Exception),
            ExcKind::NameError => Some(ExcKind::Exception),
            ExcKind::UnboundLocalError => Some(ExcKind::NameError),
            ExcKind::OSError => Some(ExcKind::Exception),
            ExcKind::BlockingIOError => Some(ExcKind::OSError),
            ExcKind::ChildProcessError => Some(ExcKind::OSError),
            ExcKind::ConnectionError => Some(ExcKind::OSError),
            ExcKind::BrokenPipeError => Some(ExcKind::ConnectionError),
            ExcKind::ConnectionAbortedError => Some(ExcKind::ConnectionError),
            ExcKind::ConnectionRefusedError => Some(ExcKind::ConnectionError),
            ExcKind::ConnectionResetError => Some(ExcKind::ConnectionError),
            ExcKind::FileExistsError => Some(ExcKind::OSError),
            ExcKind::FileNotFoundError => Some(ExcKind::OSError),
            ExcKind::InterruptedError => Some(ExcKind::OSError),
            ExcKind::IsADirectoryError => Some(ExcKind::OSError),
            ExcKind::NotADirectoryError => Some(ExcKind::OSError),
            ExcKind::PermissionError => Some(ExcKind::OSError),
            ExcKind::ProcessLookupError => Some(ExcKind::OSError),
            ExcKind::TimeoutError => Some(ExcKind::OSError),
            ExcKind::ReferenceError => Some(ExcKind::Exception),
            ExcKind::RuntimeError => Some(ExcKind::Exception),
            ExcKind::NotImplementedError => Some(ExcKind::RuntimeError),
            ExcKind::RecursionError => Some(ExcKind::RuntimeError),
            ExcKind::SyntaxError => Some(ExcKind::Exception),
            ExcKind::IndentationError => Some(ExcKind::SyntaxError),
            ExcKind::TabError => Some(ExcKind::IndentationError),
            ExcKind::SystemError => Some(ExcKind::Exception),
            ExcKind::TypeError => Some(ExcKind::Exception),
            ExcKind::ValueError => Some(ExcKind::Exception),
            ExcKind::UnicodeError => Some(ExcKind::ValueError),
            ExcKind::UnicodeDecodeError => Some(ExcKind::UnicodeError),
            ExcKind::UnicodeEncodeError => Some(ExcKind::UnicodeError),
            ExcKind::Warning => Some(ExcKind::Exception),
            ExcKind::DeprecationWarning => Some(ExcKind::Warning),
            ExcKind::PendingDeprecationWarning => Some(ExcKind::Warning),
            ExcKind::RuntimeWarning => Some(ExcKind::Warning),
            ExcKind::SyntaxWarning => Some(ExcKind::Warning),
            ExcKind::UserWarning => Some(ExcKind::Warning),
            ExcKind::FutureWarning => Some(ExcKind::Warning),
            ExcKind::ImportWarning => Some(ExcKind::Warning),
            ExcKind::UnicodeWarning => Some(ExcKind::Warning),
            ExcKind::BytesWarning => Some(ExcKind::Warning),
            ExcKind::ResourceWarning => Some(ExcKind::Warning),
        }
    }
}

impl PyErr {
    /// A new exception of a built-in class with `args == (msg,)`.
    pub fn new(kind: ExcKind, msg: impl Into<String>) -> PyErr {
        PyErr::with_args(kind, vec![Value::from_string(msg.into())])
    }

    /// A new exception of a built-in class with the given args (`KeyError(key)`, `StopIteration(value)`).
    pub fn with_args(kind: ExcKind, args: Vec<Value>) -> PyErr {
        let class = types().exception(kind).clone();
        PyErr {
            exc: Brc::new(Instance::new(
                class,
                InstanceBase::Exception(Box::new(ExcData::new(args))),
            )),
        }
    }

    pub fn type_error(msg: impl Into<String>) -> PyErr {
        PyErr::new(ExcKind::TypeError, msg)
    }

    pub fn value_error(msg: impl Into<String>) -> PyErr {
        PyErr::new(ExcKind::ValueError, msg)
    }

    pub fn index_error(msg: impl Into<String>) -> PyErr {
        PyErr::new(ExcKind::IndexError, msg)
    }

    pub fn attribute_error(msg: impl Into<String>) -> PyErr {
        PyErr::new(ExcKind::AttributeError, msg)
    }

    pub fn runtime_error(msg: impl Into<String>) -> PyErr {
        PyErr::new(ExcKind::RuntimeError, msg)
    }

    pub fn overflow_error(msg: impl Into<String>) -> PyErr {
        PyErr::new(ExcKind::OverflowError, msg)
    }

    pub fn zero_division(msg: impl Into<String>) -> PyErr {
        PyErr::new(ExcKind::ZeroDivisionError, msg)
    }

    pub fn key_error(key: Value) -> PyErr {
        PyErr::with_args(ExcKind::KeyError, vec![key])
    }

    /// The exception as a Python value.
    pub fn value(&self) -> Value {
        Value::Instance(self.exc.clone())
    }

    /// Is this exception an instance of the built-in class `kind` (or a subclass)?
    pub fn matches(&self, kind: ExcKind) -> bool {
        let target = types().exception(kind);
        Arc::ptr_eq(&self.exc.class, target)
            || self.exc.class.mro.iter().any(|c| Arc::ptr_eq(c, target))
    }

    /// The exception's state (every `BaseException` instance has one).
    pub fn data(&self) -> Option<&ExcData> {
        match &self.exc.base {
            InstanceBase::Exception(d) => Some(d),
            _ => None,
        }
    }
}

impl ExcData {
    pub fn new(args: Vec<Value>) -> ExcData {
        ExcData {
            args: Mutex::new(Arc::new(PyTuple {
                items: args.into_boxed_slice(),
            })),
            traceback: Mutex::new(std::collections::VecDeque::new()),
            cause: Mutex::new(None),
            context: Mutex::new(None),
            suppress_context: AtomicBool::new(false),
            suggestion: Mutex::new(None),
            frame_values: Mutex::new(Vec::new()),
        }
    }
}

impl std::fmt::Debug for PyErr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<{} exception>", self.exc.class.name)
    }
}
