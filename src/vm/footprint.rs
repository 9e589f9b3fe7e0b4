//! What an interpreter thread allocates up front, and how it grows.
//!
//! Each thread has its own caches (attribute sites, globals, MRO lookups)
//! and value stack, so their sizes are paid once per thread. Programs that
//! start a thread per task keep thousands of threads that mostly wait on a
//! lock or a queue and touch a few dozen sites each. So:
//!
//! - the main thread starts at full size: a single-threaded program runs
//!   exactly as it would with fixed-size caches;
//! - every other thread starts with a few sets per cache and a short value
//!   stack, made by the thread that starts it ([`Tables`]). A cache doubles
//!   each time it has missed [`GROW_AFTER`] times per entry since it last
//!   grew, up to full size: a busy thread gets there within a few thousand
//!   misses, an idle one stays at a few kilobytes. The value stack grows as
//!   any `Vec` does.
//!
//! A cache picks its set from the top bits of a multiplicative hash, enough
//! for the full size, masked down to its current size. A full-size cache
//! thus puts every key where a fixed-size one would, and a hit pays one
//! `and` for the variable size (the global cache also skips its bounds
//! check, see `GlobalCache::pair`).

use crate::vm::interp::run::GlobalCache;
use crate::vm::ops::{AttrCache, Intern};
use crate::vm::site_cache::SiteCache;
use crate::vm::value::Value;

/// A thread's caches and value stack at their starting size, made by the
/// thread that starts it. mimalloc gives every thread pages of its own,
/// one per size class in use, and a new thread's first block of a size
/// class makes it touch a fresh page (4 KiB or more resident): a waiting
/// thread's few small tables would each cost that. Made by the starting
/// thread, thousands of them share its pages.
pub struct Tables {
    pub(crate) stack: Vec<Value>,
    pub(crate) global_cache: GlobalCache,
    pub(crate) site_cache: SiteCache,
    pub(crate) attr_cache: AttrCache,
    pub(crate) intern: Intern,
}

impl Tables {
    /// Empty caches and an empty value stack of `start`'s size.
    pub fn new(start: Start) -> Tables {
        Tables {
            stack: Vec::with_capacity(start.stack_slots()),
            global_cache: GlobalCache::new(start),
            site_cache: SiteCache::new(start),
            attr_cache: AttrCache::new(start),
            intern: Intern::new(start),
        }
    }
}

/// Whether a thread's caches and stack start at full size or small.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Start {
    /// The main thread.
    Full,
    /// Every other thread.
    Small,
}

impl Start {
    /// Value-stack slots to reserve: the main thread's programs often run
    /// deep at once; a waiting thread's stack holds a few frames.
    pub(crate) fn stack_slots(self) -> usize {
        match self {
            Start::Full => 1024,
            Start::Small => 64,
        }
    }
}

/// Misses per entry, since the last growth, that make a cache double.
const GROW_AFTER: usize = 2;

/// The current set count of a cache, and the misses left before it doubles.
#[derive(Clone, Copy)]
pub(crate) struct Sets {
    /// The set count minus one: sets are a power of two.
    mask: usize,
    /// The largest set count.
    full: usize,
    /// Misses left before the cache doubles (never reached at full size).
    left: usize,
    /// Entries per set.
    ways: usize,
}

impl Sets {
    /// `small` and `full` are powers of two, `small <= full`.
    pub(crate) const fn new(start: Start, small: usize, full: usize, ways: usize) -> Sets {
        debug_assert!(small.is_power_of_two() && full.is_power_of_two() && small <= full);
        let count = match start {
            Start::Full => full,
            Start::Small => small,
        };
        Sets {
            mask: count - 1,
            full,
            left: budget(count, full, ways),
            ways,
        }
    }

    /// The set for a hash already reduced to `0..full`.
    #[inline(always)]
    pub(crate) fn pick(&self, full_index: usize) -> usize {
        full_index & self.mask
    }

    pub(crate) fn count(&self) -> usize {
        self.mask + 1
    }

    /// Entries in a table of this many sets.
    pub(crate) fn entries(&self) -> usize {
        self.ways * self.count()
    }

    /// Count a miss that is about to fill an entry: `true` when the cache
    /// should double first (see [`Sets::double`]).
    #[inline(always)]
    pub(crate) fn miss(&mut self) -> bool {
        self.left -= 1;
        self.left == 0
    }

    /// The cache is doubling (or staying at full size); the caller builds
    /// the new table with [`Sets::entries`] entries.
    pub(crate) fn double(&mut self) {
        if self.count() < self.full {
            self.mask = 2 * self.mask + 1;
        }
        self.left = budget(self.count(), self.full, self.ways);
    }
}

/// The misses a cache of `count` sets takes before it doubles.
const fn budget(count: usize, full: usize, ways: usize) -> usize {
    if count < full {
        GROW_AFTER * ways * count
    } else {
        usize::MAX
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_caches_double_up_to_full_size() {
        let mut s = Sets::new(Start::Small, 4, 16, 2);
        assert_eq!(s.entries(), 8);
        let mut misses = 0;
        while s.count() < 16 {
            misses += 1;
            if s.miss() {
                s.double();
            }
        }
        // 2 misses per entry at 4 sets, then at 8.
        assert_eq!(misses, 2 * 8 + 2 * 16);
        for _ in 0..10_000 {
            assert!(!s.miss());
        }
        assert_eq!(s.pick(0b1_0111), 0b0111);
    }

    #[test]
    fn full_caches_keep_their_size() {
        let mut s = Sets::new(Start::Full, 4, 16, 2);
        assert_eq!(s.count(), 16);
        assert_eq!(s.pick(13), 13);
        s.double();
        assert_eq!(s.count(), 16);
        assert!(!s.miss());
    }
}
