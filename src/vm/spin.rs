//! A small spin lock for the short critical sections of hot objects
//! (instance namespaces, list items, built-in iterators).
//!
//! Those sections never run script code and at most take one container's
//! own lock (an iterator reading its dict), so a waiter spins briefly and
//! then yields. What it saves over `parking_lot::Mutex` is the
//! release: a plain store instead of a locked compare-exchange (which must
//! look for parked waiters), i.e. one full barrier per attribute access or
//! list subscript.

use std::sync::atomic::{AtomicBool, Ordering};

pub struct RawSpin {
    locked: AtomicBool,
}

/// A mutex with `parking_lot`'s API (`lock()` returns a guard).
pub type SpinMutex<T> = lock_api::Mutex<RawSpin, T>;

// SAFETY: `lock` returns only after this thread swapped `locked` from false
// to true with Acquire ordering, and `unlock` (called only by the holder,
// as the trait requires) stores false with Release ordering: at most one
// thread holds the lock, and each holder sees the previous holder's writes.
unsafe impl lock_api::RawMutex for RawSpin {
    #[allow(clippy::declare_interior_mutable_const)]
    const INIT: RawSpin = RawSpin {
        locked: AtomicBool::new(false),
    };
    type GuardMarker = lock_api::GuardSend;

    #[inline]
    fn lock(&self) {
        if self
            .locked
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            self.lock_contended();
        }
    }

    #[inline]
    fn try_lock(&self) -> bool {
        self.locked
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    #[inline]
    unsafe fn unlock(&self) {
        self.locked.store(false, Ordering::Release);
    }

    #[inline]
    fn is_locked(&self) -> bool {
        self.locked.load(Ordering::Relaxed)
    }
}

impl RawSpin {
    #[cold]
    fn lock_contended(&self) {
        let mut waits = 0u32;
        loop {
            while self.locked.load(Ordering::Relaxed) {
                waits = waits.saturating_add(1);
                if waits < 100 {
                    std::hint::spin_loop();
                } else if waits < 1000 {
                    std::thread::yield_now();
                } else {
                    // The holder was descheduled: stop burning the core.
                    std::thread::sleep(std::time::Duration::from_micros(50));
                }
            }
            if lock_api::RawMutex::try_lock(self) {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn excludes_and_publishes_across_threads() {
        let m = Arc::new(SpinMutex::new(0u64));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let m = m.clone();
                std::thread::spawn(move || {
                    for _ in 0..20_000 {
                        *m.lock() += 1;
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(*m.lock(), 80_000);
    }

    #[test]
    fn try_lock_fails_while_held() {
        let m = SpinMutex::new(());
        let g = m.lock();
        assert!(m.try_lock().is_none());
        drop(g);
        assert!(m.try_lock().is_some());
    }
}
