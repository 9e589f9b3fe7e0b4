//! The global interpreter lock, following CPython's protocol (`Python/ceval_gil.c`).
//!
//! Read it side by side with CPython: [`Gil::take`] is `take_gil`, the private `drop_gil` is
//! `drop_gil`, [`Gil::handle_break`] is the GIL part of `_Py_HandlePending`, and the
//! `BREAK_GIL_DROP` bit is `gil_drop_request` folded into `eval_breaker`.
//!
//! - The GIL is a boolean `locked` under a mutex, with a condvar (`cond`) signalled on release.
//! - A thread that wants the GIL waits on `cond` for one switch interval at a time. If a wait times
//!   out and no switch happened meanwhile, it asks the holder to drop the GIL by setting
//!   `BREAK_GIL_DROP`; the holder's dispatch loop sees it at its next check site.
//! - FORCE_SWITCHING: a thread that drops the GIL on request waits (on `switch_cond`) until another
//!   thread has taken it. Without this, on a multi-core machine the dropper usually re-takes the
//!   GIL before the woken waiter is even scheduled, and the waiter starves.
//!
//! Unlike CPython we use one mutex for both condvars (CPython has a separate `switch_mutex`):
//! the waits are short and rare, and a single mutex makes "unlock, then wait for the switch"
//! atomic without CPython's careful ordering.
//!
//! Statistics (hold/wait time, forced vs voluntary drops) and a bounded event log are recorded
//! here, under the mutex that take/drop hold anyway, so the dispatch loop's check
//! ([`Gil::eval_breaker`]) stays a single relaxed load.

use parking_lot::{Condvar, Mutex};
use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// The interpreter's thread ident (`threading.get_ident()`).
pub type ThreadId = u64;

/// Eval-breaker bit: a waiter asks the holder to drop the GIL (`gil_drop_request`).
pub const BREAK_GIL_DROP: u32 = 1;
/// Eval-breaker bit: a signal (Ctrl-C) is pending for the main thread (`signals_pending`).
pub const BREAK_SIGNAL: u32 = 2;

/// CPython's default switch interval (`DEFAULT_INTERVAL`, 5000 µs).
pub const DEFAULT_INTERVAL: Duration = Duration::from_millis(5);
/// CPython clamps the interval to at least 1 µs (`INTERVAL`); a zero wait would spin.
const MIN_INTERVAL: Duration = Duration::from_micros(1);
/// Most recent events kept for timelines; older ones are discarded (a flight recorder).
const EVENT_LOG_CAPACITY: usize = 1 << 14;

/// What happened to the GIL, for timelines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GilEventKind {
    /// The thread found the GIL held and started waiting.
    WaitStart,
    /// The waiting thread's timed wait expired without a switch: it set `BREAK_GIL_DROP`.
    DropRequest,
    /// The thread took the GIL.
    Take,
    /// The holder dropped the GIL because it was asked to (eval breaker).
    ForcedDrop,
    /// The holder released the GIL on its own (blocking call, thread exit).
    Release,
}

/// One time-stamped entry of the event log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GilEvent {
    /// Time since the GIL was created.
    pub at: Duration,
    pub tid: ThreadId,
    pub kind: GilEventKind,
}

/// Per-thread figures, one row per registered thread.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ThreadStats {
    pub tid: ThreadId,
    pub name: String,
    /// Time spent holding the GIL (up to now for the current holder).
    pub hold: Duration,
    /// Time spent waiting for the GIL: inside `take`, plus a forced dropper's wait for the switch.
    pub wait: Duration,
    pub forced_drops: u64,
    pub voluntary_releases: u64,
    pub acquisitions: u64,
}

/// A stats row plus the start of the current hold, if the thread holds the GIL.
struct Row {
    stats: ThreadStats,
    held_since: Option<Instant>,
}

/// Everything protected by the GIL's mutex (`gil->mutex` in CPython).
struct State {
    locked: bool,
    /// The holder while `locked`; afterwards the last holder (CPython's `last_holder`), which
    /// is what lets `take` detect a switch and a forced dropper detect that someone took over.
    last_holder: Option<ThreadId>,
    /// Bumped whenever a different thread takes the GIL; a waiter whose timed wait expired only
    /// requests a drop if this did not move (no one else got a turn meanwhile).
    switch_number: u64,
    rows: Vec<Row>,
    /// tid -> index in `rows`; a reused ident points at its newest row.
    row_of: HashMap<ThreadId, usize>,
    events: VecDeque<GilEvent>,
    events_dropped: u64,
}

impl State {
    fn row(&mut self, tid: ThreadId) -> &mut Row {
        let index = match self.row_of.get(&tid) {
            Some(&i) => i,
            // A thread that never registered still gets a row rather than vanishing from stats.
            None => self.add_row(tid, format!("thread {tid}")),
        };
        &mut self.rows[index]
    }

    fn add_row(&mut self, tid: ThreadId, name: String) -> usize {
        let stats = ThreadStats {
            tid,
            name,
            ..ThreadStats::default()
        };
        self.rows.push(Row {
            stats,
            held_since: None,
        });
        self.row_of.insert(tid, self.rows.len() - 1);
        self.rows.len() - 1
    }
}

pub struct Gil {
    enabled: bool,
    /// Switch interval in nanoseconds (`gil->interval`); atomic so `sys.setswitchinterval`
    /// needs no lock.
    interval_ns: AtomicU64,
    /// The one word the dispatch loop reads (`eval_breaker`): BREAK_* bits.
    breaker: AtomicU32,
    state: Mutex<State>,
    /// Signalled when the GIL is released (`gil->cond`).
    cond: Condvar,
    /// Signalled when a different thread takes the GIL (`gil->switch_cond`).
    switch_cond: Condvar,
    /// Origin of event time stamps.
    created: Instant,
}

impl Gil {
    /// A new, unlocked GIL. The main thread should `register_thread` and `take` it at start-up.
    pub fn new(enabled: bool, interval: Duration) -> Gil {
        Gil {
            enabled,
            interval_ns: AtomicU64::new(duration_ns(interval.max(MIN_INTERVAL))),
            breaker: AtomicU32::new(0),
            state: Mutex::new(State {
                locked: false,
                last_holder: None,
                switch_number: 0,
                rows: Vec::new(),
                row_of: HashMap::new(),
                events: VecDeque::new(),
                events_dropped: 0,
            }),
            cond: Condvar::new(),
            switch_cond: Condvar::new(),
            created: Instant::now(),
        }
    }

    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    pub fn interval(&self) -> Duration {
        Duration::from_nanos(self.interval_ns.load(Relaxed))
    }

    /// `_PyEval_SetSwitchInterval`. Takes effect from each waiter's next timed wait.
    pub fn set_interval(&self, d: Duration) {
        self.interval_ns
            .store(duration_ns(d.max(MIN_INTERVAL)), Relaxed);
    }

    /// Register a thread's display name for statistics (call once when the thread starts).
    pub fn register_thread(&self, tid: ThreadId, name: &str) {
        self.state.lock().add_row(tid, name.to_string());
    }

    /// `take_gil`: block until this thread holds the GIL.
    pub fn take(&self, tid: ThreadId) {
        if !self.enabled {
            return;
        }
        let start = Instant::now();
        let mut st = self.state.lock();
        // Taking it twice is an interpreter bug; CPython aborts, we keep going rather than hang.
        if st.locked && st.last_holder == Some(tid) {
            return;
        }
        if st.locked {
            self.log(&mut st, tid, GilEventKind::WaitStart, start);
            while st.locked {
                let saved_switch_number = st.switch_number;
                let timed_out = self.cond.wait_for(&mut st, self.interval()).timed_out();
                // Timed out and nobody else got a turn meanwhile: ask the holder to drop it.
                if timed_out && st.locked && st.switch_number == saved_switch_number {
                    let before = self.breaker.fetch_or(BREAK_GIL_DROP, Relaxed);
                    if before & BREAK_GIL_DROP == 0 {
                        self.log(&mut st, tid, GilEventKind::DropRequest, Instant::now());
                    }
                }
            }
        }
        // `_ready:` in take_gil.
        st.locked = true;
        if st.last_holder != Some(tid) {
            st.last_holder = Some(tid);
            st.switch_number += 1;
            // Wake a forced dropper waiting for someone else to take over.
            self.switch_cond.notify_all();
        }
        // Any pending request was aimed at the previous holder (RESET_GIL_DROP_REQUEST).
        self.breaker.fetch_and(!BREAK_GIL_DROP, Relaxed);

        let now = Instant::now();
        let row = st.row(tid);
        row.stats.wait += now.saturating_duration_since(start);
        row.stats.acquisitions += 1;
        row.held_since = Some(now);
        self.log(&mut st, tid, GilEventKind::Take, now);
    }

    /// Voluntary release (thread exit, blocking call): `PyEval_SaveThread` → `drop_gil`.
    pub fn release(&self, tid: ThreadId) {
        if self.enabled {
            self.drop_gil(tid, false);
        }
    }

    /// The dispatch loop's check: nonzero means "call `handle_break`". One relaxed load, as in
    /// CPython; a stale zero only delays the switch to the next check site.
    #[inline]
    pub fn eval_breaker(&self) -> u32 {
        self.breaker.load(Relaxed)
    }

    /// `_Py_HandlePending`: on a drop request, drop the GIL (forced switch) and take it again.
    /// Returns true if a signal is pending and this is the main thread (which clears it); the
    /// caller then raises KeyboardInterrupt. Other threads leave the signal bit for the main one.
    pub fn handle_break(&self, tid: ThreadId, is_main: bool) -> bool {
        if self.enabled && self.breaker.load(Relaxed) & BREAK_GIL_DROP != 0 {
            self.drop_gil(tid, true);
            // Other threads may run now.
            self.take(tid);
        }
        is_main
            && self.breaker.load(Relaxed) & BREAK_SIGNAL != 0
            && self.breaker.fetch_and(!BREAK_SIGNAL, Relaxed) & BREAK_SIGNAL != 0
    }

    /// Set BREAK_SIGNAL (`_PyEval_SignalReceived`), e.g. from a signal-watcher thread.
    pub fn request_signal(&self) {
        self.breaker.fetch_or(BREAK_SIGNAL, Relaxed);
    }

    /// `Py_BEGIN_ALLOW_THREADS` / `Py_END_ALLOW_THREADS` around a blocking call.
    pub fn allow_threads<R>(&self, tid: ThreadId, f: impl FnOnce() -> R) -> R {
        if !self.enabled {
            return f();
        }
        // Re-take even if `f` unwinds, so the caller's view (it holds the GIL) stays true.
        struct Retake<'a>(&'a Gil, ThreadId);
        impl Drop for Retake<'_> {
            fn drop(&mut self) {
                self.0.take(self.1);
            }
        }
        self.release(tid);
        let _retake = Retake(self, tid);
        f()
    }

    /// One row per registered thread, in registration order; a current hold counts up to now.
    pub fn stats(&self) -> Vec<ThreadStats> {
        let st = self.state.lock();
        let now = Instant::now();
        st.rows
            .iter()
            .map(|row| {
                let mut stats = row.stats.clone();
                if let Some(since) = row.held_since {
                    stats.hold += now.saturating_duration_since(since);
                }
                stats
            })
            .collect()
    }

    /// The most recent GIL events (at most `EVENT_LOG_CAPACITY`), oldest first, and how many
    /// earlier ones were discarded. Empty when the GIL is off.
    pub fn events(&self) -> (Vec<GilEvent>, u64) {
        let st = self.state.lock();
        (st.events.iter().copied().collect(), st.events_dropped)
    }

    /// The `--gil-stats` table printed to stderr at exit.
    pub fn render_stats(&self) -> String {
        let rows = self.stats();
        let mut out = String::new();
        if !self.enabled {
            out.push_str("GIL statistics: GIL off; threads ran without it, so nothing to report\n");
            for row in &rows {
                let _ = writeln!(out, "  {}", row.name);
            }
            return out;
        }
        let switches = self.state.lock().switch_number;
        let _ = writeln!(
            out,
            "GIL statistics (switch interval {:.3} ms, {} switches)",
            ms(self.interval()),
            switches
        );
        let width = rows.iter().map(|r| r.name.len()).max().unwrap_or(0).max(6);
        let _ = writeln!(
            out,
            "{:<width$}  {:>10}  {:>10}  {:>8}  {:>8}  {:>9}",
            "thread", "hold ms", "wait ms", "taken", "forced", "voluntary"
        );
        for r in &rows {
            let _ = writeln!(
                out,
                "{:<width$}  {:>10.1}  {:>10.1}  {:>8}  {:>8}  {:>9}",
                r.name,
                ms(r.hold),
                ms(r.wait),
                r.acquisitions,
                r.forced_drops,
                r.voluntary_releases
            );
        }
        out
    }

    /// `drop_gil`: unlock and signal a waiter; if a drop was requested, wait until another
    /// thread has taken the GIL (FORCE_SWITCHING). Dropping a GIL this thread does not hold is
    /// an interpreter bug; it is ignored rather than corrupting the state.
    fn drop_gil(&self, tid: ThreadId, forced: bool) {
        let mut st = self.state.lock();
        if !st.locked || st.last_holder != Some(tid) {
            return;
        }
        let now = Instant::now();
        let row = st.row(tid);
        if let Some(since) = row.held_since.take() {
            row.stats.hold += now.saturating_duration_since(since);
        }
        if forced {
            row.stats.forced_drops += 1;
        } else {
            row.stats.voluntary_releases += 1;
        }
        let kind = if forced {
            GilEventKind::ForcedDrop
        } else {
            GilEventKind::Release
        };
        self.log(&mut st, tid, kind, now);

        st.locked = false;
        self.cond.notify_one();

        // As in CPython this applies to voluntary releases too: a waiter asked for a turn.
        // The request can only have been set by a thread still waiting in `take`, so someone
        // will take over and end this wait.
        if self.breaker.load(Relaxed) & BREAK_GIL_DROP != 0 {
            self.breaker.fetch_and(!BREAK_GIL_DROP, Relaxed);
            while st.last_holder == Some(tid) {
                self.switch_cond.wait(&mut st);
            }
            let waited = Instant::now().saturating_duration_since(now);
            st.row(tid).stats.wait += waited;
        }
    }

    /// Append to the bounded event log (caller holds the state lock).
    fn log(&self, st: &mut State, tid: ThreadId, kind: GilEventKind, at: Instant) {
        if st.events.len() == EVENT_LOG_CAPACITY {
            st.events.pop_front();
            st.events_dropped += 1;
        }
        let at = at.saturating_duration_since(self.created);
        st.events.push_back(GilEvent { at, tid, kind });
    }
}

fn duration_ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{mpsc, Arc};
    use std::thread;

    /// Generous bound for "eventually": only reached if the protocol is broken (a hang).
    const PATIENCE: Duration = Duration::from_secs(60);
    const HUGE: Duration = Duration::from_secs(3600);

    fn gil(interval: Duration) -> Arc<Gil> {
        let gil = Arc::new(Gil::new(true, interval));
        gil.register_thread(1, "MainThread");
        gil.register_thread(2, "Thread-1");
        gil
    }

    /// Poll until `cond` holds; panics only if it never does within PATIENCE.
    fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
        let start = Instant::now();
        while !cond() {
            assert!(start.elapsed() < PATIENCE, "never happened: {what}");
            thread::sleep(Duration::from_millis(1));
        }
    }

    fn has_event(gil: &Gil, tid: ThreadId, kind: GilEventKind) -> bool {
        gil.events()
            .0
            .iter()
            .any(|e| e.tid == tid && e.kind == kind)
    }

    fn takes(gil: &Gil) -> Vec<ThreadId> {
        let events = gil.events().0;
        events
            .iter()
            .filter(|e| e.kind == GilEventKind::Take)
            .map(|e| e.tid)
            .collect()
    }

    #[test]
    fn gil_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Gil>();
    }

    #[test]
    fn no_drop_request_before_a_wait_times_out() {
        let gil = gil(HUGE);
        gil.take(1);
        let waiter = {
            let gil = gil.clone();
            thread::spawn(move || {
                gil.take(2);
                gil.release(2);
            })
        };
        eventually("waiter blocks", || {
            has_event(&gil, 2, GilEventKind::WaitStart)
        });
        // The waiter's first timed wait lasts an hour: it cannot have asked for a drop.
        thread::sleep(Duration::from_millis(20));
        assert_eq!(gil.eval_breaker(), 0);
        gil.release(1);
        waiter.join().unwrap();
        assert!(!has_event(&gil, 2, GilEventKind::DropRequest));
        assert_eq!(gil.eval_breaker(), 0);
    }

    #[test]
    fn timed_out_waiter_sets_drop_request() {
        let gil = gil(Duration::from_millis(1));
        gil.take(1);
        let waiter = {
            let gil = gil.clone();
            thread::spawn(move || {
                gil.take(2);
                gil.release(2);
            })
        };
        eventually("drop request", || gil.eval_breaker() & BREAK_GIL_DROP != 0);
        assert!(has_event(&gil, 2, GilEventKind::DropRequest));
        // The request is honoured only at the holder's next check; until then it keeps the GIL.
        assert_eq!(gil.state.lock().last_holder, Some(1));
        assert!(!gil.handle_break(1, true));
        waiter.join().unwrap();
        gil.release(1);
    }

    #[test]
    fn forced_switch_hands_the_gil_to_the_waiter() {
        let gil = gil(Duration::from_millis(1));
        let order = Arc::new(Mutex::new(Vec::new()));
        gil.take(1);
        let waiter = {
            let (gil, order) = (gil.clone(), order.clone());
            thread::spawn(move || {
                gil.take(2);
                order.lock().push(2);
                gil.release(2);
            })
        };
        eventually("drop request", || gil.eval_breaker() & BREAK_GIL_DROP != 0);
        gil.handle_break(1, true);
        // Thread 2 pushed while holding the GIL, so it must come before our re-take.
        order.lock().push(1);
        waiter.join().unwrap();
        assert_eq!(*order.lock(), vec![2, 1]);
        assert_eq!(takes(&gil), vec![1, 2, 1]);
        gil.release(1);
    }

    #[test]
    fn allow_threads_lets_another_thread_run() {
        let gil = gil(HUGE);
        gil.take(1);
        let (tx, rx) = mpsc::channel();
        let other = {
            let gil = gil.clone();
            thread::spawn(move || {
                gil.take(2);
                tx.send(()).unwrap();
                gil.release(2);
            })
        };
        // If allow_threads did not release the GIL, thread 2 could never send.
        let got = gil.allow_threads(1, || rx.recv_timeout(PATIENCE));
        assert!(got.is_ok());
        assert_eq!(gil.state.lock().last_holder, Some(1));
        other.join().unwrap();
        gil.release(1);
    }

    #[test]
    fn disabled_gil_never_blocks() {
        let gil = Arc::new(Gil::new(false, Duration::from_millis(1)));
        gil.register_thread(1, "MainThread");
        gil.take(1);
        let (tx, rx) = mpsc::channel();
        let other = {
            let gil = gil.clone();
            thread::spawn(move || {
                gil.take(2);
                tx.send(()).unwrap();
                gil.release(2);
            })
        };
        assert!(rx.recv_timeout(PATIENCE).is_ok());
        other.join().unwrap();
        assert_eq!(gil.eval_breaker(), 0);
        assert!(!gil.handle_break(1, true));
        assert_eq!(gil.allow_threads(1, || 7), 7);
        assert!(gil.events().0.is_empty());
        assert!(gil.render_stats().contains("GIL off"));
        gil.release(1);
    }

    #[test]
    fn stats_count_acquisitions_and_drops() {
        let gil = gil(Duration::from_millis(1));
        gil.take(1);
        let waiter = {
            let gil = gil.clone();
            thread::spawn(move || {
                gil.take(2);
                gil.release(2);
            })
        };
        eventually("drop request", || gil.eval_breaker() & BREAK_GIL_DROP != 0);
        gil.handle_break(1, true);
        waiter.join().unwrap();
        gil.release(1);

        let stats = gil.stats();
        let names: Vec<&str> = stats.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["MainThread", "Thread-1"]);
        let (main, t1) = (&stats[0], &stats[1]);
        assert_eq!(
            (
                main.acquisitions,
                main.forced_drops,
                main.voluntary_releases
            ),
            (2, 1, 1)
        );
        assert_eq!(
            (t1.acquisitions, t1.forced_drops, t1.voluntary_releases),
            (1, 0, 1)
        );
        assert!(t1.wait > Duration::ZERO);
        let table = gil.render_stats();
        assert!(table.contains("MainThread") && table.contains("Thread-1"));
    }

    #[test]
    fn signal_is_consumed_by_the_main_thread_only() {
        let gil = gil(HUGE);
        gil.take(1);
        gil.request_signal();
        assert_eq!(gil.eval_breaker(), BREAK_SIGNAL);
        assert!(!gil.handle_break(1, false));
        assert_eq!(gil.eval_breaker(), BREAK_SIGNAL);
        assert!(gil.handle_break(1, true));
        assert_eq!(gil.eval_breaker(), 0);
        assert!(!gil.handle_break(1, true));
        gil.release(1);
    }

    #[test]
    fn take_by_the_holder_does_not_deadlock() {
        let gil = gil(HUGE);
        gil.take(1);
        gil.take(1);
        assert_eq!(gil.stats()[0].acquisitions, 1);
        gil.release(1);
        assert!(!gil.state.lock().locked);
    }

    #[test]
    fn interval_is_clamped_and_settable() {
        let gil = Gil::new(true, Duration::ZERO);
        assert_eq!(gil.interval(), MIN_INTERVAL);
        gil.set_interval(Duration::from_millis(20));
        assert_eq!(gil.interval(), Duration::from_millis(20));
    }
}
