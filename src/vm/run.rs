//! The dispatch loop, exception unwinding and the frame stack.
//!
//! A script-to-script call pushes a frame and carries on in the same loop;
//! only natives calling back into script code (`Vm::call`) and generator
//! resumption start a nested loop (`run_frame`), which returns when its
//! entry frame returns or yields.

use std::sync::Arc;

use crate::compile::code::{flags, BinaryOpKind, CompareKind, Instr, UnaryOpKind};
use crate::vm::brc::Brc;
use crate::vm::error::{ExcKind, PyErr, PyResult};
use crate::vm::footprint::{Sets, Start};
use crate::vm::frame::{Block, BlockKind, Frame};
use crate::vm::interp::{type_name, Vm};
use crate::vm::site_cache::{self, Construct};
use crate::vm::slot;
use crate::vm::types::types;
use crate::vm::value::{
    BoundMethod, Cell, Class, CodeObj, Function, InstanceBase, NativeFunction, ObjKind, Object,
    PyDict, PyList, PyStr, PyTuple, TraceEntry, Value,
};

/// How a run of a frame ended.
pub(crate) enum Exit {
    Return(Value),
    /// The frame yielded; it is handed back to be stored in its generator.
    Yield(Value, Frame),
}

/// How an error leaving `dispatch` was raised, for the unwinder.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum RaiseMode {
    /// Raised by an instruction or a native: record the frame, and chain the
    /// handled exception as `__context__` if it has none.
    Fresh,
    /// `raise x`: the context was already set; record the frame.
    Explicit,
    /// Bare `raise` / `Reraise`: the traceback stays as it is.
    Reraise,
}

impl Vm {
    /// Run `frame` in a nested dispatch loop until it returns, yields or
    /// raises. With `throw`, the frame starts by raising that exception at
    /// its current instruction (generator `throw`).
    pub(crate) fn run_frame(&mut self, mut frame: Frame, throw: Option<PyErr>) -> PyResult<Exit> {
        self.check_stack()?;
        if self.depth >= self.interp.recursion_limit() {
            return Err(recursion_error());
        }
        let base = self.stack.len();
        frame.base = base as u32;
        frame.ret = base as u32;
        self.stack.append(&mut frame.take_saved());
        let caller = std::mem::replace(&mut self.frame, frame);
        self.frames.push(caller);
        self.depth += 1;
        let entry = self.frames.len();
        let mut pending = throw.map(|e| (e, RaiseMode::Explicit));
        loop {
            let (err, mode) = match pending.take() {
                Some(p) => p,
                None => match self.dispatch(entry) {
                    Ok(exit) => return Ok(exit),
                    Err(e) => (e, std::mem::replace(&mut self.raise_mode, RaiseMode::Fresh)),
                },
            };
            self.unwind(err, entry, mode)?;
        }
    }

    /// Make the running frame's caller current again; returns the frame.
    pub(crate) fn exit_frame(&mut self) -> Frame {
        let caller = match self.frames.pop() {
            Some(f) => f,
            None => Frame::empty(self.interp.idle_func.clone()),
        };
        self.depth = self.depth.saturating_sub(1);
        std::mem::replace(&mut self.frame, caller)
    }

    /// A `return` from the running frame to its caller in this loop: cut
    /// the stack back, drop the frame where it is and make the caller
    /// current. Returns the instance an inlined `__init__` call produces
    /// (`Null` for other calls): the callee's slot at `ret` holds it.
    #[inline]
    fn return_to_caller(&mut self) -> Value {
        let ret = self.frame.ret as usize;
        let init = match self.stack.get_mut(ret) {
            Some(slot) => slot::take(slot),
            None => Value::Null,
        };
        self.release_to(ret);
        let Some(caller) = self.frames.pop() else {
            drop(self.exit_frame());
            return init;
        };
        self.depth = self.depth.saturating_sub(1);
        // Dropped in place and overwritten: moving the finished frame out
        // first (`mem::replace`) copies it through a temporary that stalls
        // on store forwarding, on every return.
        struct AbortOnUnwind;
        impl Drop for AbortOnUnwind {
            fn drop(&mut self) {
                std::process::abort();
            }
        }
        let guard = AbortOnUnwind;
        // SAFETY: `self.frame` is dropped exactly once and at once replaced
        // by a valid frame. Should its drop glue panic, the guard aborts
        // the process before anything could see the dropped frame.
        unsafe {
            Frame::drop_in_place(&mut self.frame);
            Frame::write_fields(&mut self.frame, caller);
        }
        std::mem::forget(guard);
        init
    }

    /// The running frame is done: cut the stack back to where it began.
    #[inline]
    fn finish_frame(&mut self) -> Frame {
        let ret = self.frame.ret as usize;
        self.release_to(ret);
        self.exit_frame()
    }

    /// Suspend the running frame (a yield): its values move into `saved`.
    fn suspend_frame(&mut self) -> Frame {
        let base = (self.frame.base as usize).min(self.stack.len());
        let mut saved = self.frame.take_saved();
        saved.extend(self.stack.drain(base..));
        *self.frame.saved_mut() = saved;
        let ret = self.frame.ret as usize;
        truncate(&mut self.stack, ret);
        self.exit_frame()
    }

    /// Dispose of a frame that will not run again.
    pub(crate) fn recycle(&mut self, frame: Frame) {
        drop(frame);
    }

    /// Find a handler for `err`, from the running frame outwards down to the
    /// entry frame of this loop. `Ok` means the loop can go on at the handler.
    fn unwind(&mut self, err: PyErr, entry: usize, mode: RaiseMode) -> PyResult<()> {
        if mode == RaiseMode::Fresh {
            self.chain_context(&err, false);
        }
        let mut entries: Vec<TraceEntry> = Vec::new();
        let mut record = mode != RaiseMode::Reraise;
        loop {
            if record && !crate::stdlib::hides_frames(&self.frame.func.code.code.filename) {
                entries.push(self.trace_entry());
            }
            record = true;
            let fb = self.frame.base as usize;
            while let Some(block) = self.frame.pop_block() {
                match block.kind {
                    BlockKind::ExceptHandler => {
                        truncate(&mut self.stack, fb + block.depth as usize);
                        self.handled = self.stack.pop().unwrap_or(Value::None);
                    }
                    BlockKind::Handler => {
                        add_traceback(&err, entries);
                        truncate(&mut self.stack, fb + block.depth as usize);
                        self.stack.push(err.value());
                        self.frame.pc = block.handler;
                        return Ok(());
                    }
                }
            }
            let at_entry = self.frames.len() == entry;
            if !at_entry {
                self.construct_level_done();
            }
            if crate::vm::finalize::enabled() {
                self.keep_frame_values(&err);
            }
            let done = self.finish_frame();
            drop(done);
            if at_entry {
                add_traceback(&err, entries);
                return Err(err);
            }
        }
    }

    /// An unwound frame that a call of a class ran as its `__init__` (see
    /// `construct_frame`) gives back the level the call held. Such a frame
    /// is the one whose result slot holds the new instance: a frame this
    /// loop entered has an emptied slot there otherwise.
    fn construct_level_done(&mut self) {
        if let Some(Value::Instance(_)) = self.stack.get(self.frame.ret as usize) {
            self.depth -= 1;
        }
    }

    /// Move the unwound frame's values into `err` (see
    /// `ExcData::frame_values`): objects only it held are finalized when
    /// the exception goes, after its handler, as in CPython.
    #[cold]
    fn keep_frame_values(&mut self, err: &PyErr) {
        let ret = (self.frame.ret as usize).min(self.stack.len());
        if let Some(d) = err.data() {
            d.frame_values
                .lock()
                .extend(self.stack.drain(ret..).filter(|v| !v.is_null()));
        }
    }

    pub(crate) fn trace_entry(&self) -> TraceEntry {
        let code = &self.frame.func.code.code;
        TraceEntry {
            filename: code.filename.clone(),
            name: code.name.clone(),
            line: self.frame.line(),
            span: self.frame.span().unwrap_or_default(),
        }
    }

    /// Set `err.__context__` to the exception being handled (CPython's
    /// `_PyErr_SetObject`), breaking any cycle that would create.
    pub(crate) fn chain_context(&mut self, err: &PyErr, overwrite: bool) {
        let Value::Instance(handled) = &self.handled else {
            return;
        };
        if Brc::ptr_eq(handled, &err.exc) {
            return;
        }
        let Some(data) = err.data() else { return };
        if !overwrite && data.context.lock().is_some() {
            return;
        }
        // Cut the chain where it would loop back to `err`.
        let mut o = handled.clone();
        for _ in 0..10_000 {
            let InstanceBase::Exception(d) = &o.base else {
                break;
            };
            let next = d.context.lock().clone();
            match next {
                Some(Value::Instance(c)) => {
                    if Brc::ptr_eq(&c, &err.exc) {
                        *d.context.lock() = None;
                        break;
                    }
                    o = c;
                }
                _ => break,
            }
        }
        *data.context.lock() = Some(Value::Instance(handled.clone()));
    }

    #[inline(always)]
    fn pop(&mut self) -> Value {
        match self.stack.pop() {
            Some(v) => v,
            None => Value::None,
        }
    }

    #[inline(always)]
    fn push(&mut self, v: Value) {
        push_value(&mut self.stack, v);
    }

    #[inline(always)]
    fn top(&self) -> &Value {
        self.stack.last().unwrap_or(&Value::None)
    }

    /// Pop `n` values, in stack order.
    fn pop_n(&mut self, n: usize) -> Vec<Value> {
        let len = self.stack.len();
        let start = len
            .saturating_sub(n)
            .max(self.frame.base as usize + self.frame.nlocals as usize);
        self.stack.drain(start..).collect()
    }

    /// `LoadFast` of local `i` at stack index `slot`.
    #[inline(always)]
    fn load_fast(&mut self, slot: usize, code: &CodeObj, i: u32) -> PyResult<()> {
        match &self.stack[slot] {
            v if is_scalar(v) => dup_scalar(&mut self.stack, slot),
            Value::Null => return Err(unbound_local(&code.code.varnames[i as usize])),
            _ => dup_clone(&mut self.stack, slot),
        }
        Ok(())
    }

    /// Drop `v`; a suspended generator whose last reference this is gets
    /// closed first, so its `finally` blocks run (CPython's finalizer).
    /// `__del__` methods the drop queued run at once (`vm::finalize`).
    #[inline(always)]
    fn release(&mut self, v: Value) {
        match &v {
            // Owns nothing: no drop glue, nothing to finalize.
            Value::Int(_) | Value::Float(_) | Value::Bool(_) | Value::None | Value::Null => {
                std::mem::forget(v);
                return;
            }
            Value::Object(o) if Arc::strong_count(o) == 1 => {
                if let ObjKind::Generator(g) = &o.kind {
                    if g.needs_close() {
                        self.finalize_generator(o);
                    }
                }
            }
            _ => {}
        }
        drop(v);
        self.run_due_finalizers();
    }

    /// Cut the stack back to `len` as a returning frame does, closing a
    /// suspended generator that only a local held (see `release`).
    #[inline(always)]
    fn release_to(&mut self, len: usize) {
        if !crate::vm::generator::any_guarded_suspended() {
            truncate(&mut self.stack, len);
            return;
        }
        self.release_frame_values(len);
    }

    /// `release_to`'s slow path: CPython clears a frame's locals first to
    /// last, so generators they hold close in that order.
    #[cold]
    fn release_frame_values(&mut self, len: usize) {
        if self.stack.len() <= len {
            return;
        }
        let values: Vec<Value> = self.stack.drain(len..).collect();
        for v in values {
            self.release(v);
        }
    }

    /// The eval-breaker check (backward jumps, function entry, after natives).
    #[inline(always)]
    fn breaker_check(&mut self) -> PyResult<()> {
        if self.gil.eval_breaker() != 0 {
            return self.handle_breaker();
        }
        if crate::vm::brc::merge_pending() {
            self.pending_work();
        }
        Ok(())
    }

    /// Run the `__del__` methods that drops queued (`vm::finalize`): before
    /// a call that may not enter a frame of this loop (a native may print,
    /// or read what a finalizer changes), before `with`, and after stores
    /// and deletes, so that they run where CPython would have run them.
    /// Frames check on entry (`breaker_check`).
    /// Until a class has a `__del__` this is one load of a global.
    #[inline(always)]
    fn run_due_finalizers(&mut self) {
        if crate::vm::finalize::enabled() {
            self.finalize_point();
        }
    }

    #[inline(never)]
    fn finalize_point(&mut self) {
        if crate::vm::brc::merge_pending() {
            self.pending_work();
        }
    }

    /// CPython 3.11 counts a call of a built-in against the recursion limit
    /// (`_Py_EnterRecursiveCall` in its call paths), except the calls it
    /// specialises without that check; `print` decides its own message.
    #[inline(always)]
    fn native_depth_check(&self, nf: &NativeFunction) -> PyResult<()> {
        if self.depth < self.interp.recursion_limit() {
            return Ok(());
        }
        let name = nf
            .qualname
            .strip_prefix("builtins.")
            .unwrap_or(&nf.qualname);
        match name {
            "len" | "isinstance" | "sum" | "print" | "list.append" => Ok(()),
            _ => Err(PyErr::new(
                ExcKind::RecursionError,
                "maximum recursion depth exceeded while calling a Python object",
            )),
        }
    }

    /// Merge the references other threads handed this thread, then run
    /// the finalizers this thread queued (`vm::finalize`).
    #[cold]
    #[inline(never)]
    pub(crate) fn pending_work(&mut self) {
        crate::vm::brc::merge_queued();
        self.run_finalizers();
    }

    #[cold]
    fn handle_breaker(&mut self) -> PyResult<()> {
        if self.gil.handle_break(self.tid, self.is_main) {
            return Err(PyErr::with_args(ExcKind::KeyboardInterrupt, vec![]));
        }
        Ok(())
    }

    /// The dispatch loop proper. Returns when the entry frame (the one at
    /// `frames.len() == base`) returns or yields; errors leave the frames
    /// as they are for `unwind`.
    fn dispatch(&mut self, entry: usize) -> PyResult<Exit> {
        self.breaker_check()?;
        // One turn per frame switch (call or return): the code object and
        // its instruction slice are then locals, not pointer hops away, on
        // every dispatch.
        'frame: loop {
            // SAFETY: the running frame holds its function and the function
            // its code object, which nothing replaces: the code object lives
            // at least as long as the running frame. Only a return or an
            // unwind drops that frame, and both leave this turn (`continue
            // 'frame` borrows anew, errors return) without touching `code`.
            // Borrowing it without a count saves two atomic updates per call
            // and return.
            let code: &CodeObj = unsafe { &*Arc::as_ptr(&self.frame.func.code) };
            let instrs: &[Instr] = &code.code.instrs;
            // The instruction pointer lives in a register; the frame's copy is
            // kept current (it names the line for tracebacks and is where a
            // caller resumes).
            let mut pc = self.frame.pc as usize;
            let fb = self.frame.base as usize;
            loop {
                let cur = pc;
                let Some(&instr) = instrs.get(cur) else {
                    return Err(PyErr::new(
                        ExcKind::SystemError,
                        "instruction pointer out of range",
                    ));
                };
                pc = cur + 1;
                self.frame.pc = pc as u32;
                match instr {
                    Instr::Nop => {}
                    Instr::Pop => {
                        // `break`/`return` out of a `for` pops its iterator.
                        if let Some(v) = self.stack.pop() {
                            self.release(v);
                        }
                    }
                    Instr::Copy(n) => {
                        let len = self.stack.len();
                        let v = self.stack[len - n as usize].clone();
                        self.push(v);
                    }
                    Instr::Swap(n) => {
                        let len = self.stack.len();
                        self.stack.swap(len - 1, len - n as usize);
                    }
                    Instr::LoadConst(i) => {
                        let v = &code.consts[i as usize];
                        if is_scalar(v) {
                            push_scalar(&mut self.stack, v);
                        } else {
                            push_clone(&mut self.stack, v);
                        }
                    }
                    Instr::LoadFastBinary(i) => {
                        let slot = fb + i as usize;
                        let fast = match (instrs.get(pc), instrs.get(pc + 1)) {
                            (Some(&next), Some(&Instr::BinaryOp(op))) => {
                                match fused_operand(&self.stack, &code.consts, fb, next) {
                                    Some(b) => scalar_binary(&self.stack[slot], b, op),
                                    None => Num::No,
                                }
                            }
                            _ => Num::No,
                        };
                        match fast {
                            Num::I(r) => push_value(&mut self.stack, Value::Int(r)),
                            Num::F(r) => push_value(&mut self.stack, Value::Float(r)),
                            Num::B(r) => push_value(&mut self.stack, Value::Bool(r)),
                            // Not two numbers (or an error to raise): just
                            // the `LoadFast`, and the next two run as usual.
                            Num::No => {
                                self.load_fast(slot, code, i)?;
                                continue;
                            }
                        }
                        pc += 2;
                        self.frame.pc = pc as u32;
                    }
                    Instr::LoadFastCompare(i) => {
                        let slot = fb + i as usize;
                        let r = match (instrs.get(pc), instrs.get(pc + 1)) {
                            (Some(&next), Some(&Instr::CompareOp(op))) => {
                                fused_operand(&self.stack, &code.consts, fb, next)
                                    .and_then(|b| scalar_compare(&self.stack[slot], b, op))
                            }
                            _ => None,
                        };
                        let Some(r) = r else {
                            self.load_fast(slot, code, i)?;
                            continue;
                        };
                        // Past the operand and the compare; a conditional
                        // jump right after takes the result directly.
                        pc = match jump_on(instrs.get(pc + 2), r, pc + 3) {
                            Some(to) => to,
                            None => {
                                push_value(&mut self.stack, Value::Bool(r));
                                pc + 2
                            }
                        };
                        self.frame.pc = pc as u32;
                    }
                    Instr::LoadFastSubscr(i) => {
                        let slot = fb + i as usize;
                        let item = match (&self.stack[slot], instrs.get(pc)) {
                            (Value::List(l), Some(&Instr::LoadConst(c))) => {
                                match code.consts.get(c as usize) {
                                    Some(&Value::Int(ix)) => list_item(l, ix),
                                    _ => None,
                                }
                            }
                            _ => None,
                        };
                        let Some(v) = item else {
                            self.load_fast(slot, code, i)?;
                            continue;
                        };
                        push_value(&mut self.stack, v);
                        pc += 2;
                        self.frame.pc = pc as u32;
                    }
                    Instr::LoadFastAttr(op) => {
                        let (i, s) = (op & 0xffff, (op >> 16) as usize);
                        let slot = fb + i as usize;
                        if let (Value::Instance(inst), Some(site)) =
                            (&self.stack[slot], code.attr_sites.get(s))
                        {
                            if let Some(v) = site_cache::read_site(site, inst) {
                                push_value(&mut self.stack, v);
                                pc += 1;
                                self.frame.pc = pc as u32;
                                continue;
                            }
                        }
                        self.load_fast(slot, code, i)?;
                    }
                    Instr::LoadFastStoreAttr(op) => {
                        let (i, s) = (op & 0xffff, (op >> 16) as usize);
                        let slot = fb + i as usize;
                        if let (Value::Instance(_), Some(site)) =
                            (&self.stack[slot], code.attr_sites.get(s))
                        {
                            // The value to store is on top, above the locals.
                            let value = self.pop();
                            let done = match &self.stack[slot] {
                                Value::Instance(inst) => site_cache::store_site(site, inst, value),
                                _ => Err(value),
                            };
                            match done {
                                Ok(()) => {
                                    pc += 1;
                                    self.frame.pc = pc as u32;
                                    continue;
                                }
                                Err(value) => push_value(&mut self.stack, value),
                            }
                        }
                        self.load_fast(slot, code, i)?;
                    }
                    Instr::LoadFast(i) => {
                        let slot = fb + i as usize;
                        match &self.stack[slot] {
                            v if is_scalar(v) => dup_scalar(&mut self.stack, slot),
                            Value::Null => {
                                return Err(unbound_local(&code.code.varnames[i as usize]));
                            }
                            // `local[const]` on a list (`pos[0]`): read the item
                            // without cloning the list itself, and skip the
                            // `LoadConst`/`BinarySubscr` pair. No other
                            // instruction boundary is observable in between;
                            // anything unusual runs the pair normally.
                            Value::List(l) => {
                                let item = match (instrs.get(pc), instrs.get(pc + 1)) {
                                    (Some(&Instr::LoadConst(k)), Some(&Instr::BinarySubscr)) => {
                                        match &code.consts[k as usize] {
                                            Value::Int(ix) => list_item(l, *ix),
                                            _ => None,
                                        }
                                    }
                                    _ => None,
                                };
                                match item {
                                    Some(v) => {
                                        push_value(&mut self.stack, v);
                                        pc += 2;
                                        self.frame.pc = pc as u32;
                                    }
                                    None => dup_clone(&mut self.stack, slot),
                                }
                            }
                            _ => dup_clone(&mut self.stack, slot),
                        }
                    }
                    Instr::StoreFast(i) => {
                        let dst = fb + i as usize;
                        let top = self.stack.len() - 1;
                        // A number just computed in place (`n -= 1`) moves
                        // field by field: a whole-value load of it would
                        // stall on store forwarding.
                        match (&self.stack[top], &self.stack[dst]) {
                            // The old number owns nothing: forgotten, not
                            // dropped (an assignment calls the drop glue).
                            (&Value::Int(x), Value::Int(_)) => {
                                std::mem::forget(std::mem::replace(
                                    &mut self.stack[dst],
                                    Value::Int(x),
                                ));
                                forget_top(&mut self.stack);
                            }
                            (&Value::Float(x), Value::Float(_)) => {
                                std::mem::forget(std::mem::replace(
                                    &mut self.stack[dst],
                                    Value::Float(x),
                                ));
                                forget_top(&mut self.stack);
                            }
                            _ => {
                                let v = self.pop();
                                let old = std::mem::replace(&mut self.stack[dst], v);
                                self.release(old);
                            }
                        }
                    }
                    Instr::DeleteFast(i) => {
                        let slot = &mut self.stack[fb + i as usize];
                        if slot.is_null() {
                            return Err(unbound_local(&code.code.varnames[i as usize]));
                        }
                        let old = slot::take(slot);
                        self.release(old);
                    }
                    Instr::LoadDeref(i) => {
                        let v = self.frame.cells()[i as usize].value.lock().clone();
                        if v.is_null() {
                            return Err(unbound_deref(code, i as usize));
                        }
                        self.push(v);
                    }
                    Instr::StoreDeref(i) => {
                        let v = self.pop();
                        *self.frame.cells()[i as usize].value.lock() = v;
                    }
                    Instr::DeleteDeref(i) => {
                        let cell = self.frame.cells()[i as usize].clone();
                        let mut slot = cell.value.lock();
                        if slot.is_null() {
                            drop(slot);
                            return Err(unbound_deref(code, i as usize));
                        }
                        *slot = Value::Null;
                    }
                    Instr::LoadClosure(i) => {
                        let cell = self.frame.cells()[i as usize].clone();
                        self.push(cell_value(cell));
                    }
                    Instr::LoadClassDeref(i) => {
                        let name = cell_name(code, i as usize);
                        let found = match self.frame.locals() {
                            Some(locals) => locals.get_str(&crate::vm::value::PyStr::new(&*name)),
                            None => None,
                        };
                        let v = match found {
                            Some(v) => v,
                            None => {
                                let v = self.frame.cells()[i as usize].value.lock().clone();
                                if v.is_null() {
                                    return Err(unbound_deref(code, i as usize));
                                }
                                v
                            }
                        };
                        self.push(v);
                    }
                    Instr::LoadGlobal(i) => {
                        let name = &code.names[i as usize];
                        let globals = &self.frame.func.globals;
                        if let Some(v) = self.global_cache.get(name, globals, &self.builtins) {
                            push_clone(&mut self.stack, v);
                            continue;
                        }
                        match self.global_cache.fill(name, globals, &self.builtins) {
                            Some(v) => self.push(v),
                            None => match self.lazy_builtin(name.as_str())? {
                                Some(v) => self.push(v),
                                None => return Err(self.name_error(name.as_str())),
                            },
                        }
                    }
                    Instr::StoreGlobal(i) => {
                        let name = &code.names[i as usize];
                        self.global_cache.evict(name);
                        let v = self.pop();
                        let old = self.frame.func.globals.replace_str(name.clone(), v);
                        if let Some(old) = old {
                            self.release(old);
                        }
                    }
                    Instr::DeleteGlobal(i) => {
                        let globals = self.frame.func.globals.clone();
                        self.delete_name(&globals, code, i as usize)?;
                    }
                    Instr::LoadName(i) => {
                        if self.frame.mapping().is_some() {
                            self.name_through_mapping(Instr::LoadName(i), code)?;
                            continue;
                        }
                        let name = &code.names[i as usize];
                        let globals = &self.frame.func.globals;
                        let v = match self.frame.locals() {
                            Some(locals) if !Brc::ptr_eq(locals, globals) => {
                                match locals.get_str(name) {
                                    Some(v) => Some(v),
                                    None => match globals.get_str(name) {
                                        Some(v) => Some(v),
                                        None => self.builtins.get_str(name),
                                    },
                                }
                            }
                            // Module level: the same lookup as `LoadGlobal`.
                            _ => match self.global_cache.get(name, globals, &self.builtins) {
                                Some(v) => Some(v.clone()),
                                None => self.global_cache.fill(name, globals, &self.builtins),
                            },
                        };
                        match v {
                            Some(v) => self.push(v),
                            None => match self.lazy_builtin(name.as_str())? {
                                Some(v) => self.push(v),
                                None => return Err(self.name_error(name.as_str())),
                            },
                        }
                    }
                    Instr::StoreName(i) => {
                        if self.frame.mapping().is_some() {
                            self.name_through_mapping(Instr::StoreName(i), code)?;
                            continue;
                        }
                        let name = &code.names[i as usize];
                        self.global_cache.evict(name);
                        let v = self.pop();
                        let old = match self.frame.locals() {
                            Some(locals) => locals.replace_str(name.clone(), v),
                            None => self.frame.func.globals.replace_str(name.clone(), v),
                        };
                        if let Some(old) = old {
                            self.release(old);
                        }
                    }
                    Instr::DeleteName(i) => {
                        if self.frame.mapping().is_some() {
                            self.name_through_mapping(Instr::DeleteName(i), code)?;
                            continue;
                        }
                        let ns = match self.frame.locals() {
                            Some(l) => l.clone(),
                            None => self.frame.func.globals.clone(),
                        };
                        self.delete_name(&ns, code, i as usize)?;
                    }
                    Instr::LoadAttr(i) => {
                        let name = &code.names[i as usize];
                        let s = site(instrs, cur);
                        if !self.load_attr_cached(s, name) {
                            if self.property_frame(s, name) {
                                continue 'frame;
                            }
                            self.load_attr_top(name.as_str())?;
                        }
                    }
                    Instr::StoreAttr(i) => {
                        let name = &code.names[i as usize];
                        if !self.store_attr_cached(site(instrs, cur), name) {
                            let obj = self.pop();
                            let v = self.pop();
                            self.set_attr(&obj, name.as_str(), v)?;
                        }
                        self.run_due_finalizers();
                    }
                    Instr::DeleteAttr(i) => {
                        let obj = self.pop();
                        self.del_attr(&obj, code.names[i as usize].as_str())?;
                        self.run_due_finalizers();
                    }
                    Instr::LoadMethod(i) => {
                        let name = &code.names[i as usize];
                        if !self.load_method_cached(site(instrs, cur), name) {
                            self.load_method_top(name.as_str())?;
                        }
                    }
                    Instr::CallMethod(n) => {
                        let fpos = self.stack.len() - n as usize - 2;
                        let astart = if self.stack[fpos + 1].is_null() {
                            fpos + 2
                        } else {
                            fpos + 1
                        };
                        if self.call_positional(fpos, astart)? {
                            self.breaker_check()?;
                            continue 'frame;
                        }
                    }
                    Instr::Call(n) => {
                        let fpos = self.stack.len() - n as usize - 1;
                        if self.call_positional(fpos, fpos + 1)? {
                            self.breaker_check()?;
                            continue 'frame;
                        }
                    }
                    Instr::CallKw(n) => {
                        let kwnames = self.pop();
                        let fpos = self.stack.len() - n as usize - 1;
                        let names: &[Value] = match &kwnames {
                            Value::Tuple(t) => &t.items,
                            _ => &[],
                        };
                        if self.do_call(fpos, fpos + 1, names)? {
                            self.breaker_check()?;
                            continue 'frame;
                        }
                    }
                    Instr::CallEx(flag) => {
                        let kwnames = self.spread_call_args(flag & 1 != 0)?;
                        let fpos = self.stack.len() - kwnames.len() - self.spread_npos - 1;
                        if self.do_call(fpos, fpos + 1, &kwnames)? {
                            self.breaker_check()?;
                            continue 'frame;
                        }
                    }
                    Instr::BinarySubscr => {
                        let key = self.pop();
                        let obj = self.pop();
                        let v = match (&obj, &key) {
                            (Value::List(l), Value::Int(i)) => {
                                let items = l.items.lock();
                                let n = items.len() as i64;
                                let j = if *i < 0 { *i + n } else { *i };
                                if j >= 0 && j < n {
                                    Some(items[j as usize].clone())
                                } else {
                                    None
                                }
                            }
                            (Value::Dict(d), Value::Str(_)) => self.dict_get(d, &key)?,
                            _ => None,
                        };
                        let v = match v {
                            Some(v) => v,
                            None => self.get_item(&obj, &key)?,
                        };
                        self.push(v);
                    }
                    Instr::StoreSubscr => {
                        let key = self.pop();
                        let obj = self.pop();
                        let v = self.pop();
                        // `list[int] = v` inline; the old item is dropped after unlocking.
                        let rest = match (&obj, &key) {
                            (Value::List(l), Value::Int(i)) => {
                                let mut items = l.items.lock();
                                let n = items.len() as i64;
                                let j = if *i < 0 { *i + n } else { *i };
                                if j >= 0 && j < n {
                                    let old = std::mem::replace(&mut items[j as usize], v);
                                    drop(items);
                                    drop_value(old);
                                    None
                                } else {
                                    Some(v)
                                }
                            }
                            // `dict[str] = v`: the key moves in, no count taken.
                            (Value::Dict(d), Value::Str(_)) => {
                                self.dict_set(d, key, v)?;
                                self.run_due_finalizers();
                                continue;
                            }
                            _ => Some(v),
                        };
                        if let Some(v) = rest {
                            self.set_item(&obj, &key, v)?;
                        }
                        self.run_due_finalizers();
                    }
                    Instr::StoreFastItem(arg) => {
                        let v = self.pop();
                        let slot = fb + (arg & 0xffff) as usize;
                        let key = &code.consts[(arg >> 16) as usize];
                        // `list[int] = v` inline; the old item is dropped after unlocking.
                        let rest = match (&self.stack[slot], key) {
                            (Value::List(l), Value::Int(i)) => {
                                let mut items = l.items.lock();
                                let n = items.len() as i64;
                                let j = if *i < 0 { *i + n } else { *i };
                                if j >= 0 && j < n {
                                    let old = std::mem::replace(&mut items[j as usize], v);
                                    drop(items);
                                    drop_value(old);
                                    None
                                } else {
                                    Some(v)
                                }
                            }
                            _ => Some(v),
                        };
                        if let Some(v) = rest {
                            let obj = self.stack[slot].clone();
                            if obj.is_null() {
                                let i = (arg & 0xffff) as usize;
                                return Err(unbound_local(&code.code.varnames[i]));
                            }
                            self.set_item(&obj, &key.clone(), v)?;
                        }
                        self.run_due_finalizers();
                    }
                    Instr::DeleteSubscr => {
                        let key = self.pop();
                        let obj = self.pop();
                        self.del_item(&obj, &key)?;
                        self.run_due_finalizers();
                    }
                    Instr::BuildSlice(n) => {
                        let step = if n == 3 { self.pop() } else { Value::None };
                        let stop = self.pop();
                        let start = self.pop();
                        self.push(Value::Object(Arc::new(Object {
                            class: types().slice.clone(),
                            kind: ObjKind::Slice { start, stop, step },
                        })));
                    }
                    Instr::BinaryOp(op) => {
                        let len = self.stack.len();
                        let fast = scalar_binary(&self.stack[len - 2], &self.stack[len - 1], op);
                        if fast.is_some() {
                            // Both operands are scalars: overwrite the left one in place.
                            forget_top(&mut self.stack);
                            match (fast, instrs.get(pc)) {
                                // `return a + b`: the return moves the value
                                // whole, which would not forward from the
                                // payload-only update below (see `slot`).
                                (Num::I(r), Some(Instr::ReturnValue)) => {
                                    // SAFETY: the left operand was an int,
                                    // which owns nothing.
                                    unsafe { slot::write_int(&mut self.stack[len - 2], r) }
                                }
                                _ => set_scalar(&mut self.stack[len - 2], fast),
                            }
                        } else if !self.str_concat_in_place(op, instrs.get(pc), fb)? {
                            let b = self.pop();
                            let a = self.pop();
                            let v = self.binary_op(&a, &b, BinaryOpKind::from_u32(op))?;
                            drop_value(a);
                            drop_value(b);
                            self.push(v);
                        }
                    }
                    Instr::UnaryOp(op) => {
                        let a = self.pop();
                        let op = UnaryOpKind::from_u32(op);
                        let v = match (&a, op) {
                            (Value::Int(x), UnaryOpKind::Neg) if *x != i64::MIN => Value::Int(-x),
                            (Value::Float(x), UnaryOpKind::Neg) => Value::Float(-x),
                            (Value::Bool(b), UnaryOpKind::Not) => Value::Bool(!b),
                            (_, UnaryOpKind::Not) => Value::Bool(!self.truth(&a)?),
                            _ => self.unary_op(&a, op)?,
                        };
                        self.push(v);
                    }
                    Instr::CompareOp(op) => {
                        let len = self.stack.len();
                        let fast = scalar_compare(&self.stack[len - 2], &self.stack[len - 1], op);
                        if let Some(r) = fast {
                            forget_top(&mut self.stack);
                            // A conditional jump right after consumes the result directly.
                            match jump_on(instrs.get(cur + 1), r, cur + 2) {
                                Some(to) => {
                                    forget_top(&mut self.stack);
                                    pc = to;
                                }
                                None => set_scalar(&mut self.stack[len - 2], Num::B(r)),
                            }
                        } else {
                            let b = self.pop();
                            let a = self.pop();
                            let v = match (&a, &b) {
                                (Value::Str(x), Value::Str(y)) => {
                                    Value::Bool(cmp_op(x.as_str(), y.as_str(), op))
                                }
                                _ => self.compare(&a, &b, CompareKind::from_u32(op))?,
                            };
                            drop_value(a);
                            drop_value(b);
                            self.push(v);
                        }
                    }
                    Instr::IsOp(inv) => {
                        let b = self.pop();
                        let a = self.pop();
                        self.push(Value::Bool(a.is(&b) != (inv != 0)));
                    }
                    Instr::ContainsOp(inv) => {
                        let b = self.pop();
                        let a = self.pop();
                        let r = self.contains(&b, &a)?;
                        self.push(Value::Bool(r != (inv != 0)));
                    }
                    Instr::BuildTuple(n) => {
                        let items = self.pop_n(n as usize);
                        self.push(Value::tuple(items));
                    }
                    Instr::BuildList(n) => {
                        let items = self.pop_n(n as usize);
                        self.push(Value::list(items));
                    }
                    Instr::BuildSet(n) => {
                        let items = self.pop_n(n as usize);
                        let set = self.call(
                            &Value::Class(types().set.clone()),
                            &[Value::list(items)],
                            &[],
                        )?;
                        self.push(set);
                    }
                    Instr::BuildMap(n) => {
                        let items = self.pop_n(2 * n as usize);
                        let d = Value::Dict(Brc::new(PyDict::new()));
                        let mut it = items.into_iter();
                        while let (Some(k), Some(v)) = (it.next(), it.next()) {
                            self.set_item(&d, &k, v)?;
                        }
                        self.push(d);
                    }
                    Instr::BuildString(n) => {
                        let items = self.pop_n(n as usize);
                        let mut s = String::new();
                        for item in &items {
                            if let Value::Str(p) = item {
                                s.push_str(p.as_str());
                            }
                        }
                        self.push(Value::from_string(s));
                    }
                    Instr::FormatValue(fl) => {
                        let spec = if fl & 4 != 0 { Some(self.pop()) } else { None };
                        let v = self.pop();
                        let v = match fl & 3 {
                            1 => Value::from_string(self.to_str(&v)?),
                            2 => Value::from_string(self.repr(&v)?),
                            3 => Value::from_string(ascii_escape(&self.repr(&v)?)),
                            _ => v,
                        };
                        let spec = spec.as_ref().and_then(|s| s.as_str()).unwrap_or("");
                        let out = match &v {
                            Value::Str(_) if spec.is_empty() => v,
                            _ => Value::from_string(self.format(&v, spec)?),
                        };
                        self.push(out);
                    }
                    Instr::ListAppend(n) => {
                        let v = self.pop();
                        let len = self.stack.len();
                        match &self.stack[len - n as usize] {
                            Value::List(l) => l.items.lock().push(v),
                            other => {
                                let other = other.clone();
                                self.call_method(&other, "append", &[v])?;
                            }
                        }
                    }
                    Instr::SetAdd(n) => {
                        let v = self.pop();
                        let len = self.stack.len();
                        let set = self.stack[len - n as usize].clone();
                        self.call_method(&set, "add", &[v])?;
                    }
                    Instr::MapAdd(n) => {
                        let v = self.pop();
                        let k = self.pop();
                        let len = self.stack.len();
                        let d = self.stack[len - n as usize].clone();
                        self.set_item(&d, &k, v)?;
                    }
                    Instr::ListExtend(n) => {
                        let iterable = self.pop();
                        let len = self.stack.len();
                        let list = self.stack[len - n as usize].clone();
                        let items = match self.collect(&iterable) {
                            Ok(items) => items,
                            Err(e) if e.matches(ExcKind::TypeError) && !is_iterable(&iterable) => {
                                return Err(PyErr::type_error(format!(
                                    "Value after * must be an iterable, not {}",
                                    type_name(&iterable)
                                )))
                            }
                            Err(e) => return Err(e),
                        };
                        if let Value::List(l) = &list {
                            l.items.lock().extend(items);
                        }
                    }
                    Instr::SetUpdate(n) => {
                        let iterable = self.pop();
                        let len = self.stack.len();
                        let set = self.stack[len - n as usize].clone();
                        self.call_method(&set, "update", &[iterable])?;
                    }
                    Instr::DictUpdate(n) => {
                        let mapping = self.pop();
                        let len = self.stack.len();
                        let d = self.stack[len - n as usize].clone();
                        self.merge_mapping(&d, &mapping, None)?;
                    }
                    Instr::DictMerge(n) => {
                        let mapping = self.pop();
                        let len = self.stack.len();
                        let d = self.stack[len - n as usize].clone();
                        let func = self
                            .stack
                            .get((len - n as usize).saturating_sub(2))
                            .cloned()
                            .unwrap_or(Value::None);
                        self.merge_mapping(&d, &mapping, Some(&func))?;
                    }
                    Instr::ListToTuple => {
                        let v = self.pop();
                        let t = match &v {
                            Value::List(l) => Value::tuple(l.items.lock().clone()),
                            _ => v,
                        };
                        self.push(t);
                    }
                    Instr::UnpackSequence(n) => {
                        let v = self.pop();
                        self.unpack(v, n as usize)?;
                    }
                    Instr::UnpackEx(arg) => {
                        let v = self.pop();
                        self.unpack_ex(v, (arg & 0xff) as usize, (arg >> 8) as usize)?;
                    }
                    Instr::Jump(target) => {
                        pc = target as usize;
                        if pc <= cur {
                            self.breaker_check()?;
                        }
                    }
                    Instr::PopJumpIfFalse(target) => {
                        let v = self.pop();
                        if !self.truth(&v)? {
                            pc = target as usize;
                        }
                        drop_value(v);
                    }
                    Instr::PopJumpIfTrue(target) => {
                        let v = self.pop();
                        if self.truth(&v)? {
                            pc = target as usize;
                        }
                        drop_value(v);
                    }
                    Instr::JumpIfFalseOrPop(target) => {
                        let v = self.top().clone();
                        if !self.truth(&v)? {
                            pc = target as usize;
                        } else {
                            self.stack.pop();
                        }
                    }
                    Instr::JumpIfTrueOrPop(target) => {
                        let v = self.top().clone();
                        if self.truth(&v)? {
                            pc = target as usize;
                        } else {
                            self.stack.pop();
                        }
                    }
                    Instr::GetIter => {
                        let v = self.pop();
                        let it = self.iter(&v)?;
                        self.push(it);
                    }
                    Instr::ForIter(target) | Instr::ForIterStore(target) => {
                        let len = self.stack.len();
                        let quick = match &self.stack[len - 1] {
                            Value::Object(o) => match &o.kind {
                                ObjKind::Iter(st) => Vm::next_quick(st),
                                _ => None,
                            },
                            _ => None,
                        };
                        match quick {
                            Some(Some(v)) => {
                                // `ForIterStore` does the `StoreFast` after it too.
                                if let (Instr::ForIterStore(_), Some(&Instr::StoreFast(i))) =
                                    (instr, instrs.get(pc))
                                {
                                    let old =
                                        std::mem::replace(&mut self.stack[fb + i as usize], v);
                                    self.release(old);
                                    pc += 1;
                                    self.frame.pc = pc as u32;
                                } else {
                                    push_value(&mut self.stack, v);
                                }
                                continue;
                            }
                            Some(None) => {
                                self.stack.pop();
                                pc = target as usize;
                                continue;
                            }
                            None => {}
                        }
                        // Borrow the iterator out of the stack for the call (saves
                        // a count); nothing reads this slot meanwhile.
                        let it = std::mem::replace(&mut self.stack[len - 1], Value::Null);
                        let r = self.next(&it);
                        self.stack[len - 1] = it;
                        match r? {
                            Some(v) => self.push(v),
                            None => {
                                self.stack.pop();
                                pc = target as usize;
                            }
                        }
                    }
                    Instr::MakeFunction(fl) => {
                        let f = self.make_function(fl)?;
                        self.push(f);
                    }
                    Instr::ReturnValue => {
                        let v = self.pop();
                        if self.frames.len() == entry {
                            drop(self.finish_frame());
                            return Ok(Exit::Return(v));
                        }
                        let init = self.return_to_caller();
                        let v = if init.is_null() {
                            v
                        } else {
                            // The level the class call held (`construct_frame`).
                            self.depth -= 1;
                            if !v.is_none() {
                                return Err(PyErr::type_error(format!(
                                    "__init__() should return None, not '{}'",
                                    type_name(&v)
                                )));
                            }
                            init
                        };
                        self.push(v);
                        continue 'frame;
                    }
                    Instr::LoadBuildClass => {
                        let v = self.interp.build_class.clone();
                        self.push(v);
                    }
                    Instr::YieldValue => {
                        let v = self.pop();
                        if self.frames.len() != entry {
                            return Err(PyErr::new(
                                ExcKind::SystemError,
                                "yield outside a generator frame",
                            ));
                        }
                        let frame = self.suspend_frame();
                        return Ok(Exit::Yield(v, frame));
                    }
                    Instr::GetYieldFromIter => {
                        let v = self.pop();
                        let it = match &v {
                            Value::Object(o) if matches!(o.kind, ObjKind::Generator(_)) => v,
                            _ => self.iter(&v)?,
                        };
                        self.push(it);
                    }
                    Instr::YieldFrom => {
                        let v = self.pop();
                        let it = self.top().clone();
                        match self.yield_from_step(&it, v)? {
                            Ok(y) => {
                                // Suspend here; on resume the sent value is pushed
                                // and this instruction runs again.
                                self.frame.pc = cur as u32;
                                if self.frames.len() != entry {
                                    return Err(PyErr::new(
                                        ExcKind::SystemError,
                                        "yield outside a generator frame",
                                    ));
                                }
                                let frame = self.suspend_frame();
                                return Ok(Exit::Yield(y, frame));
                            }
                            Err(result) => {
                                self.stack.pop();
                                self.push(result);
                            }
                        }
                    }
                    Instr::GetAwaitable => {
                        let v = self.pop();
                        let it = self.get_awaitable(v)?;
                        self.push(it);
                    }
                    Instr::SetupExcept(h) | Instr::SetupFinally(h) => {
                        let depth = (self.stack.len() - fb) as u32;
                        self.frame.push_block(Block {
                            kind: BlockKind::Handler,
                            handler: h,
                            depth,
                        });
                    }
                    Instr::PopBlock => {
                        self.frame.pop_block();
                    }
                    Instr::PushExcInfo => {
                        let exc = self.pop();
                        if let Value::Instance(i) = &exc {
                            crate::vm::exceptions::fill_derived_attrs(i);
                        }
                        let prev = std::mem::replace(&mut self.handled, exc.clone());
                        self.push(prev);
                        let depth = (self.stack.len() - fb) as u32;
                        self.frame.push_block(Block {
                            kind: BlockKind::ExceptHandler,
                            handler: 0,
                            depth,
                        });
                        self.push(exc);
                    }
                    Instr::PopExcept => {
                        if let Some(b) = self.frame.blocks().last() {
                            if b.kind == BlockKind::ExceptHandler {
                                self.frame.pop_block();
                            }
                        }
                        self.handled = self.pop();
                    }
                    Instr::CheckExcMatch => {
                        let typ = self.pop();
                        let exc = self.top().clone();
                        let m = exc_matches(&exc, &typ)?;
                        self.push(Value::Bool(m));
                    }
                    Instr::CheckEgMatch => {
                        let typ = self.pop();
                        let exc = self.pop();
                        let (rest, matched) = self.exception_group_match(exc, typ)?;
                        self.push(rest);
                        self.push(matched);
                    }
                    Instr::PrepReraiseStar => {
                        let raised = self.pop();
                        let orig = self.pop();
                        let v = self.prep_reraise_star(orig, raised)?;
                        self.push(v);
                    }
                    Instr::Raise(n) => {
                        return Err(self.raise(n)?);
                    }
                    Instr::Reraise => {
                        let exc = self.pop();
                        self.raise_mode = RaiseMode::Reraise;
                        return Err(match exc {
                            Value::Instance(i) => PyErr { exc: i },
                            other => {
                                self.raise_mode = RaiseMode::Fresh;
                                PyErr::new(
                                    ExcKind::SystemError,
                                    format!("reraise of a non-exception {}", type_name(&other)),
                                )
                            }
                        });
                    }
                    Instr::BeforeWith => {
                        // `__enter__` may take a lock a pending `__del__`
                        // takes too: CPython would have run it already.
                        self.run_due_finalizers();
                        let ctx = self.pop();
                        let (exit, enter_result) = self.before_with(&ctx)?;
                        self.push(exit);
                        self.push(enter_result);
                    }
                    Instr::WithExceptStart => {
                        let len = self.stack.len();
                        let exit = self.stack[len - 3].clone();
                        let exc = self.stack[len - 1].clone();
                        let typ = Value::Class(types().class_of(&exc).clone());
                        let tb = match &exc {
                            Value::Instance(i) => match &i.base {
                                InstanceBase::Exception(data) => {
                                    crate::stdlib::traceback::traceback_object(data)
                                }
                                _ => Value::None,
                            },
                            _ => Value::None,
                        };
                        let r = self.call(&exit, &[typ, exc, tb], &[])?;
                        self.push(r);
                    }
                    Instr::LoadAssertionError => {
                        self.push(Value::Class(
                            types().exception(ExcKind::AssertionError).clone(),
                        ));
                    }
                    Instr::ImportName(i) => {
                        let fromlist = self.pop();
                        let level = self.pop();
                        let m =
                            self.import_name(code.names[i as usize].as_str(), &fromlist, &level)?;
                        self.push(m);
                    }
                    Instr::ImportFrom(i) => {
                        let m = self.top().clone();
                        let v = self.import_from(&m, code.names[i as usize].as_str())?;
                        self.push(v);
                    }
                    Instr::ImportStar => {
                        let m = self.pop();
                        self.import_star(&m)?;
                    }
                    Instr::PrintExpr => {
                        let v = self.pop();
                        self.print_expr(v)?;
                    }
                }
            }
        }
    }

    /// Truth value with the common cases inline.
    #[inline(always)]
    fn truth(&mut self, v: &Value) -> PyResult<bool> {
        match v {
            Value::Bool(b) => Ok(*b),
            Value::Int(i) => Ok(*i != 0),
            Value::None => Ok(false),
            _ => self.is_true(v),
        }
    }

    /// Call the callable at `slots[fpos]` with the arguments `slots[astart..]`
    /// (the last `kwnames.len()` of them by keyword). A script function gets
    /// a new frame and `true` is returned; otherwise the result is pushed.
    fn do_call(&mut self, fpos: usize, astart: usize, kwnames: &[Value]) -> PyResult<bool> {
        // Move the callee out of the stack: no count is touched on the fast path.
        let callee = slot::take(&mut self.stack[fpos]);
        let mut astart = astart;
        let callee = match callee {
            Value::BoundMethod(bm) => self.unbind(bm, fpos, &mut astart),
            other => other,
        };
        let callee = match callee {
            // `str(x)`, as common as any call of a built-in type.
            Value::Class(c)
                if kwnames.is_empty()
                    && self.stack.len() == astart + 1
                    && Arc::ptr_eq(&c, &types().str_) =>
            {
                self.run_due_finalizers();
                if self.depth >= self.interp.recursion_limit() {
                    return Err(PyErr::new(
                        ExcKind::RecursionError,
                        "maximum recursion depth exceeded while getting the str of an object",
                    ));
                }
                let arg = self.pop();
                let v = crate::vm::str::str_of(self, &arg)?;
                truncate(&mut self.stack, fpos);
                self.push(v);
                self.breaker_check()?;
                return Ok(false);
            }
            Value::Function(f)
                if f.code.code.flags & (flags::GENERATOR | flags::COROUTINE) == 0 =>
            {
                self.push_function_frame(f, fpos, astart, kwnames)?;
                return Ok(true);
            }
            Value::Class(c) if kwnames.is_empty() => match self.cached_construct(&c) {
                Construct::Frame(init) => {
                    self.construct_frame(c, init, fpos, astart)?;
                    return Ok(true);
                }
                Construct::Native(new) => {
                    self.stack.insert(astart, Value::Class(c));
                    Value::Native(new)
                }
                Construct::General => Value::Class(c),
            },
            other => other,
        };
        let nargs = self.stack.len() - astart;
        self.run_due_finalizers();
        if let (Value::Native(nf), true) = (&callee, kwnames.is_empty() && nargs <= SMALL_CALL) {
            self.call_native_small(nf, fpos, astart)?;
            return Ok(false);
        }
        if let Value::Native(nf) = &callee {
            self.native_depth_check(nf)?;
        }
        let mut args = self.take_vec(nargs);
        for v in self.stack[astart..].iter_mut() {
            args.push(std::mem::replace(v, Value::Null));
        }
        truncate(&mut self.stack, fpos);
        let r = match &callee {
            Value::Native(nf) if kwnames.is_empty() => (nf.func)(self, &args, &[]),
            _ => self.call_kw(&callee, &args, kwnames),
        };
        self.give_vec(args);
        let v = r?;
        self.push(v);
        self.breaker_check()?;
        Ok(false)
    }

    /// `C(args)` where `C`'s instances come from `object.__new__` and its
    /// `__init__` is the script function `init`: the new instance goes into
    /// the class's (emptied) slot at `fpos`, which keeps it for the return,
    /// and below the arguments as `self`; `__init__` then runs as a frame.
    fn construct_frame(
        &mut self,
        class: Arc<Class>,
        init: Brc<Function>,
        fpos: usize,
        astart: usize,
    ) -> PyResult<()> {
        // CPython calls `__init__` from C (`type_call`), a level of its own
        // held while `__init__` runs: the frame's return or unwinding gives
        // it back (`construct_level_done`).
        if self.depth >= self.interp.recursion_limit() {
            return Err(PyErr::new(
                ExcKind::RecursionError,
                "maximum recursion depth exceeded while calling a Python object",
            ));
        }
        self.depth += 1;
        let inst = crate::vm::class::new_instance_of(class);
        let this = slot::clone(&inst);
        // `insert` for the usual handful of arguments, without a memmove call.
        let len = self.stack.len();
        push_value(&mut self.stack, this);
        let mut i = len;
        while i > astart {
            self.stack.swap(i, i - 1);
            i -= 1;
        }
        drop(slot::replace(&mut self.stack[fpos], inst));
        let nargs = len + 1 - astart;
        if init.code.plain_arity as usize == nargs && self.depth < self.interp.recursion_limit() {
            self.enter_plain_frame(init, fpos, astart);
            return Ok(());
        }
        let pushed = self.push_function_frame(init, fpos, astart, &[]);
        if pushed.is_err() {
            self.depth -= 1;
        }
        pushed
    }

    /// A bound method of a script or built-in function called from `fpos`:
    /// its receiver goes on the stack as the first argument, in the empty
    /// self slot `CallMethod` leaves when the method came bound
    /// (`super().f()`, `self.callback()`), so that its frame runs in this
    /// loop; the function is returned. Out of line: the dispatch loop's
    /// code around calls stays as small as before.
    #[inline(never)]
    fn unbind(&mut self, bm: Arc<BoundMethod>, fpos: usize, astart: &mut usize) -> Value {
        if !matches!(bm.func, Value::Function(_) | Value::Native(_)) {
            return Value::BoundMethod(bm);
        }
        if *astart == fpos + 1 {
            self.stack.insert(fpos + 1, bm.receiver.clone());
        } else if *astart == fpos + 2 && self.stack[fpos + 1].is_null() {
            self.stack[fpos + 1] = bm.receiver.clone();
            *astart = fpos + 1;
        } else {
            return Value::BoundMethod(bm);
        }
        bm.func.clone()
    }

    /// `Call`/`CallMethod`: the callable at `fpos`, positional arguments
    /// from `astart`; `true` when a script frame was pushed (see `do_call`).
    #[inline(always)]
    fn call_positional(&mut self, fpos: usize, astart: usize) -> PyResult<bool> {
        if self.plain_call(fpos, astart) {
            return Ok(true);
        }
        if matches!(self.stack[fpos], Value::Native(_)) && self.native_call(fpos, astart)? {
            return Ok(false);
        }
        self.do_call(fpos, astart, &[])
    }

    /// `Call`/`CallMethod` of a native function with at most `SMALL_CALL`
    /// positional arguments (most native calls): the arguments move into a
    /// local array, not a pooled vector, and the call skips `do_call`.
    /// `false` (nothing done) when `stack[fpos]` is not such a call.
    #[inline(never)]
    fn native_call(&mut self, fpos: usize, astart: usize) -> PyResult<bool> {
        if let Value::Native(nf) = &self.stack[fpos] {
            if let Some(fast) = nf.fast {
                if let Some(v) = fast(&mut self.stack[astart..]) {
                    // The callee is a native: its count is dropped inline,
                    // not through the generic drop glue `truncate` calls.
                    if let Value::Native(nf) = slot::take(&mut self.stack[fpos]) {
                        drop(nf);
                    }
                    truncate(&mut self.stack, fpos);
                    push_value(&mut self.stack, v);
                    self.breaker_check()?;
                    return Ok(true);
                }
            }
        }
        if self.stack.len() - astart > SMALL_CALL {
            return Ok(false);
        }
        self.run_due_finalizers();
        let nf = match slot::take(&mut self.stack[fpos]) {
            Value::Native(nf) => nf,
            other => {
                self.stack[fpos] = other;
                return Ok(false);
            }
        };
        self.call_native_small(&nf, fpos, astart)?;
        Ok(true)
    }

    #[inline(always)]
    fn call_native_small(
        &mut self,
        nf: &NativeFunction,
        fpos: usize,
        astart: usize,
    ) -> PyResult<()> {
        let nargs = self.stack.len() - astart;
        debug_assert!(nargs <= SMALL_CALL);
        self.native_depth_check(nf)?;
        // Uninitialised, not `Null`s: a tag byte stored first and the whole
        // argument over it later would make the 16-byte load that drops it
        // wait on both stores (see `slot`).
        let mut args = [const { std::mem::MaybeUninit::<Value>::uninit() }; SMALL_CALL];
        // Everything from `fpos` up is `Null` (the callee was taken) or an
        // argument moved into `args` here, so the stack is cut without drops.
        debug_assert!(self.stack[fpos..astart].iter().all(Value::is_null));
        // SAFETY: `astart + nargs == len` and `nargs <= SMALL_CALL`: each
        // argument is read once into `args` (which does not overlap the
        // stack) and forgotten by the stack, whose length drops to `fpos`.
        unsafe {
            let src = self.stack.as_ptr().add(astart);
            for (i, a) in args.iter_mut().take(nargs).enumerate() {
                a.write(std::ptr::read(src.add(i)));
            }
            self.stack.set_len(fpos);
        }
        // SAFETY: the first `nargs` entries were written just above.
        let args = unsafe { &mut *(&mut args[..nargs] as *mut [_] as *mut [Value]) };
        let r = (nf.func)(self, args, &[]);
        for a in args.iter_mut() {
            // SAFETY: each argument is dropped once, here, and `args` is
            // `MaybeUninit` storage, which never drops its contents.
            // (A whole-value load: see `slot`.)
            unsafe { slot::drop_in_place(a) };
        }
        push_value(&mut self.stack, r?);
        self.breaker_check()
    }

    /// Make a frame for `f` the running frame, its arguments bound in place
    /// at `astart` on the stack; its result will replace the stack from
    /// `fpos` up. `stack[fpos]` is `Null`, or for an inlined `__init__` the
    /// instance the call produces.
    #[inline]
    fn push_function_frame(
        &mut self,
        f: Brc<Function>,
        fpos: usize,
        astart: usize,
        kwnames: &[Value],
    ) -> PyResult<()> {
        let code = &f.code.code;
        let nargs = self.stack.len() - astart;
        let argcount = code.argcount as usize;
        let simple = kwnames.is_empty()
            && code.flags & (flags::VARARGS | flags::VARKEYWORDS) == 0
            && code.kwonlyargcount == 0;
        if simple && nargs < argcount && argcount - nargs <= f.defaults.len() {
            // Trailing parameters left to their defaults (`q.put(item)`):
            // the defaults follow the arguments, as binding would put them.
            let defaults = &f.defaults[f.defaults.len() - (argcount - nargs)..];
            self.stack.extend(defaults.iter().cloned());
        } else if !(simple && nargs == argcount) {
            self.bind_on_stack(&f, astart, kwnames)?;
        }
        if self.depth >= self.interp.recursion_limit() {
            return Err(recursion_error());
        }
        let code = &f.code.code;
        let nlocals = code.varnames.len();
        if self.stack.len() < astart + nlocals {
            self.stack.resize(astart + nlocals, Value::Null);
        }
        let cells = if code.cellvars.is_empty() && code.freevars.is_empty() {
            Vec::new()
        } else {
            crate::vm::frame::make_cells(&f, &self.stack[astart..])
        };
        let callee = Frame::running(f, astart as u32, fpos as u32, nlocals as u32, cells);
        self.enter_frame(callee);
        Ok(())
    }

    /// The call fast path: when `stack[fpos]` is a plain function (see
    /// `CodeObj::plain_arity`) given exactly its parameter count of
    /// positional arguments (`stack[astart..]`), those are its first local
    /// slots already, and its frame becomes the running one. `false` (and
    /// nothing done) otherwise, for `do_call`.
    #[inline(always)]
    fn plain_call(&mut self, fpos: usize, astart: usize) -> bool {
        let nargs = self.stack.len() - astart;
        let plain = match &self.stack[fpos] {
            Value::Function(f) => f.code.plain_arity as usize == nargs,
            _ => false,
        };
        if !plain || self.depth >= self.interp.recursion_limit() {
            return false;
        }
        // Moved out of the stack: no count is touched.
        let Value::Function(f) = slot::take(&mut self.stack[fpos]) else {
            return false;
        };
        self.enter_plain_frame(f, fpos, astart);
        true
    }

    /// Run plain function `f` (see `CodeObj::plain_arity`) whose arguments
    /// are on the stack from `astart`: they are its first local slots
    /// already; the rest start unbound.
    #[inline(always)]
    fn enter_plain_frame(&mut self, f: Brc<Function>, fpos: usize, astart: usize) {
        let nlocals = f.code.code.varnames.len();
        if self.stack.len() < astart + nlocals {
            self.stack.resize(astart + nlocals, Value::Null);
        }
        self.enter_frame(Frame::plain(f, astart as u32, fpos as u32, nlocals as u32));
    }

    /// `LoadAttr` of a property whose getter is a plain function (see
    /// `ops::plain_property_getter`): `[obj]` becomes `[getter, obj]` and
    /// the getter's frame runs here, as a call would, instead of in a
    /// nested dispatch loop. `false` (the stack as it was) otherwise. Out
    /// of line, as the rest of `LoadAttr`'s slow path.
    #[inline(never)]
    fn property_frame(&mut self, site: usize, name: &Brc<PyStr>) -> bool {
        let Some(getter) = self.property_getter_cached(site, name) else {
            return false;
        };
        let top = self.stack.len() - 1;
        let obj = std::mem::replace(&mut self.stack[top], getter);
        push_value(&mut self.stack, obj);
        if self.plain_call(top, top + 1) {
            return true;
        }
        // At the recursion limit: the general path raises.
        if let Some(obj) = self.stack.pop() {
            self.stack[top] = obj;
        }
        false
    }

    /// Make `callee` the running frame, its caller moved onto the frame stack.
    #[inline(always)]
    fn enter_frame(&mut self, callee: Frame) {
        self.frames.reserve(1);
        // The caller moves onto the frame stack and the callee is written
        // straight into `self.frame`: `mem::replace` would go through
        // temporaries, and reloading those in 16-byte chunks stalls on
        // store forwarding, on every call.
        // SAFETY: `self.frame` is read out once and overwritten before anything
        // else can observe it; nothing in between can panic (`push` has the
        // room reserved above), so it is never dropped twice or left moved-from.
        unsafe {
            let caller = std::ptr::read(&self.frame);
            push_value(&mut self.frames, caller);
            Frame::write_fields(&mut self.frame, callee);
        }
        self.depth += 1;
    }

    /// General argument binding (defaults, keywords, `*args`, `**kwargs`):
    /// replace the arguments at `astart` by the bound local slots.
    #[inline(never)]
    fn bind_on_stack(
        &mut self,
        f: &Brc<Function>,
        astart: usize,
        kwnames: &[Value],
    ) -> PyResult<()> {
        let mut bound = self.take_vec(f.code.code.varnames.len());
        let r = crate::vm::call::bind_args(
            f,
            &self.stack[astart..],
            crate::vm::call::KwView::Names(kwnames),
            &mut bound,
        );
        if let Err(e) = r {
            self.give_vec(bound);
            return Err(e);
        }
        truncate(&mut self.stack, astart);
        self.stack.append(&mut bound);
        self.give_vec(bound);
        Ok(())
    }

    /// `CallEx`: replace `[f, args, kwargs?]` on the stack by `[f, *args,
    /// *kwvalues]` and return the keyword names (`spread_npos` = positional count).
    fn spread_call_args(&mut self, has_kw: bool) -> PyResult<Vec<Value>> {
        let kwargs = if has_kw { Some(self.pop()) } else { None };
        let args = self.pop();
        let func = self.top().clone();
        let positional = match &args {
            Value::Tuple(t) => t.items.to_vec(),
            Value::List(l) => l.items.lock().clone(),
            _ => match self.collect(&args) {
                Ok(v) => v,
                Err(e) if e.matches(ExcKind::TypeError) && !is_iterable(&args) => {
                    return Err(PyErr::type_error(format!(
                        "{} argument after * must be an iterable, not {}",
                        crate::vm::call::function_str(&func),
                        type_name(&args)
                    )))
                }
                Err(e) => return Err(e),
            },
        };
        self.spread_npos = positional.len();
        self.stack.extend(positional);
        let mut names = Vec::new();
        match kwargs {
            None | Some(Value::None) => {}
            Some(Value::Dict(d)) => {
                let pairs: Vec<(Value, Value)> = d
                    .map
                    .lock()
                    .iter()
                    .map(|(k, v)| (k.key.clone(), v.clone()))
                    .collect();
                for (k, v) in pairs {
                    if !matches!(k, Value::Str(_)) {
                        return Err(PyErr::type_error("keywords must be strings"));
                    }
                    names.push(k);
                    self.stack.push(v);
                }
            }
            Some(other) => {
                // A mapping that is not a dict: go through a fresh dict.
                let d = Value::Dict(Brc::new(PyDict::new()));
                self.merge_mapping(&d, &other, Some(&func))?;
                if let Value::Dict(d) = &d {
                    let pairs: Vec<(Value, Value)> = d
                        .map
                        .lock()
                        .iter()
                        .map(|(k, v)| (k.key.clone(), v.clone()))
                        .collect();
                    for (k, v) in pairs {
                        if !matches!(k, Value::Str(_)) {
                            return Err(PyErr::type_error("keywords must be strings"));
                        }
                        names.push(k);
                        self.stack.push(v);
                    }
                }
            }
        }
        Ok(names)
    }

    /// `{**m}` and `f(**m)`: copy a mapping's items into the dict `d`.
    /// With `func`, a repeated key is an error naming the function.
    fn merge_mapping(&mut self, d: &Value, mapping: &Value, func: Option<&Value>) -> PyResult<()> {
        let pairs: Vec<(Value, Value)> = match mapping {
            Value::Dict(m) => m
                .map
                .lock()
                .iter()
                .map(|(k, v)| (k.key.clone(), v.clone()))
                .collect(),
            _ => {
                let keys = match self.get_attr_opt(mapping, "keys")? {
                    Some(k) => k,
                    None => {
                        return Err(PyErr::type_error(match func {
                            Some(f) => format!(
                                "{} argument after ** must be a mapping, not {}",
                                crate::vm::call::function_str(f),
                                type_name(mapping)
                            ),
                            None => format!("'{}' object is not a mapping", type_name(mapping)),
                        }))
                    }
                };
                let keys = self.call(&keys, &[], &[])?;
                let keys = self.collect(&keys)?;
                let mut pairs = Vec::with_capacity(keys.len());
                for k in keys {
                    let v = self.get_item(mapping, &k)?;
                    pairs.push((k, v));
                }
                pairs
            }
        };
        for (k, v) in pairs {
            if let Some(f) = func {
                let Value::Str(name) = &k else {
                    return Err(PyErr::type_error("keywords must be strings"));
                };
                if self.contains(d, &k)? {
                    return Err(PyErr::type_error(format!(
                        "{} got multiple values for keyword argument '{}'",
                        crate::vm::call::function_str(f),
                        name.as_str()
                    )));
                }
            }
            self.set_item(d, &k, v)?;
        }
        Ok(())
    }

    /// The items of `v` for unpacking, or CPython's error for a non-iterable.
    fn unpack_items(&mut self, v: &Value, limit: Option<usize>) -> PyResult<Vec<Value>> {
        match v {
            Value::Tuple(t) => return Ok(t.items.to_vec()),
            Value::List(l) => return Ok(l.items.lock().clone()),
            _ => {}
        }
        let it = match self.iter(v) {
            Ok(it) => it,
            Err(e) if e.matches(ExcKind::TypeError) && !is_iterable(v) => {
                return Err(PyErr::type_error(format!(
                    "cannot unpack non-iterable {} object",
                    type_name(v)
                )))
            }
            Err(e) => return Err(e),
        };
        let mut items = Vec::new();
        while let Some(x) = self.next(&it)? {
            items.push(x);
            if limit.is_some_and(|n| items.len() > n) {
                break;
            }
        }
        Ok(items)
    }

    fn unpack(&mut self, v: Value, n: usize) -> PyResult<()> {
        // Exact-length tuples and lists: no intermediate vector.
        match &v {
            Value::Tuple(t) if t.items.len() == n => {
                // `slot::clone`: no call through `Value::clone`'s jump table.
                self.stack.extend(t.items.iter().rev().map(slot::clone));
                return Ok(());
            }
            Value::List(l) => {
                let items = l.items.lock();
                if items.len() == n {
                    self.stack.extend(items.iter().rev().map(slot::clone));
                    return Ok(());
                }
            }
            _ => {}
        }
        let items = self.unpack_items(&v, Some(n))?;
        if items.len() > n {
            return Err(PyErr::value_error(format!(
                "too many values to unpack (expected {n})"
            )));
        }
        if items.len() < n {
            return Err(PyErr::value_error(format!(
                "not enough values to unpack (expected {n}, got {})",
                items.len()
            )));
        }
        self.stack.extend(items.into_iter().rev());
        Ok(())
    }

    fn unpack_ex(&mut self, v: Value, before: usize, after: usize) -> PyResult<()> {
        let mut items = self.unpack_items(&v, None)?;
        if items.len() < before + after {
            return Err(PyErr::value_error(format!(
                "not enough values to unpack (expected at least {}, got {})",
                before + after,
                items.len()
            )));
        }
        let tail = items.split_off(items.len() - after);
        let middle = items.split_off(before);
        self.stack.extend(tail.into_iter().rev());
        self.push(Value::list(middle));
        self.stack.extend(items.into_iter().rev());
        Ok(())
    }

    fn make_function(&mut self, fl: u32) -> PyResult<Value> {
        let qualname = self.pop();
        let code_v = self.pop();
        let closure: Box<[Arc<Cell>]> = if fl & 8 != 0 {
            match self.pop() {
                Value::Tuple(t) => t
                    .items
                    .iter()
                    .filter_map(|c| match c {
                        Value::Object(o) => match &o.kind {
                            ObjKind::Cell(c) => Some(c.clone()),
                            _ => None,
                        },
                        _ => None,
                    })
                    .collect(),
                _ => Box::new([]),
            }
        } else {
            Box::new([])
        };
        if fl & 4 != 0 {
            self.pop();
        }
        let kwdefaults = if fl & 2 != 0 {
            match self.pop() {
                Value::Dict(d) => Some(d),
                _ => None,
            }
        } else {
            None
        };
        let defaults: Box<[Value]> = if fl & 1 != 0 {
            match self.pop() {
                Value::Tuple(t) => t.items.clone(),
                _ => Box::new([]),
            }
        } else {
            Box::new([])
        };
        let code = match &code_v {
            Value::Object(o) => match &o.kind {
                ObjKind::Code(c) => c.clone(),
                _ => {
                    return Err(PyErr::new(
                        ExcKind::SystemError,
                        "MakeFunction without code",
                    ))
                }
            },
            _ => {
                return Err(PyErr::new(
                    ExcKind::SystemError,
                    "MakeFunction without code",
                ))
            }
        };
        let qualname: Arc<str> = match qualname.as_str() {
            Some(q) => q.into(),
            None => code.code.qualname.clone(),
        };
        let func = Function {
            name: code.code.name.clone(),
            qualname,
            globals: self.frame.func.globals.clone(),
            code,
            defaults,
            kwdefaults,
            closure,
            attrs: Default::default(),
        };
        Ok(Value::Function(Brc::new(func)))
    }

    /// `Raise(n)`: build the exception to raise (setting `raise_mode`).
    fn raise(&mut self, n: u32) -> PyResult<PyErr> {
        match n {
            0 => match self.handled_exception() {
                Some(e) => {
                    self.raise_mode = RaiseMode::Reraise;
                    Ok(e)
                }
                None => Err(PyErr::runtime_error("No active exception to reraise")),
            },
            1 => {
                let exc = self.pop();
                let e = self.exception_from(exc, false)?;
                self.chain_context(&e, true);
                self.raise_mode = RaiseMode::Explicit;
                Ok(e)
            }
            _ => {
                let cause = self.pop();
                let exc = self.pop();
                let e = self.exception_from(exc, false)?;
                let cause = match cause {
                    Value::None => None,
                    c => Some(self.exception_from(c, true)?.value()),
                };
                if let Some(d) = e.data() {
                    *d.cause.lock() = cause;
                    d.suppress_context
                        .store(true, std::sync::atomic::Ordering::Relaxed);
                }
                self.chain_context(&e, true);
                self.raise_mode = RaiseMode::Explicit;
                Ok(e)
            }
        }
    }

    /// The exception instance `raise v` raises: an instance as is, a class
    /// instantiated without arguments.
    pub(crate) fn exception_from(&mut self, v: Value, is_cause: bool) -> PyResult<PyErr> {
        let base = types().exception(ExcKind::BaseException);
        let bad = || {
            PyErr::type_error(if is_cause {
                "exception causes must derive from BaseException"
            } else {
                "exceptions must derive from BaseException"
            })
        };
        match &v {
            Value::Instance(i) if crate::vm::class::is_subclass(&i.class, base) => {
                Ok(PyErr { exc: i.clone() })
            }
            Value::Class(c) if crate::vm::class::is_subclass(c, base) => {
                let inst = self.call(&v, &[], &[])?;
                match inst {
                    Value::Instance(i) if crate::vm::class::is_subclass(&i.class, base) => {
                        Ok(PyErr { exc: i })
                    }
                    other => Err(PyErr::type_error(format!(
                        "calling {} should have returned an instance of BaseException, not {}",
                        c.name,
                        type_name(&other)
                    ))),
                }
            }
            _ => Err(bad()),
        }
    }

    fn before_with(&mut self, ctx: &Value) -> PyResult<(Value, Value)> {
        let cls = types().class_of(ctx).clone();
        let enter = crate::vm::class::lookup(&cls, "__enter__");
        let exit = crate::vm::class::lookup(&cls, "__exit__");
        let (enter, exit) = match (enter, exit) {
            (Some(enter), Some(exit)) => (enter, exit),
            (enter, _) => {
                let missed = if enter.is_some() {
                    " (missed __exit__ method)"
                } else {
                    ""
                };
                return Err(PyErr::type_error(format!(
                    "'{}' object does not support the context manager protocol{missed}",
                    cls.name
                )));
            }
        };
        // Both are looked up on the type (an instance attribute does not
        // count); functions and built-in methods bind to `ctx` directly.
        let plain = |f: &Value| match f {
            Value::Function(_) => true,
            Value::Native(n) => n.is_method,
            _ => false,
        };
        if plain(&enter) && plain(&exit) {
            let exit = Value::BoundMethod(Arc::new(BoundMethod {
                func: exit,
                receiver: ctx.clone(),
            }));
            let r = self.call(&enter, std::slice::from_ref(ctx), &[])?;
            return Ok((exit, r));
        }
        let exit = self.get_attr(ctx, "__exit__")?;
        let r = self.call_method(ctx, "__enter__", &[])?;
        Ok((exit, r))
    }

    /// `LoadName`/`StoreName`/`DeleteName` in a class body whose
    /// `__prepare__` namespace is not a plain dict: as CPython, through the
    /// mapping's own item methods (a KeyError on lookup falls back to the
    /// globals and builtins; any error deleting is a NameError).
    #[cold]
    fn name_through_mapping(&mut self, op: Instr, code: &CodeObj) -> PyResult<()> {
        let Some(ns) = self.frame.mapping().cloned() else {
            return Ok(());
        };
        match op {
            Instr::LoadName(i) => {
                let name = &code.names[i as usize];
                let v = match self.get_item(&ns, &Value::Str(name.clone())) {
                    Ok(v) => Some(v),
                    Err(e) if e.matches(ExcKind::KeyError) => None,
                    Err(e) => return Err(e),
                };
                let v = match v
                    .or_else(|| self.frame.func.globals.get_str(name))
                    .or_else(|| self.builtins.get_str(name))
                {
                    Some(v) => v,
                    None => match self.lazy_builtin(name.as_str())? {
                        Some(v) => v,
                        None => return Err(self.name_error(name.as_str())),
                    },
                };
                self.push(v);
            }
            Instr::StoreName(i) => {
                let v = self.pop();
                self.set_item(&ns, &Value::Str(code.names[i as usize].clone()), v)?;
            }
            Instr::DeleteName(i) => {
                let name = &code.names[i as usize];
                if self.del_item(&ns, &Value::Str(name.clone())).is_err() {
                    return Err(self.name_error(name.as_str()));
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn delete_name(&mut self, ns: &Brc<PyDict>, code: &CodeObj, i: usize) -> PyResult<()> {
        let name = &code.names[i];
        self.global_cache.evict(name);
        match ns.del_str(name) {
            Some(old) => {
                self.release(old);
                Ok(())
            }
            None => Err(self.name_error(name.as_str())),
        }
    }

    /// `NameError: name 'x' is not defined`, with `.name` set and a
    /// "Did you mean" suggestion remembered for the traceback.
    pub(crate) fn name_error(&mut self, name: &str) -> PyErr {
        let e = PyErr::new(ExcKind::NameError, format!("name '{name}' is not defined"));
        e.exc.attrs.lock().insert("name".into(), Value::str(name));
        let mut candidates: Vec<Arc<str>> = Vec::new();
        let code = &self.frame.func.code.code;
        candidates.extend(code.varnames.iter().cloned());
        candidates.extend(code.cellvars.iter().cloned());
        candidates.extend(code.freevars.iter().cloned());
        for d in [&self.frame.func.globals, &self.builtins] {
            for k in d.map.lock().keys() {
                if let Value::Str(s) = &k.key {
                    candidates.push(s.as_str().into());
                }
            }
        }
        if let Some(s) = crate::vm::traceback::suggest(name, &candidates) {
            if let Some(data) = e.data() {
                *data.suggestion.lock() = Some(s);
            }
        }
        e
    }

    fn print_expr(&mut self, v: Value) -> PyResult<()> {
        if v.is_none() {
            return Ok(());
        }
        let r = self.repr(&v)?;
        self.interp.write_stdout(&format!("{r}\n"));
        self.builtins.set_str(crate::vm::interp::name_str("_"), v);
        Ok(())
    }

    fn get_awaitable(&mut self, v: Value) -> PyResult<Value> {
        if let Value::Object(o) = &v {
            if let ObjKind::Generator(g) = &o.kind {
                if g.is_coroutine {
                    return Ok(v);
                }
            }
        }
        let cls = types().class_of(&v).clone();
        if crate::vm::class::lookup(&cls, "__await__").is_none() {
            return Err(PyErr::type_error(format!(
                "object {} can't be used in 'await' expression",
                cls.name
            )));
        }
        self.call_method(&v, "__await__", &[])
    }
}

/// A per-thread cache of global/builtin name lookups (no sharing, so no
/// locking): an entry is valid while both dicts' change counters equal the
/// ones recorded when it was filled. Counters carry a per-dict tag, so they
/// also identify the dicts.
///
/// Two-way set associative, sets picked by a multiplicative hash of the
/// name's address. It was direct-mapped on the address bits, and two hot
/// names 4 KiB apart (which depends on allocation order alone) then
/// evicted each other on every lookup: `strings` ran 15% slower in one
/// build for that reason only.
pub(crate) struct GlobalCache {
    entries: Box<[GlobalEntry]>,
    /// Sets in use, up to `GLOBAL_SETS` (see `vm::footprint`).
    sets: Sets,
}

struct GlobalEntry {
    name: Option<Brc<PyStr>>,
    /// [`STALE`] once the value was given up (see `GlobalCache::evict`).
    globals_version: u64,
    builtins_version: u64,
    value: Value,
    /// Where `name` was found, so that a stale entry is revalidated by
    /// looking at one dict entry instead of hashing (see
    /// `GlobalCache::refresh`): the globals dict's counter reading at the
    /// fill (only its tag is compared), the entry index, and which dict.
    globals_tag: u64,
    index: u32,
    in_globals: bool,
}

/// A `globals_version` no dict reaches: the entry's value was dropped.
const STALE: u64 = u64::MAX;

/// Sets of a full-size cache, and of a new thread's.
const GLOBAL_SETS: usize = 128;
const SMALL_GLOBAL_SETS: usize = 8;

impl GlobalCache {
    pub(crate) fn new(start: Start) -> GlobalCache {
        let sets = Sets::new(start, SMALL_GLOBAL_SETS, GLOBAL_SETS, 2);
        GlobalCache {
            entries: Self::empty(sets.entries()),
            sets,
        }
    }

    fn empty(n: usize) -> Box<[GlobalEntry]> {
        (0..n)
            .map(|_| GlobalEntry {
                name: None,
                globals_version: STALE,
                builtins_version: 0,
                value: Value::None,
                globals_tag: 0,
                index: 0,
                in_globals: false,
            })
            .collect()
    }

    /// Double the sets, moving the entries over. A set's entries split
    /// between two sets of the new table, so each finds a free way.
    #[cold]
    #[inline(never)]
    fn grow(&mut self) {
        self.sets.double();
        let old = std::mem::replace(&mut self.entries, Self::empty(self.sets.entries()));
        for e in old.into_vec() {
            let Some(name) = &e.name else { continue };
            let s = self.set(name);
            let i = if self.entries[s].name.is_none() {
                s
            } else {
                s + 1
            };
            self.entries[i] = e;
        }
    }

    /// The first of the two entries `name` may occupy.
    #[inline]
    fn set(&self, name: &Brc<PyStr>) -> usize {
        let h = (Brc::as_ptr(name) as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        2 * self
            .sets
            .pick((h >> (64 - GLOBAL_SETS.trailing_zeros())) as usize)
    }

    /// The two entries `name` may occupy, without a bounds check: a
    /// lookup costs what it did with a fixed-size table.
    #[inline]
    fn pair(&self, name: &Brc<PyStr>) -> &[GlobalEntry; 2] {
        let s = self.set(name);
        debug_assert!(s + 2 <= self.entries.len());
        // SAFETY: `set` is twice a set number below `sets.count()`, and
        // `entries` always holds `sets.entries()`, twice `sets.count()`
        // (`new` and `grow` are the only places that change either), so
        // `s` and `s + 1` are in bounds of the allocation.
        unsafe { &*(self.entries.as_ptr().add(s) as *const [GlobalEntry; 2]) }
    }

    #[inline]
    fn get(&self, name: &Brc<PyStr>, globals: &PyDict, builtins: &PyDict) -> Option<&Value> {
        let [first, second] = self.pair(name);
        let e = match &first.name {
            Some(n) if Brc::ptr_eq(n, name) => first,
            _ => second,
        };
        match &e.name {
            Some(n)
                if Brc::ptr_eq(n, name)
                    && e.globals_version == globals.map.version()
                    && e.builtins_version == builtins.map.version() =>
            {
                Some(&e.value)
            }
            _ => None,
        }
    }

    /// The index of `name`'s entry, if it has one.
    #[inline]
    fn find(&self, name: &Brc<PyStr>) -> Option<usize> {
        let s = self.set(name);
        (s..s + 2).find(|&i| {
            self.entries[i]
                .name
                .as_ref()
                .is_some_and(|n| Brc::ptr_eq(n, name))
        })
    }

    /// Give up every cached value (module teardown, `vm::finalize`).
    pub(crate) fn clear(&mut self) {
        for e in self.entries.iter_mut() {
            e.globals_version = STALE;
            e.value = Value::None;
        }
    }

    /// Give up `name`'s cached value: it is being rebound or deleted, and a
    /// cached reference would keep the old one alive (delaying a file's
    /// close or a generator's `finally`). Where it was found is kept for
    /// `refresh`.
    #[inline]
    fn evict(&mut self, name: &Brc<PyStr>) {
        if let Some(i) = self.find(name) {
            let e = &mut self.entries[i];
            e.globals_version = STALE;
            e.value = Value::None;
        }
    }

    /// `get`'s miss, first try: a value (not a key) changed since the fill,
    /// as when a loop at module level rebinds its variables. If `name` is
    /// still the key of the dict entry it was found in, that entry holds
    /// its value; for a builtin, `name` must also still be missing from the
    /// globals. `None` sends the lookup to `fill`.
    fn refresh(&mut self, name: &Brc<PyStr>, globals: &PyDict, builtins: &PyDict) -> Option<Value> {
        let i = self.find(name)?;
        let e = &self.entries[i];
        if !crate::vm::dict::DictCell::same_tag(e.globals_tag, globals.map.version()) {
            return None;
        }
        // Each counter is read under its own dict's lock, as in `fill`.
        let (v, globals_version, builtins_version) = if e.in_globals {
            let (v, gv) = globals.value_at_str(e.index, name)?;
            (v, gv, builtins.map.version())
        } else {
            let (found, gv) = globals.get_str_versioned(name);
            if found.is_some() {
                return None;
            }
            let (v, bv) = builtins.value_at_str(e.index, name)?;
            (v, gv, bv)
        };
        let e = &mut self.entries[i];
        if cacheable(&v) {
            e.globals_version = globals_version;
            e.builtins_version = builtins_version;
            e.value = v.clone();
        } else {
            e.globals_version = STALE;
            e.value = Value::None;
        }
        Some(v)
    }

    /// The uncached lookup; remembers the result when holding on to it
    /// cannot change when anything is finalized.
    #[cold]
    fn fill(&mut self, name: &Brc<PyStr>, globals: &PyDict, builtins: &PyDict) -> Option<Value> {
        // Each counter is read under its own dict's lock (never both held:
        // the two may be one dict); a change after either read bumps it.
        if let Some(v) = self.refresh(name, globals, builtins) {
            return Some(v);
        }
        let (found, globals_version) = globals.get_str_versioned(name);
        let (v, index, in_globals, builtins_version) = match found {
            Some((v, _)) if !cacheable(&v) => return Some(v),
            Some((v, ix)) => (v, ix, true, builtins.map.lock().tagged_version()),
            None => match builtins.get_str_versioned(name) {
                (Some((v, ix)), bv) => (v, ix, false, bv),
                (None, _) => return None,
            },
        };
        if cacheable(&v) {
            // The name's own entry (stale) is refilled in place; otherwise
            // the set's first entry moves to the second way.
            let s = self.set(name);
            let own = |e: &GlobalEntry| e.name.as_ref().is_some_and(|n| Brc::ptr_eq(n, name));
            let i = if own(&self.entries[s]) {
                s
            } else if own(&self.entries[s + 1]) {
                s + 1
            } else {
                let s = if self.sets.miss() {
                    self.grow();
                    self.set(name)
                } else {
                    s
                };
                self.entries.swap(s, s + 1);
                s
            };
            self.entries[i] = GlobalEntry {
                name: Some(name.clone()),
                globals_version,
                builtins_version,
                value: v.clone(),
                globals_tag: globals_version,
                index,
                in_globals,
            };
        }
        Some(v)
    }
}

/// Whether the global cache may hold on to `v`. Native objects (files,
/// generators) act when their last reference goes: a cached reference would
/// delay that after `del name` or a rebinding. Nothing else here has a
/// finalizer, so holding one more reference is unobservable.
fn cacheable(v: &Value) -> bool {
    match v {
        Value::Object(o) => !matches!(o.kind, ObjKind::Native(_) | ObjKind::Generator(_)),
        _ => true,
    }
}

/// `a op b` when both are ints or floats (and ints mix with floats
/// exactly); `Num::No` for everything else, and for errors to raise.
#[inline(always)]
fn scalar_binary(a: &Value, b: &Value, op: u32) -> Num {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => int_op(*x, *y, op),
        (Value::Float(x), Value::Float(y)) => float_op(*x, *y, op),
        (Value::Float(x), Value::Int(y)) if y.unsigned_abs() < 1 << 53 => {
            float_op(*x, *y as f64, op)
        }
        (Value::Int(x), Value::Float(y)) if x.unsigned_abs() < 1 << 53 => {
            float_op(*x as f64, *y, op)
        }
        _ => Num::No,
    }
}

/// A comparison of two ints or two floats.
#[inline(always)]
fn scalar_compare(a: &Value, b: &Value, op: u32) -> Option<bool> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(cmp_op(x, y, op)),
        (Value::Float(x), Value::Float(y)) => Some(cmp_op(x, y, op)),
        _ => None,
    }
}

/// Where execution goes when `next` is a conditional jump on the result
/// `r` (`fallthrough`: the instruction after that jump); `None` when
/// `next` is no conditional jump and the result must be pushed.
#[inline(always)]
fn jump_on(next: Option<&Instr>, r: bool, fallthrough: usize) -> Option<usize> {
    match next {
        Some(&Instr::PopJumpIfFalse(t)) => Some(if r { fallthrough } else { t as usize }),
        Some(&Instr::PopJumpIfTrue(t)) => Some(if r { t as usize } else { fallthrough }),
        _ => None,
    }
}

/// The second operand of a fused `LoadFast`: the local or constant that
/// `next` loads (see `compile::optimize`).
#[inline(always)]
fn fused_operand<'a>(
    stack: &'a [Value],
    consts: &'a [Value],
    fb: usize,
    next: Instr,
) -> Option<&'a Value> {
    match next {
        Instr::LoadFast(j) => stack.get(fb + j as usize),
        Instr::LoadConst(k) => consts.get(k as usize),
        _ => None,
    }
}

/// The identity of the instruction at `pc`, for per-site caches. Opaque to
/// the optimiser: the caches hash it linearly, and LLVM would otherwise
/// keep that hash up to date in the dispatch loop, on every instruction.
#[inline(always)]
fn site(instrs: &[Instr], pc: usize) -> usize {
    std::hint::black_box(instrs.as_ptr() as usize + pc * std::mem::size_of::<Instr>())
}

/// `list[ix]` when `ix` is in range (negative counts from the end).
#[inline]
fn list_item(l: &PyList, ix: i64) -> Option<Value> {
    let items = l.items.lock();
    let n = items.len() as i64;
    let j = if ix < 0 { ix + n } else { ix };
    if j >= 0 && j < n {
        // Floats and ints are copied without `Value::clone`'s jump on the
        // tag, which mispredicts on lists of mixed values.
        let v = &items[j as usize];
        Some(if slot::is_scalar(v) {
            slot::copy_scalar(v)
        } else {
            v.clone()
        })
    } else {
        None
    }
}

/// Native calls with up to this many positional arguments pass them in a
/// local array (`Vm::call_native_small`).
const SMALL_CALL: usize = 4;

/// `Vec::push`, always inlined: in the dispatch function the standard one
/// stays out of line, and the call costs more than the push itself.
#[inline(always)]
pub(crate) fn push_value<T>(stack: &mut Vec<T>, v: T) {
    if stack.len() == stack.capacity() {
        grow_by_one(stack);
    }
    let len = stack.len();
    // SAFETY: there is spare room at `len` (made above if there was none);
    // the write initialises it before the length covers it.
    unsafe {
        std::ptr::write(stack.as_mut_ptr().add(len), v);
        stack.set_len(len + 1);
    }
}

#[cold]
#[inline(never)]
fn grow_by_one<T>(stack: &mut Vec<T>) {
    stack.reserve(1);
}

/// Int, float, bool or None: variants that own nothing, so a bitwise copy
/// is a complete clone. (`Null` is excluded: it must never be pushed.)
#[inline(always)]
fn is_scalar(v: &Value) -> bool {
    matches!(
        v,
        Value::Int(_) | Value::Float(_) | Value::Bool(_) | Value::None
    )
}

/// Push a copy of the scalar `*v`. Building `Value::Int(x)` afresh writes
/// the tag byte and the payload separately, and the dispatch loop's shared
/// push tail then reloads all 16 bytes at once — a store-forwarding stall on
/// every load. Copying the whole value keeps it one 16-byte move.
#[inline(always)]
fn push_scalar(stack: &mut Vec<Value>, v: &Value) {
    debug_assert!(is_scalar(v));
    stack.reserve(1);
    let len = stack.len();
    // SAFETY: `reserve` made room for one more element at `len`; `v` is a
    // scalar (checked by the caller), which owns no heap memory and has no
    // drop glue, so the bitwise copy is a valid, independent `Value`.
    unsafe {
        std::ptr::copy_nonoverlapping(v as *const Value, stack.as_mut_ptr().add(len), 1);
        stack.set_len(len + 1);
    }
}

/// Push a copy of the scalar in `stack[i]` (see `push_scalar`).
#[inline(always)]
fn dup_scalar(stack: &mut Vec<Value>, i: usize) {
    debug_assert!(is_scalar(&stack[i]));
    assert!(i < stack.len());
    stack.reserve(1);
    let len = stack.len();
    // SAFETY: `i < len` (asserted) and `reserve` made room at `len`, so both
    // pointers are in bounds of the allocation and do not overlap; the value
    // is a scalar (checked by the caller), so a bitwise copy is a clone.
    unsafe {
        let p = stack.as_mut_ptr();
        std::ptr::copy_nonoverlapping(p.add(i), p.add(len), 1);
        stack.set_len(len + 1);
    }
}

/// Push a clone of `*v`, written straight into the new top slot (a clone
/// returned by value lands in a temporary first, see `push_scalar`).
#[inline(always)]
fn push_clone(stack: &mut Vec<Value>, v: &Value) {
    stack.reserve(1);
    let len = stack.len();
    // SAFETY: `reserve` made room for one more element at `len`, which is
    // initialised by the write before the length covers it.
    unsafe {
        slot::write_clone(stack.as_mut_ptr().add(len), v);
        stack.set_len(len + 1);
    }
}

/// Push a clone of `stack[i]` (see `push_clone`).
#[inline(always)]
fn dup_clone(stack: &mut Vec<Value>, i: usize) {
    assert!(i < stack.len());
    stack.reserve(1);
    let len = stack.len();
    // SAFETY: `i < len` (asserted) is an initialised element and `len` is
    // reserved spare room, so the two do not overlap; the new element is
    // initialised by the write before the length covers it.
    unsafe {
        let p = stack.as_mut_ptr();
        slot::write_clone(p.add(len), &*p.add(i));
        stack.set_len(len + 1);
    }
}

/// Drop with the scalar cases (no drop glue to run) decided inline.
#[inline(always)]
fn drop_value(v: Value) {
    match &v {
        Value::Int(_) | Value::Float(_) | Value::Bool(_) | Value::None | Value::Null => {
            std::mem::forget(v)
        }
        _ => drop(v),
    }
}

/// `Vec::truncate` for value stacks, scalars dropped inline.
#[inline(always)]
fn truncate(slots: &mut Vec<Value>, len: usize) {
    let old = slots.len();
    if old <= len {
        return;
    }
    // SAFETY: the slots `len..old` hold values; shortening the vector
    // first makes them ours to drop, top first, and nothing reads them
    // afterwards. A drop cannot reach `slots`, which is borrowed here.
    unsafe {
        slots.set_len(len);
        let base = slots.as_mut_ptr();
        let mut top = old;
        while top > len {
            top -= 1;
            slot::drop_in_place(base.add(top));
        }
    }
}

fn recursion_error() -> PyErr {
    PyErr::new(ExcKind::RecursionError, "maximum recursion depth exceeded")
}

fn unbound_local(name: &str) -> PyErr {
    let e = PyErr::new(
        ExcKind::UnboundLocalError,
        format!("cannot access local variable '{name}' where it is not associated with a value"),
    );
    e.exc.attrs.lock().insert("name".into(), Value::str(name));
    e
}

fn cell_name(code: &CodeObj, i: usize) -> Arc<str> {
    let c = &code.code;
    if i < c.cellvars.len() {
        c.cellvars[i].clone()
    } else {
        c.freevars
            .get(i - c.cellvars.len())
            .cloned()
            .unwrap_or_else(|| "?".into())
    }
}

fn unbound_deref(code: &CodeObj, i: usize) -> PyErr {
    let name = cell_name(code, i);
    if i < code.code.cellvars.len() {
        unbound_local(&name)
    } else {
        PyErr::new(
            ExcKind::NameError,
            format!(
                "cannot access free variable '{name}' where it is not associated with a value in enclosing scope"
            ),
        )
    }
}

fn cell_value(cell: Arc<Cell>) -> Value {
    Value::Object(Arc::new(Object {
        class: types().cell.clone(),
        kind: ObjKind::Cell(cell),
    }))
}

/// Prepend this propagation's frames (collected innermost first) to the
/// exception's traceback (kept innermost last).
fn add_traceback(err: &PyErr, entries: Vec<TraceEntry>) {
    if entries.is_empty() {
        return;
    }
    if let Some(d) = err.data() {
        let mut tb = d.traceback.lock();
        for entry in entries {
            tb.push_front(entry);
        }
    }
}

/// Does `exc` match the `except` clause type `typ` (a class or a tuple)?
fn exc_matches(exc: &Value, typ: &Value) -> PyResult<bool> {
    let base = types().exception(ExcKind::BaseException);
    match typ {
        Value::Class(c) => {
            if !crate::vm::class::is_subclass(c, base) {
                return Err(not_an_exception_class());
            }
            Ok(crate::vm::class::is_subclass(types().class_of(exc), c))
        }
        Value::Tuple(t) => {
            // Every entry is checked before any is matched, as CPython does.
            let valid =
                |v: &Value| matches!(v, Value::Class(c) if crate::vm::class::is_subclass(c, base));
            if !t.items.iter().all(valid) {
                return Err(not_an_exception_class());
            }
            for item in t.items.iter() {
                if exc_matches(exc, item)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        _ => Err(not_an_exception_class()),
    }
}

fn not_an_exception_class() -> PyErr {
    PyErr::type_error("catching classes that do not inherit from BaseException is not allowed")
}

/// Whether `v`'s type could be iterated (to tell CPython's "not iterable"
/// messages apart from a TypeError raised inside `__iter__`).
pub(crate) fn is_iterable(v: &Value) -> bool {
    match v {
        Value::Str(_)
        | Value::Bytes(_)
        | Value::ByteArray(_)
        | Value::List(_)
        | Value::Tuple(_)
        | Value::Dict(_)
        | Value::Set(_)
        | Value::FrozenSet(_) => true,
        Value::Object(o) => matches!(
            o.kind,
            ObjKind::Iter(_) | ObjKind::Generator(_) | ObjKind::Range { .. }
        ),
        Value::Instance(i) => {
            crate::vm::class::lookup(&i.class, "__iter__").is_some()
                || crate::vm::class::lookup(&i.class, "__getitem__").is_some()
        }
        Value::Class(_) => {
            crate::vm::ops::meta_special(v, "__iter__").is_some()
                || crate::vm::ops::meta_special(v, "__getitem__").is_some()
        }
        _ => false,
    }
}

fn ascii_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let n = c as u32;
        if n < 0x80 {
            out.push(c);
        } else if n < 0x100 {
            out.push_str(&format!("\\x{n:02x}"));
        } else if n < 0x10000 {
            out.push_str(&format!("\\u{n:04x}"));
        } else {
            out.push_str(&format!("\\U{n:08x}"));
        }
    }
    out
}

/// The result of an operator's scalar fast path.
#[derive(Clone, Copy)]
enum Num {
    I(i64),
    F(f64),
    B(bool),
    /// Take the full protocol.
    No,
}

impl Num {
    #[inline(always)]
    fn is_some(self) -> bool {
        !matches!(self, Num::No)
    }
}

/// Overwrite a stack slot that holds a scalar (nothing to drop) with a
/// scalar result, in place when the kind does not change.
#[inline(always)]
fn set_scalar(slot: &mut Value, n: Num) {
    match (slot, n) {
        (Value::Int(x), Num::I(r)) => *x = r,
        (Value::Float(x), Num::F(r)) => *x = r,
        (slot, n) => {
            let v = match n {
                Num::I(r) => Value::Int(r),
                Num::F(r) => Value::Float(r),
                Num::B(r) => Value::Bool(r),
                Num::No => Value::None,
            };
            std::mem::forget(std::mem::replace(slot, v));
        }
    }
}

/// Pop the top of the stack, known to be a scalar (no drop glue to run).
#[inline(always)]
fn forget_top(slots: &mut Vec<Value>) {
    if let Some(v) = slots.pop() {
        drop_value(v);
    }
}

/// `BinaryOp` arguments as constants, to match on without decoding them
/// (an in-place operator is its plain one plus `INPLACE`, see `base_op`).
mod bin {
    use crate::compile::code::BinaryOpKind as K;
    pub const ADD: u32 = K::Add as u32;
    pub const SUB: u32 = K::Sub as u32;
    pub const MUL: u32 = K::Mul as u32;
    pub const TRUE_DIV: u32 = K::TrueDiv as u32;
    pub const FLOOR_DIV: u32 = K::FloorDiv as u32;
    pub const MOD: u32 = K::Mod as u32;
    pub const POW: u32 = K::Pow as u32;
    pub const AND: u32 = K::And as u32;
    pub const OR: u32 = K::Or as u32;
    pub const XOR: u32 = K::Xor as u32;
    pub const INPLACE: u32 = K::InplaceAdd as u32;
}

/// The plain operator of a `BinaryOp` argument (`x += y` adds as `x + y`).
#[inline(always)]
fn base_op(op: u32) -> u32 {
    if op >= bin::INPLACE {
        op - bin::INPLACE
    } else {
        op
    }
}

/// Int arithmetic that stays in i64; `No` defers to the full protocol
/// (overflow into big ints, errors, other operators).
#[inline(always)]
fn int_op(x: i64, y: i64, op: u32) -> Num {
    let r = match base_op(op) {
        bin::ADD => x.checked_add(y),
        bin::SUB => x.checked_sub(y),
        bin::MUL => x.checked_mul(y),
        bin::FLOOR_DIV => {
            if y == 0 || (x == i64::MIN && y == -1) {
                None
            } else {
                let q = x / y;
                Some(if (x % y != 0) && ((x < 0) != (y < 0)) {
                    q - 1
                } else {
                    q
                })
            }
        }
        bin::MOD => {
            if y == 0 || (x == i64::MIN && y == -1) {
                None
            } else {
                let r = x % y;
                Some(if r != 0 && ((r < 0) != (y < 0)) {
                    r + y
                } else {
                    r
                })
            }
        }
        bin::AND => Some(x & y),
        bin::OR => Some(x | y),
        bin::XOR => Some(x ^ y),
        bin::TRUE_DIV => {
            if y == 0 || x.unsigned_abs() > 1 << 53 || y.unsigned_abs() > 1 << 53 {
                return Num::No;
            }
            return Num::F(x as f64 / y as f64);
        }
        _ => None,
    };
    match r {
        Some(r) => Num::I(r),
        None => Num::No,
    }
}

#[inline(always)]
fn float_op(x: f64, y: f64, op: u32) -> Num {
    Num::F(match base_op(op) {
        bin::ADD => x + y,
        bin::SUB => x - y,
        bin::MUL => x * y,
        bin::TRUE_DIV if y != 0.0 => x / y,
        // A positive base with a finite result is libm's `pow`, as in
        // CPython; signs, zeros, overflow and NaNs take the general path.
        bin::POW if x > 0.0 => match x.powf(y) {
            r if r.is_finite() => r,
            _ => return Num::No,
        },
        _ => return Num::No,
    })
}

#[inline(always)]
fn cmp_op<T: PartialOrd + ?Sized>(x: &T, y: &T, op: u32) -> bool {
    match op {
        0 => x < y,
        1 => x <= y,
        2 => x == y,
        3 => x != y,
        4 => x > y,
        _ => x >= y,
    }
}

#[allow(dead_code)]
fn _assert_types(_: &PyTuple) {}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::vm::brc::Brc;

    use crate::compile::code::{flags, BinaryOpKind, Code, CompareKind, Const, Instr};
    use crate::vm::footprint::Start;
    use crate::vm::interp::{load_code, new_module, Interp, Options, Vm};
    use crate::vm::value::Value;

    #[test]
    fn global_cache_keeps_two_names_of_one_set() {
        use super::GlobalCache;
        use crate::vm::value::{PyDict, PyStr};
        let globals = PyDict::new();
        let builtins = PyDict::new();
        // Two distinct names that hash to the same set.
        let names: Vec<Brc<PyStr>> = (0..4096)
            .map(|i| Brc::new(PyStr::new(format!("n{i}"))))
            .collect();
        let mut cache = GlobalCache::new(Start::Full);
        let a = &names[0];
        let b = names[1..]
            .iter()
            .find(|n| cache.set(n) == cache.set(a))
            .expect("some name shares a set");
        globals.set(a.as_str(), Value::Int(1));
        globals.set(b.as_str(), Value::Int(2));
        assert!(matches!(
            cache.fill(a, &globals, &builtins),
            Some(Value::Int(1))
        ));
        assert!(matches!(
            cache.fill(b, &globals, &builtins),
            Some(Value::Int(2))
        ));
        assert!(matches!(
            cache.get(a, &globals, &builtins),
            Some(Value::Int(1))
        ));
        assert!(matches!(
            cache.get(b, &globals, &builtins),
            Some(Value::Int(2))
        ));
        // A change to the dict invalidates both; a changed value is
        // found again where it was (`refresh`), a moved key by a lookup.
        globals.set("other", Value::None);
        assert!(cache.get(a, &globals, &builtins).is_none());
        globals.set(a.as_str(), Value::Int(10));
        assert!(matches!(
            cache.refresh(a, &globals, &builtins),
            Some(Value::Int(10))
        ));
        assert!(matches!(
            cache.get(a, &globals, &builtins),
            Some(Value::Int(10))
        ));
        globals.del_str(a);
        globals.set(a.as_str(), Value::Int(11));
        assert!(cache.refresh(a, &globals, &builtins).is_none());
        assert!(matches!(
            cache.fill(a, &globals, &builtins),
            Some(Value::Int(11))
        ));
        // Evicting gives the value up: the entry no longer answers.
        cache.evict(b);
        assert!(cache.get(b, &globals, &builtins).is_none());
        assert!(cache
            .entries
            .iter()
            .filter(|e| e.name.as_ref().is_some_and(|n| Brc::ptr_eq(n, b)))
            .all(|e| matches!(e.value, Value::None)));
    }

    #[test]
    fn a_small_global_cache_grows_and_keeps_its_entries() {
        use super::GlobalCache;
        use crate::vm::value::{PyDict, PyStr};
        let globals = PyDict::new();
        let builtins = PyDict::new();
        let names: Vec<Brc<PyStr>> = (0..600)
            .map(|i| Brc::new(PyStr::new(format!("g{i}"))))
            .collect();
        for (i, n) in names.iter().enumerate() {
            globals.set(n.as_str(), Value::Int(i as i64));
        }
        let mut cache = GlobalCache::new(Start::Small);
        let mut growths = 0;
        for n in &names {
            let held: Vec<Brc<PyStr>> = cache
                .entries
                .iter()
                .filter_map(|e| e.name.clone())
                .collect();
            let len = cache.entries.len();
            cache.fill(n, &globals, &builtins);
            if cache.entries.len() > len {
                growths += 1;
                // Every name held before the growth still answers, but for
                // one the new name may push out of the set they share.
                let s = cache.set(n);
                for h in &held {
                    let v = cache.get(h, &globals, &builtins);
                    let kept = matches!(v, Some(Value::Int(_)));
                    assert!(kept || cache.set(h) == s, "lost {}", h.as_str());
                }
            }
        }
        assert!(growths >= 2);
        assert_eq!(cache.entries.len(), 2 * super::GLOBAL_SETS);
    }

    #[test]
    fn global_cache_refresh_sees_a_global_shadowing_a_builtin() {
        use super::GlobalCache;
        use crate::vm::value::{PyDict, PyStr};
        let globals = PyDict::new();
        let builtins = PyDict::new();
        let name = Brc::new(PyStr::new("len".to_string()));
        builtins.set("len", Value::Int(1));
        globals.set("x", Value::Int(0));
        let mut cache = GlobalCache::new(Start::Full);
        assert!(matches!(
            cache.fill(&name, &globals, &builtins),
            Some(Value::Int(1))
        ));
        globals.set("x", Value::Int(5));
        assert!(matches!(
            cache.refresh(&name, &globals, &builtins),
            Some(Value::Int(1))
        ));
        globals.set("len", Value::Int(2));
        assert!(cache.refresh(&name, &globals, &builtins).is_none());
        assert!(matches!(
            cache.fill(&name, &globals, &builtins),
            Some(Value::Int(2))
        ));
    }

    #[test]
    fn base_op_agrees_with_the_operator_kinds() {
        for n in 0..26 {
            let kind = BinaryOpKind::from_u32(n);
            assert_eq!(super::base_op(n), kind.base() as u32, "{kind:?}");
        }
    }

    fn code(name: &str, instrs: Vec<Instr>, consts: Vec<Const>, names: &[&str]) -> Code {
        let n = instrs.len();
        Code {
            name: name.into(),
            qualname: name.into(),
            filename: "<test>".into(),
            instrs,
            spans: vec![Default::default(); n],
            lines: (1..=n as u32).collect(),
            consts,
            names: names.iter().map(|s| Arc::from(*s)).collect(),
            varnames: Vec::new(),
            cellvars: Vec::new(),
            cell2arg: Vec::new(),
            freevars: Vec::new(),
            argcount: 0,
            posonlyargcount: 0,
            kwonlyargcount: 0,
            flags: flags::NAME_LOCALS,
            first_line: 1,
            max_stack: 16,
            attr_sites: 0,
        }
    }

    fn run_module(
        c: Code,
    ) -> (
        Vm,
        Arc<crate::vm::value::Module>,
        Result<(), crate::vm::PyErr>,
    ) {
        let interp = Interp::new(Options::default());
        let mut vm = Vm::new(interp.clone(), interp.main_tid);
        let m = new_module("__main__");
        let r = vm.exec_module_code(load_code(&Arc::new(c)), &m);
        (vm, m, r)
    }

    fn fib_code() -> Code {
        use Instr::*;
        let mut fib = code(
            "fib",
            vec![
                LoadFast(0),
                LoadConst(0),
                CompareOp(CompareKind::Lt as u32),
                PopJumpIfFalse(6),
                LoadFast(0),
                ReturnValue,
                LoadGlobal(0),
                LoadFast(0),
                LoadConst(1),
                BinaryOp(BinaryOpKind::Sub as u32),
                Call(1),
                LoadGlobal(0),
                LoadFast(0),
                LoadConst(0),
                BinaryOp(BinaryOpKind::Sub as u32),
                Call(1),
                BinaryOp(BinaryOpKind::Add as u32),
                ReturnValue,
            ],
            vec![Const::Int(2), Const::Int(1)],
            &["fib"],
        );
        fib.varnames = vec!["n".into()];
        fib.argcount = 1;
        fib.flags = 0;
        fib
    }

    #[test]
    fn recursive_calls_run_in_one_loop() {
        use Instr::*;
        let module = code(
            "<module>",
            vec![
                LoadConst(0),
                LoadConst(1),
                MakeFunction(0),
                StoreName(0),
                LoadName(0),
                LoadConst(2),
                Call(1),
                StoreName(1),
                LoadConst(3),
                ReturnValue,
            ],
            vec![
                Const::Code(Arc::new(fib_code())),
                Const::Str("fib".into()),
                Const::Int(20),
                Const::None,
            ],
            &["fib", "result"],
        );
        let (_vm, m, r) = run_module(module);
        assert!(r.is_ok());
        assert!(matches!(m.dict.get("result"), Some(Value::Int(6765))));
    }

    #[test]
    fn deep_recursion_is_a_recursion_error() {
        use Instr::*;
        // def f(n): return f(n + 1)
        let mut f = code(
            "f",
            vec![
                LoadGlobal(0),
                LoadFast(0),
                LoadConst(0),
                BinaryOp(BinaryOpKind::Add as u32),
                Call(1),
                ReturnValue,
            ],
            vec![Const::Int(1)],
            &["f"],
        );
        f.varnames = vec!["n".into()];
        f.argcount = 1;
        f.flags = 0;
        let module = code(
            "<module>",
            vec![
                LoadConst(0),
                LoadConst(1),
                MakeFunction(0),
                StoreName(0),
                LoadName(0),
                LoadConst(2),
                Call(1),
                ReturnValue,
            ],
            vec![
                Const::Code(Arc::new(f)),
                Const::Str("f".into()),
                Const::Int(0),
            ],
            &["f"],
        );
        let (_vm, _m, r) = run_module(module);
        let e = r.expect_err("must overflow");
        assert!(e.matches(crate::vm::ExcKind::RecursionError));
        let tb = e.data().unwrap().traceback.lock().len();
        assert_eq!(tb, 1000);
    }

    #[test]
    fn except_handler_catches_and_restores() {
        use Instr::*;
        // try: x = undefined
        // except NameError: caught = 1
        let module = code(
            "<module>",
            vec![
                SetupExcept(4),
                LoadName(0),
                StoreName(1),
                PopBlock,
                // 4: handler
                PushExcInfo,
                LoadName(2),
                CheckExcMatch,
                PopJumpIfFalse(14),
                Pop,
                LoadConst(0),
                StoreName(3),
                PopExcept,
                LoadConst(1),
                ReturnValue,
                // 14
                Reraise,
            ],
            vec![Const::Int(1), Const::None],
            &["undefined", "x", "NameError", "caught"],
        );
        let (vm, m, r) = run_module(module);
        assert!(r.is_ok(), "{:?}", r.err());
        assert!(matches!(m.dict.get("caught"), Some(Value::Int(1))));
        assert!(vm.handled_exception().is_none());
    }
}
