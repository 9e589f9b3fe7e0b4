//! Running bytecode: the object model, the built-in types and the interpreter loop.
//!
//! | file | concern |
//! |---|---|
//! | `value.rs` | `Value` and the heap objects |
//! | `attrs.rs` | `AttrMap`, the attribute namespaces |
//! | `error.rs` | `PyErr`, `ExcKind` |
//! | `types.rs` | the built-in classes |
//! | `ops.rs` | the object protocol: operators, comparisons, hashing, repr/str, attributes, items |
//! | `number.rs` | int (incl. big ints) and float arithmetic, conversions |
//! | `str.rs`, `format.rs` | str methods; format specs, `%`-formatting, float repr |
//! | `bytes.rs`, `bytes_methods.rs`, `bytes_algo.rs`, `bytearray.rs` | bytes-like values and bytes(); the methods bytes and bytearray share; their byte algorithms; bytearray's own |
//! | `list.rs`, `tuple.rs`, `dict.rs`, `set.rs` | containers |
//! | `iter.rs` | iterators and the iteration protocol |
//! | `builtins.rs` | the `builtins` module |
//! | `interp.rs`, `frame.rs` | the VM, frames, the dispatch loop |
//! | `site_cache.rs` | per-instruction attribute caches |
//! | `footprint.rs` | how big a thread's caches and stack start, and how they grow |
//! | `spin.rs` | the spin lock of instance namespaces and list items |
//! | `brc.rs` | `Brc`, the biased reference count of instances and functions |
//! | `slot.rs` | writing values into stack slots with one store |
//! | `call.rs` | calling functions, binding arguments, instantiating classes |
//! | `class.rs` | class creation (`__build_class__`), `super` |
//! | `generator.rs` | generators and coroutines |
//! | `exceptions.rs` | `BaseException` methods |
//! | `exception_group.rs` | `ExceptionGroup` and `except*` (classes in `stdlib/py/_exceptiongroup.py`) |
//! | `traceback.rs` | rendering tracebacks and syntax errors |
//! | `import.rs` | the import system |
//! | `exec.rs` | `eval`, `exec`, `compile` |
//! | `union.rs` | `int \| None` (`types.UnionType`) |
//! | `generic_alias.rs` | `list[int]` (`types.GenericAlias`) |
//! | `subclasses.rs` | `type.__subclasses__()` (a weak registry of subclasses) |

pub mod attrs;
pub mod brc;
pub mod builtins;
pub mod bytearray;
pub mod bytes;
pub mod bytes_algo;
pub mod bytes_methods;
pub mod call;
pub mod class;
pub mod complex;
pub mod dict;
pub mod display_width;
pub mod error;
pub mod exception_group;
pub mod exceptions;
pub mod exec;
pub mod finalize;
pub mod footprint;
pub mod format;
pub mod frame;
pub mod generator;
pub mod generic_alias;
pub mod import;
pub mod interp;
pub mod iter;
pub mod list;
pub mod number;
pub mod ops;
pub mod program_text;
pub mod set;
pub mod site_cache;
pub mod slot;
pub mod spin;
pub mod str;
pub mod strhash;
pub mod subclasses;
pub mod traceback;
pub mod tuple;
pub mod types;
pub mod union;
pub mod value;

pub use error::{ExcKind, PyErr, PyResult};
pub use interp::{Interp, Vm};
pub use value::Value;
