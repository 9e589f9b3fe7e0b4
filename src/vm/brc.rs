//! [`Brc`]: a shared pointer whose count is cheap for the thread that made
//! the object (biased reference counting, as in CPython 3.13t).
//!
//! An `Arc` updates its count with a locked read-modify-write on every
//! clone and drop: a full barrier, ~5 ns here, and the single largest cost
//! of a method call on an instance. Yet most objects are only ever touched
//! by the thread that created them. So each object records that thread, its
//! *owner*, and keeps two counts whose sum is the object's count:
//! - `local`: the owner's references, updated with plain loads and stores
//!   by the owner alone;
//! - `shared`: everyone else's, atomic. It is the count shifted left by two
//!   with a [state](QUEUED) in the low bits, and may go negative: another
//!   thread may drop a reference the owner counted.
//!
//! When the owner's local count reaches zero it gives the object up
//! (*merges*): `owner` becomes [`NOBODY`] and `shared` holds the whole count
//! from then on. When another thread's drop would take `shared` below zero
//! from exactly zero, the object's count may have reached zero but only the
//! owner can tell: the reference is handed to the owner's queue instead, and
//! the owner merges the object at its next eval-breaker check (or when it
//! exits). An object whose owner has exited is merged by whoever finds that
//! out, under the registry lock.
//!
//! Instances, functions and strs use it (the values a call or a string
//! loop clones and drops most); the other heap values are still `Arc`s.
//!
//! Memory safety does not depend on the GIL: `local` is only ever accessed
//! by its owner, or once the owner has exited by one thread under the
//! registry lock, which orders it after the owner's last access.

use std::cell::{Cell, RefCell, UnsafeCell};
use std::collections::HashMap;
use std::marker::PhantomData;
use std::ops::Deref;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};

use parking_lot::Mutex;

const SHIFT: u32 = 2;
const ONE: isize = 1 << SHIFT;
const STATE: isize = ONE - 1;
/// State bits of `shared`: another thread queued a reference for the owner
/// to merge.
const QUEUED: isize = 1;
/// State bits of `shared`: it holds the whole count; there is no owner.
const MERGED: isize = 2;

/// `owner` of a merged object.
const NOBODY: usize = 0;
/// [`me`] on a thread that has unregistered (it is exiting): it owns nothing.
const EXITED: usize = usize::MAX;

/// The counts first: in the same cache line as the start of the value,
/// which the caller usually touches next.
#[repr(C)]
struct Inner<T> {
    owner: AtomicUsize,
    local: UnsafeCell<usize>,
    shared: AtomicIsize,
    value: T,
}

pub struct Brc<T> {
    ptr: NonNull<Inner<T>>,
    _owns: PhantomData<Inner<T>>,
}

// SAFETY: a `Brc` hands out `&T` on any thread, so `T` must be `Sync`, and
// the last drop may run `T`'s destructor on any thread, so `T` must be
// `Send`. The counts themselves are safe to share: `shared` is atomic and
// `local` is touched by one thread at a time (module docs).
unsafe impl<T: Send + Sync> Send for Brc<T> {}
unsafe impl<T: Send + Sync> Sync for Brc<T> {}

impl<T> Brc<T> {
    pub fn new(value: T) -> Brc<T> {
        let me = me();
        let (owner, local, shared) = match me {
            EXITED => (NOBODY, 0, ONE | MERGED),
            id => (id, 1, 0),
        };
        let inner = Box::new(Inner {
            owner: AtomicUsize::new(owner),
            local: UnsafeCell::new(local),
            shared: AtomicIsize::new(shared),
            value,
        });
        Brc {
            ptr: NonNull::from(Box::leak(inner)),
            _owns: PhantomData,
        }
    }

    /// An object with no owner from the start: every thread counts it
    /// atomically, and whichever thread drops the last reference frees it
    /// (an instance with a `__del__` is finalized on that thread, as in
    /// CPython, not later on its creator's).
    pub fn new_shared(value: T) -> Brc<T> {
        let inner = Box::new(Inner {
            owner: AtomicUsize::new(NOBODY),
            local: UnsafeCell::new(0),
            shared: AtomicIsize::new(ONE | MERGED),
            value,
        });
        Brc {
            ptr: NonNull::from(Box::leak(inner)),
            _owns: PhantomData,
        }
    }

    #[inline(always)]
    fn inner(&self) -> &Inner<T> {
        // SAFETY: the allocation lives while any `Brc` to it does.
        unsafe { self.ptr.as_ref() }
    }

    #[inline(always)]
    pub fn ptr_eq(a: &Brc<T>, b: &Brc<T>) -> bool {
        a.ptr == b.ptr
    }

    /// The address of the value (stable for the object's life, like
    /// `Arc::as_ptr`).
    #[inline(always)]
    pub fn as_ptr(this: &Brc<T>) -> *const T {
        &this.inner().value
    }

    /// The object's count; exact only when no other thread holds it.
    #[cfg(test)]
    pub(crate) fn count(this: &Brc<T>) -> isize {
        let inner = this.inner();
        let shared = inner.shared.load(Ordering::Acquire) >> SHIFT;
        if inner.owner.load(Ordering::Relaxed) == me() {
            // SAFETY: this thread owns the object (module docs).
            shared + unsafe { *inner.local.get() } as isize
        } else if inner.owner.load(Ordering::Relaxed) == NOBODY {
            shared
        } else {
            // Another thread's local count is not ours to read.
            isize::MAX
        }
    }
}

impl<T> Brc<T> {
    /// Take a reference when this thread owns the object: a plain
    /// increment, with no call on any path (for hot paths that must not
    /// save registers). `false`, and nothing taken, otherwise.
    #[inline(always)]
    pub fn try_clone_owned(this: &Brc<T>) -> bool {
        let inner = this.inner();
        let me = ME.get();
        if me != 0 && inner.owner.load(Ordering::Relaxed) == me {
            // SAFETY: only the owner touches `local`.
            unsafe { *inner.local.get() += 1 };
            true
        } else {
            false
        }
    }
}

impl<T> Brc<T> {
    /// The value, mutably, when `this` is its only reference (as
    /// `Arc::get_mut`): no other thread or value can then observe a change.
    #[inline]
    pub fn get_mut(this: &mut Brc<T>) -> Option<&mut T> {
        let inner = this.inner();
        let unique = match inner.owner.load(Ordering::Relaxed) {
            // The owner's references are in `local`, everyone else's in
            // `shared` (which goes negative when another thread drops one
            // the owner counted): a count of one is `local == 1` with
            // nothing shared or queued. Acquire orders this thread after
            // the other threads' drops.
            // SAFETY: only the owner touches `local`.
            id if id == me() => {
                let local = unsafe { *inner.local.get() };
                local == 1 && inner.shared.load(Ordering::Acquire) == 0
            }
            NOBODY => inner.shared.load(Ordering::Acquire) == ONE | MERGED,
            _ => false,
        };
        // SAFETY: this is the only reference, held mutably.
        unique.then(|| unsafe { &mut (*this.ptr.as_ptr()).value })
    }
}

impl<T> Deref for Brc<T> {
    type Target = T;
    #[inline(always)]
    fn deref(&self) -> &T {
        &self.inner().value
    }
}

impl<T> Clone for Brc<T> {
    #[inline(always)]
    fn clone(&self) -> Brc<T> {
        let inner = self.inner();
        if inner.owner.load(Ordering::Relaxed) == me() {
            // SAFETY: only the owner touches `local`.
            unsafe { *inner.local.get() += 1 };
        } else {
            inner.shared.fetch_add(ONE, Ordering::Relaxed);
        }
        Brc {
            ptr: self.ptr,
            _owns: PhantomData,
        }
    }
}

impl<T> Drop for Brc<T> {
    #[inline(always)]
    fn drop(&mut self) {
        let inner = self.inner();
        if inner.owner.load(Ordering::Relaxed) == me() {
            // SAFETY: only the owner touches `local`; this reference is
            // counted there, so it is at least 1.
            let last = unsafe {
                let local = &mut *inner.local.get();
                *local -= 1;
                *local == 0
            };
            if last {
                // SAFETY: this thread owns the object and its local count is 0.
                unsafe { merge_zero_local(self.ptr) };
            }
        } else {
            // SAFETY: this reference is counted and is given up here.
            unsafe { drop_shared(self.ptr) };
        }
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Brc<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        (**self).fmt(f)
    }
}

/// Free the object.
///
/// # Safety
/// Its count is zero, no queue holds it, and this thread's view of it is
/// ordered after every other thread's last access (an acquire on `shared`).
unsafe fn dealloc<T>(ptr: NonNull<Inner<T>>) {
    drop(Box::from_raw(ptr.as_ptr()));
}

/// The owner dropped its last reference: free the object if nobody else
/// has one, else give it up to the shared count.
///
/// # Safety
/// Called by the owner, whose local count just reached zero.
#[cold]
unsafe fn merge_zero_local<T>(ptr: NonNull<Inner<T>>) {
    let inner = ptr.as_ref();
    let mut shared = inner.shared.load(Ordering::Acquire);
    if shared == 0 {
        // No other thread holds or queued a reference.
        dealloc(ptr);
        return;
    }
    // A queued reference is counted in `local`, so none is queued now.
    inner.owner.store(NOBODY, Ordering::Relaxed);
    loop {
        let merged = (shared & !STATE) | MERGED;
        match inner.shared.compare_exchange_weak(
            shared,
            merged,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => {
                if merged == MERGED {
                    dealloc(ptr);
                }
                return;
            }
            Err(now) => shared = now,
        }
    }
}

/// A thread other than the owner drops a reference.
///
/// # Safety
/// The caller gives up one counted reference.
#[inline(never)]
unsafe fn drop_shared<T>(ptr: NonNull<Inner<T>>) {
    let inner = ptr.as_ref();
    let mut shared = inner.shared.load(Ordering::Relaxed);
    if shared & STATE == MERGED {
        // The state never changes again: a plain atomic count.
        if inner.shared.fetch_sub(ONE, Ordering::AcqRel) == ONE | MERGED {
            dealloc(ptr);
        }
        return;
    }
    loop {
        // From exactly zero the object's count may be zero, but only the
        // owner knows its local count: hand it the reference instead.
        let queue = shared == 0;
        let next = if queue { QUEUED } else { shared - ONE };
        match inner
            .shared
            .compare_exchange_weak(shared, next, Ordering::AcqRel, Ordering::Relaxed)
        {
            Ok(_) => {
                if queue {
                    queue_for_owner(ptr);
                } else if next == MERGED {
                    dealloc(ptr);
                }
                return;
            }
            Err(now) => shared = now,
        }
    }
}

/// Merge the counts into `shared` (adding `extra`) and give up ownership;
/// returns the object's count.
///
/// # Safety
/// Run by the owner, or after the owner exited under the registry lock.
unsafe fn explicit_merge<T>(ptr: NonNull<Inner<T>>, extra: isize) -> isize {
    let inner = ptr.as_ref();
    let local = *inner.local.get() as isize;
    let mut shared = inner.shared.load(Ordering::Relaxed);
    loop {
        let count = (shared >> SHIFT) + local + extra;
        let merged = (count << SHIFT) | MERGED;
        match inner.shared.compare_exchange_weak(
            shared,
            merged,
            Ordering::AcqRel,
            Ordering::Relaxed,
        ) {
            Ok(_) => {
                *inner.local.get() = 0;
                inner.owner.store(NOBODY, Ordering::Relaxed);
                return count;
            }
            Err(now) => shared = now,
        }
    }
}

/// Merge a queued object, dropping the reference the queue held.
///
/// # Safety
/// `ptr` is an `Inner<T>` queued by [`queue_for_owner`]; see
/// [`explicit_merge`] for who may call this.
unsafe fn merge_queued_object<T>(ptr: *const ()) {
    let ptr = NonNull::new_unchecked(ptr as *mut Inner<T>);
    if explicit_merge(ptr, -1) == 0 {
        dealloc(ptr);
    }
}

/// A reference handed to an owner thread (type-erased).
struct Queued {
    ptr: *const (),
    merge: unsafe fn(*const ()),
}

// SAFETY: a queued object is only merged by its owner or under the registry
// lock (see `merge_queued_object`); the pointer is just carried over.
unsafe impl Send for Queued {}

/// # Safety
/// The caller turned `shared` from 0 to `QUEUED` and hands over the
/// reference it was dropping.
#[cold]
unsafe fn queue_for_owner<T>(ptr: NonNull<Inner<T>>) {
    // The queued reference is counted in the owner's `local`, which cannot
    // reach zero before the owner merges it: the owner is set.
    let owner = ptr.as_ref().owner.load(Ordering::Relaxed);
    let item = Queued {
        ptr: ptr.as_ptr() as *const (),
        merge: merge_queued_object::<T>,
    };
    let registry = REGISTRY.lock();
    match registry.get(&owner) {
        Some(record) => {
            record.queue.lock().push(item);
            record.pending.store(true, Ordering::Release);
        }
        None => {
            // The owner exited (it unregistered under this lock after its
            // last access to `local`): merge here, under the lock.
            let count = explicit_merge(ptr, -1);
            drop(registry);
            if count == 0 {
                dealloc(ptr);
            }
        }
    }
}

/// A live thread: references other threads handed it to merge.
#[derive(Default)]
struct Record {
    queue: Mutex<Vec<Queued>>,
    pending: AtomicBool,
}

static REGISTRY: LazyLock<Mutex<HashMap<usize, Arc<Record>>>> = LazyLock::new(Default::default);
static NEXT_ID: AtomicUsize = AtomicUsize::new(1);

thread_local! {
    /// This thread's id: 0 until it first needs one, [`EXITED`] once it
    /// unregistered.
    static ME: Cell<usize> = const { Cell::new(0) };
    /// This thread's record while registered (for [`merge_pending`]).
    static RECORD: Cell<*const Record> = const { Cell::new(std::ptr::null()) };
    /// Unregisters the thread when it exits.
    static REGISTRATION: RefCell<Option<Registration>> = const { RefCell::new(None) };
}

#[inline(always)]
fn me() -> usize {
    match ME.get() {
        0 => register(),
        id => id,
    }
}

#[cold]
fn register() -> usize {
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let record = Arc::new(Record::default());
    let registered = REGISTRATION.try_with(|r| {
        *r.borrow_mut() = Some(Registration {
            id,
            record: record.clone(),
        })
    });
    if registered.is_err() {
        // The thread is already tearing down its thread-locals.
        ME.set(EXITED);
        return EXITED;
    }
    REGISTRY.lock().insert(id, record.clone());
    RECORD.set(Arc::as_ptr(&record));
    ME.set(id);
    id
}

struct Registration {
    id: usize,
    record: Arc<Record>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        // From here on this thread owns nothing: its drops take the shared
        // path, and objects it still owns are merged by whoever queues them.
        ME.set(EXITED);
        RECORD.set(std::ptr::null());
        REGISTRY.lock().remove(&self.id);
        // Anything queued before the removal is ours to merge. After it
        // this thread is not the owner of anything, so the merges below
        // may run under `explicit_merge`'s "owner exited" rule too.
        merge_all(&self.record);
    }
}

fn merge_all(record: &Record) {
    record.pending.store(false, Ordering::Relaxed);
    let items = std::mem::take(&mut *record.queue.lock());
    for q in items {
        // SAFETY: queued for this thread, which is the owner or has
        // unregistered (then no one else can be the owner).
        unsafe { (q.merge)(q.ptr) };
    }
}

/// Whether other threads handed this thread references to merge (checked
/// at the eval breaker).
#[inline(always)]
pub fn merge_pending() -> bool {
    let record = RECORD.get();
    // SAFETY: `RECORD` points into this thread's registration while set.
    !record.is_null() && unsafe { (*record).pending.load(Ordering::Relaxed) }
}

/// Make this thread's next eval-breaker check call [`merge_queued`] and
/// its caller's other pending work (`vm::finalize` queues finalizers).
pub fn wake() {
    me();
    let record = RECORD.get();
    if !record.is_null() {
        // SAFETY: as in `merge_pending`.
        unsafe { (*record).pending.store(true, Ordering::Relaxed) };
    }
}

/// Merge the references other threads handed this thread.
#[cold]
pub fn merge_queued() {
    let record = RECORD.get();
    if !record.is_null() {
        // SAFETY: as in `merge_pending`.
        merge_all(unsafe { &*record });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// Counts live values, to check that each is freed exactly once.
    struct Tracked(Arc<AtomicUsize>);
    impl Drop for Tracked {
        fn drop(&mut self) {
            self.0.fetch_sub(1, Ordering::SeqCst);
        }
    }
    fn tracked(live: &Arc<AtomicUsize>) -> Brc<Tracked> {
        live.fetch_add(1, Ordering::SeqCst);
        Brc::new(Tracked(live.clone()))
    }

    #[test]
    fn owner_only_references_free_at_zero() {
        let live = Arc::new(AtomicUsize::new(0));
        let a = tracked(&live);
        let b = a.clone();
        assert_eq!(Brc::count(&a), 2);
        drop(a);
        assert_eq!(live.load(Ordering::SeqCst), 1);
        drop(b);
        assert_eq!(live.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn get_mut_only_for_the_one_reference() {
        let mut a = Brc::new(String::from("x"));
        Brc::get_mut(&mut a).unwrap().push('y');
        let b = a.clone();
        assert!(Brc::get_mut(&mut a).is_none());
        // Another thread holds a reference (counted in `shared`).
        let (tx, rx) = std::sync::mpsc::channel();
        let (back, done) = std::sync::mpsc::channel::<()>();
        let t = std::thread::spawn(move || {
            let held: Brc<String> = b.clone();
            tx.send(()).unwrap();
            done.recv().unwrap();
            drop(held);
            drop(b); // the owner counted it: queued for the owner
        });
        rx.recv().unwrap();
        assert!(Brc::get_mut(&mut a).is_none());
        back.send(()).unwrap();
        t.join().unwrap();
        // One reference is left, but the queued one is not merged yet.
        assert!(Brc::get_mut(&mut a).is_none());
        merge_queued();
        assert_eq!(Brc::get_mut(&mut a).map(|s| s.as_str()), Some("xy"));
        // Merged objects (no owner) are unique at a shared count of one.
        let mut m = Brc::new_shared(1u8);
        assert!(Brc::get_mut(&mut m).is_some());
        let m2 = m.clone();
        assert!(Brc::get_mut(&mut m).is_none());
        drop(m2);
        assert!(Brc::get_mut(&mut m).is_some());
    }

    #[test]
    fn another_thread_drops_the_last_reference() {
        let live = Arc::new(AtomicUsize::new(0));
        let a = tracked(&live);
        let b = a.clone();
        drop(a);
        // The owner's local count is 1 (b); the other thread drops b: its
        // drop queues the reference, and the owner frees it on merging.
        std::thread::spawn(move || drop(b)).join().unwrap();
        assert_eq!(live.load(Ordering::SeqCst), 1);
        assert!(merge_pending());
        merge_queued();
        assert_eq!(live.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn owner_gives_up_an_object_others_hold() {
        let live = Arc::new(AtomicUsize::new(0));
        let a = tracked(&live);
        let (tx, rx) = std::sync::mpsc::channel();
        let (back, done) = std::sync::mpsc::channel();
        let t = std::thread::spawn(move || {
            let mine: Brc<Tracked> = rx.recv().unwrap();
            let extra = mine.clone(); // shared +1
            back.send(()).unwrap();
            drop(mine); // queued or merged
            drop(extra);
        });
        tx.send(a.clone()).unwrap();
        done.recv().unwrap();
        drop(a);
        t.join().unwrap();
        merge_queued();
        assert_eq!(live.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn objects_of_an_exited_owner_are_merged_by_others() {
        let live = Arc::new(AtomicUsize::new(0));
        let l = live.clone();
        let (a, b) = std::thread::spawn(move || {
            let a = tracked(&l);
            (a.clone(), a)
        })
        .join()
        .unwrap();
        assert_eq!(live.load(Ordering::SeqCst), 1);
        drop(a);
        drop(b);
        assert_eq!(live.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn many_threads_share_one_object() {
        let live = Arc::new(AtomicUsize::new(0));
        let a = tracked(&live);
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let mine = a.clone();
                std::thread::spawn(move || {
                    for _ in 0..10_000 {
                        let c = mine.clone();
                        drop(c);
                    }
                    drop(mine);
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(live.load(Ordering::SeqCst), 1);
        drop(a);
        merge_queued();
        assert_eq!(live.load(Ordering::SeqCst), 0);
    }
}
