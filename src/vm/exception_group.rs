//! Exception groups (PEP 654): the builtins `BaseExceptionGroup` and
//! `ExceptionGroup`, the two steps of `except*`, and what the traceback
//! printer needs to know about a group.
//!
//! The classes and the splitting logic are in-language
//! (`src/stdlib/py/_exceptiongroup.py`), loaded the first time a program
//! names one of them or runs `except*`: no program pays for them before.

use crate::vm::brc::Brc;
use crate::vm::error::PyResult;
use crate::vm::interp::Vm;
use crate::vm::value::{Instance, Value};

const MODULE: &str = "_exceptiongroup";

/// The builtins that `_exceptiongroup` provides.
const LAZY_BUILTINS: [&str; 2] = ["BaseExceptionGroup", "ExceptionGroup"];

impl Vm {
    fn exception_group_helper(&mut self, name: &str) -> PyResult<Value> {
        let module = self.import(MODULE)?;
        self.get_attr(&module, name)
    }

    /// A builtin name that is loaded on first use (`ExceptionGroup`): its
    /// value, now also in the builtins, or `None` for any other name.
    pub(crate) fn lazy_builtin(&mut self, name: &str) -> PyResult<Option<Value>> {
        if !LAZY_BUILTINS.contains(&name) {
            return Ok(None);
        }
        let v = self.exception_group_helper(name)?;
        self.builtins.set(name, v.clone());
        Ok(Some(v))
    }

    /// `CheckEgMatch`: `(rest, match)` of `exc` against an `except*` type.
    pub(crate) fn exception_group_match(
        &mut self,
        exc: Value,
        typ: Value,
    ) -> PyResult<(Value, Value)> {
        let f = self.exception_group_helper("_eg_match")?;
        let pair = self.call(&f, &[exc, typ], &[])?;
        match &pair {
            Value::Tuple(t) if t.items.len() == 2 => Ok((t.items[0].clone(), t.items[1].clone())),
            _ => Ok((Value::None, Value::None)),
        }
    }

    /// `PrepReraiseStar`: what an `except*` statement raises at its end.
    pub(crate) fn prep_reraise_star(&mut self, orig: Value, raised: Value) -> PyResult<Value> {
        let f = self.exception_group_helper("_prep_reraise_star")?;
        self.call(&f, &[orig, raised], &[])
    }

    /// The sub-exceptions of `exc` when it is an exception group.
    pub(crate) fn group_members(&mut self, exc: &Brc<Instance>) -> Option<Vec<Brc<Instance>>> {
        let is_group = exc
            .class
            .mro
            .iter()
            .chain(std::iter::once(&exc.class))
            .any(|c| &*c.module == MODULE && &*c.name.get() == "BaseExceptionGroup");
        if !is_group {
            return None;
        }
        let excs = self
            .get_attr(&Value::Instance(exc.clone()), "exceptions")
            .ok()?;
        let Value::Tuple(t) = excs else {
            return None;
        };
        t.items
            .iter()
            .map(|e| match e {
                Value::Instance(i) => Some(i.clone()),
                _ => None,
            })
            .collect()
    }
}
