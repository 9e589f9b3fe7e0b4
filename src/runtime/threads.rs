//! Interpreter threads: starting them, the registry of live ones, and the
//! blocking waits every native uses (sleep, lock acquisition).
//!
//! A thread started by `_thread.start_new_thread` is an OS thread with a large
//! stack running its own [`Vm`] over the shared [`Interp`]: it registers with
//! the GIL, takes it, calls the function, reports an uncaught exception the way
//! CPython's `_thread` does, then releases the GIL and leaves the registry.
//! Daemon bookkeeping and joining live in `threading.py`; the process ends when
//! the main program and `threading._shutdown()` are done, which silently ends
//! any thread still running.
//!
//! Every wait releases the GIL. The main thread waits in slices of at most
//! [`SLICE`] and checks the eval breaker's signal bit between them, so Ctrl-C
//! interrupts `time.sleep` and `lock.acquire` there with KeyboardInterrupt.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use crate::runtime::gil::{ThreadId, BREAK_SIGNAL};
use crate::vm::error::{ExcKind, PyErr, PyResult};
use crate::vm::footprint::{Start, Tables};
use crate::vm::interp::{new_thread_id, Interp, Vm, THREAD_STACK_SIZE};
use crate::vm::value::Value;

/// Longest uninterrupted wait of the main thread (Ctrl-C latency).
pub const SLICE: Duration = Duration::from_millis(50);

/// Threads started by `start_new_thread` and still running (`_thread._count()`).
static RUNNING: AtomicUsize = AtomicUsize::new(0);

/// Live interpreter threads other than the main one: ident → display name.
fn registry() -> &'static Mutex<HashMap<ThreadId, String>> {
    static REG: OnceLock<Mutex<HashMap<ThreadId, String>>> = OnceLock::new();
    REG.get_or_init(|| Mutex::new(HashMap::new()))
}

/// How many threads started with `start_new_thread` are still alive.
pub fn count() -> usize {
    RUNNING.load(Ordering::SeqCst)
}

/// Names of the live non-main interpreter threads, by ident.
pub fn live_threads() -> Vec<(ThreadId, String)> {
    let mut v: Vec<_> = registry()
        .lock()
        .iter()
        .map(|(k, n)| (*k, n.clone()))
        .collect();
    v.sort();
    v
}

/// Keeps the registry honest even if the thread body panics.
struct Registration(ThreadId);

impl Drop for Registration {
    fn drop(&mut self) {
        registry().lock().remove(&self.0);
        RUNNING.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Start `func(*args, **kwargs)` in a new interpreter thread; returns its ident.
/// `name` labels the thread in GIL statistics.
pub fn start(
    vm: &mut Vm,
    func: Value,
    args: Vec<Value>,
    kwargs: Vec<(Arc<str>, Value)>,
    name: String,
) -> PyResult<ThreadId> {
    let interp = vm.interp.clone();
    let tid = new_thread_id();
    // Made here, where they share this thread's allocator pages (see
    // `vm::footprint::Tables`).
    let tables = Box::new(Tables::new(Start::Small));
    interp.gil.register_thread(tid, &name);
    registry().lock().insert(tid, name.clone());
    RUNNING.fetch_add(1, Ordering::SeqCst);
    let spawned = std::thread::Builder::new()
        .name(name)
        .stack_size(THREAD_STACK_SIZE)
        .spawn(move || run_thread(interp, tid, tables, func, args, kwargs));
    match spawned {
        Ok(_) => Ok(tid),
        Err(_) => {
            registry().lock().remove(&tid);
            RUNNING.fetch_sub(1, Ordering::SeqCst);
            Err(PyErr::runtime_error("can't start new thread"))
        }
    }
}

/// The body of a new thread. Inlined into `std`'s entry closure: one frame
/// less on every thread's stack.
#[inline(always)]
fn run_thread(
    interp: Arc<Interp>,
    tid: ThreadId,
    tables: Box<Tables>,
    func: Value,
    args: Vec<Value>,
    kwargs: Vec<(Arc<str>, Value)>,
) {
    let registration = Registration(tid);
    let gil = interp.gil.clone();
    gil.take(tid);
    // A panic is a bug. Release builds abort on one; elsewhere (tests, dev
    // builds) it is reported here and the GIL still goes back.
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut vm = Vm::with_tables(interp.clone(), tid, *tables);
        vm.set_stack_size(THREAD_STACK_SIZE);
        if let Err(err) = vm.call(&func, &args, &kwargs) {
            if !err.matches(ExcKind::SystemExit) {
                report_unraisable(&mut vm, &func, &err);
            }
        }
        // Drop the thread's values while still holding the GIL, as CPython
        // does, and run the finalizers that frees.
        drop(func);
        drop(args);
        drop(kwargs);
        vm.run_finalizers();
        drop(vm);
    }));
    if outcome.is_err() {
        interp.write_stderr("Fatal error in an interpreter thread: internal panic\n");
    }
    // Leave the registry while still holding the GIL, so that a thread that
    // joined this one sees it gone (`_thread._count()`) once it runs again.
    drop(registration);
    gil.release(tid);
}

/// `PyErr_WriteUnraisable` for a thread's uncaught exception.
fn report_unraisable(vm: &mut Vm, func: &Value, err: &PyErr) {
    let what = vm.repr(func).unwrap_or_else(|_| "<object>".to_string());
    let mut text = format!("Exception ignored in thread started by: {what}\n");
    text.push_str(&crate::vm::traceback::format_exception(
        vm,
        err,
        crate::vm::traceback::Printer::Interpreter,
    ));
    vm.interp.write_stderr(&text);
}

/// What a wait ended with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// The condition became true.
    Done,
    /// The deadline passed first.
    TimedOut,
    /// Ctrl-C arrived (main thread only).
    Interrupted,
}

/// Is a Ctrl-C pending for this (main) thread?
fn signal_pending(vm_is_main: bool, gil: &crate::runtime::gil::Gil) -> bool {
    vm_is_main && gil.eval_breaker() & BREAK_SIGNAL != 0
}

/// Turn an interrupted wait into KeyboardInterrupt (consuming the signal).
pub fn raise_if_interrupted(vm: &mut Vm, w: Wait) -> PyResult<Wait> {
    if w == Wait::Interrupted {
        vm.check_signals()?;
        // The signal was consumed elsewhere meanwhile: report it anyway.
        return Err(PyErr::with_args(ExcKind::KeyboardInterrupt, vec![]));
    }
    Ok(w)
}

/// Sleep with the GIL released until `deadline` (`None`: until `done()` holds,
/// checked every slice). The main thread wakes up for Ctrl-C.
pub fn wait_until(
    vm: &mut Vm,
    deadline: Option<Instant>,
    done: impl Fn() -> bool,
) -> PyResult<Wait> {
    let gil = vm.interp.gil.clone();
    let is_main = vm.is_main;
    let w = vm.allow_threads(|| loop {
        if done() {
            return Wait::Done;
        }
        if signal_pending(is_main, &gil) {
            return Wait::Interrupted;
        }
        let now = Instant::now();
        let left = match deadline {
            Some(d) if d <= now => return Wait::TimedOut,
            Some(d) => d - now,
            None => SLICE,
        };
        if left.is_zero() {
            std::thread::yield_now();
            continue;
        }
        std::thread::sleep(if is_main { left.min(SLICE) } else { left });
    });
    raise_if_interrupted(vm, w)
}

/// The state behind `_thread.lock`: a boolean under a mutex, and a condvar
/// signalled on release. Any thread may release it.
#[derive(Default)]
pub struct RawLock {
    locked: Mutex<bool>,
    released: Condvar,
}

impl RawLock {
    pub fn new() -> RawLock {
        RawLock::default()
    }

    pub fn try_acquire(&self) -> bool {
        let mut l = self.locked.lock();
        if *l {
            return false;
        }
        *l = true;
        true
    }

    /// Block (GIL released) until acquired or `deadline` passes.
    pub fn acquire(&self, vm: &mut Vm, deadline: Option<Instant>) -> PyResult<bool> {
        if self.try_acquire() {
            return Ok(true);
        }
        if deadline.is_some_and(|d| d <= Instant::now()) {
            return Ok(false);
        }
        let gil = vm.interp.gil.clone();
        let is_main = vm.is_main;
        let w = vm.allow_threads(|| {
            let mut l = self.locked.lock();
            while *l {
                if signal_pending(is_main, &gil) {
                    return Wait::Interrupted;
                }
                let slice_end = match (deadline, is_main) {
                    (Some(d), true) => Some(d.min(Instant::now() + SLICE)),
                    (Some(d), false) => Some(d),
                    (None, true) => Some(Instant::now() + SLICE),
                    (None, false) => None,
                };
                match slice_end {
                    Some(end) => {
                        let _ = self.released.wait_until(&mut l, end);
                        if *l && deadline.is_some_and(|d| Instant::now() >= d) {
                            return Wait::TimedOut;
                        }
                    }
                    None => self.released.wait(&mut l),
                }
            }
            *l = true;
            Wait::Done
        });
        Ok(raise_if_interrupted(vm, w)? == Wait::Done)
    }

    /// Release; false if it was not locked.
    pub fn release(&self) -> bool {
        let mut l = self.locked.lock();
        if !*l {
            return false;
        }
        *l = false;
        self.released.notify_one();
        true
    }

    pub fn is_locked(&self) -> bool {
        *self.locked.lock()
    }
}

/// The state behind `_thread.RLock`: an owner and a recursion count.
#[derive(Default)]
pub struct RawRLock {
    /// (owner, count); owner 0 means unowned (idents start at 1).
    state: Mutex<(ThreadId, u64)>,
    released: Condvar,
}

impl RawRLock {
    pub fn new() -> RawRLock {
        RawRLock::default()
    }

    pub fn owner_count(&self) -> (ThreadId, u64) {
        *self.state.lock()
    }

    fn try_acquire(&self, me: ThreadId, count: u64) -> Result<bool, PyErr> {
        let mut st = self.state.lock();
        if st.0 == me && st.1 > 0 {
            st.1 =
                st.1.checked_add(count)
                    .ok_or_else(|| PyErr::overflow_error("Internal lock count overflowed"))?;
            return Ok(true);
        }
        if st.1 == 0 {
            *st = (me, count);
            return Ok(true);
        }
        Ok(false)
    }

    /// Acquire `count` levels at once (`_acquire_restore` passes the saved count).
    pub fn acquire(
        &self,
        vm: &mut Vm,
        deadline: Option<Instant>,
        blocking: bool,
        count: u64,
    ) -> PyResult<bool> {
        let me = vm.tid;
        if self.try_acquire(me, count)? {
            return Ok(true);
        }
        if !blocking || deadline.is_some_and(|d| d <= Instant::now()) {
            return Ok(false);
        }
        let gil = vm.interp.gil.clone();
        let is_main = vm.is_main;
        let w = vm.allow_threads(|| {
            let mut st = self.state.lock();
            while st.1 > 0 {
                if signal_pending(is_main, &gil) {
                    return Wait::Interrupted;
                }
                let end = match (deadline, is_main) {
                    (Some(d), true) => Some(d.min(Instant::now() + SLICE)),
                    (Some(d), false) => Some(d),
                    (None, true) => Some(Instant::now() + SLICE),
                    (None, false) => None,
                };
                match end {
                    Some(end) => {
                        let _ = self.released.wait_until(&mut st, end);
                        if st.1 > 0 && deadline.is_some_and(|d| Instant::now() >= d) {
                            return Wait::TimedOut;
                        }
                    }
                    None => self.released.wait(&mut st),
                }
            }
            *st = (me, count);
            Wait::Done
        });
        Ok(raise_if_interrupted(vm, w)? == Wait::Done)
    }

    /// Release one level; error if the caller does not own it.
    pub fn release(&self, me: ThreadId) -> PyResult<()> {
        let mut st = self.state.lock();
        if st.0 != me || st.1 == 0 {
            return Err(PyErr::runtime_error("cannot release un-acquired lock"));
        }
        st.1 -= 1;
        if st.1 == 0 {
            st.0 = 0;
            self.released.notify_one();
        }
        Ok(())
    }

    /// Release fully, returning the (count, owner) to restore later.
    pub fn release_save(&self, me: ThreadId) -> PyResult<(u64, ThreadId)> {
        let mut st = self.state.lock();
        if st.1 == 0 || st.0 != me {
            return Err(PyErr::runtime_error("cannot release un-acquired lock"));
        }
        let saved = (st.1, st.0);
        *st = (0, 0);
        self.released.notify_one();
        Ok(saved)
    }

    pub fn is_owned(&self, me: ThreadId) -> bool {
        let st = self.state.lock();
        st.1 > 0 && st.0 == me
    }
}

/// A deadline `secs` from now; `None` for "forever" (negative or huge).
pub fn deadline_after(secs: f64) -> Option<Instant> {
    if secs < 0.0 {
        return None;
    }
    Duration::try_from_secs_f64(secs)
        .ok()
        .and_then(|d| Instant::now().checked_add(d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_lock_basics() {
        let l = RawLock::new();
        assert!(l.try_acquire());
        assert!(!l.try_acquire());
        assert!(l.is_locked());
        assert!(l.release());
        assert!(!l.release());
    }

    #[test]
    fn rlock_counts_and_owner() {
        let r = RawRLock::new();
        assert!(r.try_acquire(7, 1).unwrap());
        assert!(r.try_acquire(7, 1).unwrap());
        assert!(!r.try_acquire(8, 1).unwrap());
        assert_eq!(r.owner_count(), (7, 2));
        assert!(r.release(8).is_err());
        assert_eq!(r.release_save(7).unwrap(), (2, 7));
        assert!(!r.is_owned(7));
        assert!(r.release(7).is_err());
    }

    #[test]
    fn deadlines() {
        assert!(deadline_after(-1.0).is_none());
        assert!(deadline_after(1e300).is_none());
        assert!(deadline_after(0.5).is_some());
    }
}
