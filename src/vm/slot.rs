//! Writing values into stack slots with one 16-byte store.
//!
//! Moving a `Value` compiles to one 16-byte load and store. Building one in
//! place (`slot.write(Value::Int(n))`) compiles to two stores instead: the
//! tag byte, then the payload word. When the dispatch loop reads that slot
//! back soon after, as the next instruction usually does, the 16-byte load
//! spans both stores and cannot be forwarded from the store buffer: it
//! waits for them to reach the cache (~15 cycles; the largest single cost
//! of a call in profiles). The helpers here write hot values with a single
//! 16-byte store, which later whole-value and tag loads forward from.
//!
//! Not everywhere: an arithmetic result updated in place keeps its
//! payload-only store, because the fused arithmetic instructions read the
//! payload alone, and an 8-byte load from the upper half of a 16-byte
//! store does not forward on this hardware (notes/PERF.md).
//!
//! The reverse holds for reads: an 8-byte load of the payload alone does
//! not forward from a 16-byte store of the whole value. Drops and clones,
//! which need the payload to find the reference count, therefore read the
//! value with one 16-byte load too ([`load_words`]).
//!
//! They rely on `Value`'s fixed layout (`repr(u8)`: the tag in byte 0, an
//! int at offset 8), checked by the tests below.

use crate::vm::value::Value;

/// `Value::Null`'s tag; its other bytes are padding.
const NULL: u64 = 0;
/// `Value::Int`'s tag; the int is the word at offset 8.
const INT: u64 = 3;
/// `Value::Instance`'s tag.
const INSTANCE: u8 = 17;
/// The last tag of a value that owns no reference (Null, None, Bool, Int,
/// Float).
const LAST_SCALAR: u8 = 4;

/// The value at `src` as two words (tag word, payload), read with one
/// 16-byte load.
///
/// # Safety
/// `src` is valid for a 16-byte read. The tag word's upper bytes may be
/// padding: only its low byte (and for a bool, the next) is meaningful.
#[inline(always)]
unsafe fn load_words(src: *const Value) -> (u64, u64) {
    #[cfg(target_arch = "x86_64")]
    {
        let (lo, hi): (u64, u64);
        // SAFETY: the caller guarantees 16 readable bytes. The asm reads
        // them as raw bits, so padding bytes come out as whatever the
        // machine holds (never uninitialised Rust integers); SSE2 is part
        // of x86_64.
        std::arch::asm!(
            "movdqu {x}, [{p}]",
            "movq {lo}, {x}",
            "punpckhqdq {x}, {x}",
            "movq {hi}, {x}",
            p = in(reg) src,
            x = out(xmm_reg) _,
            lo = out(reg) lo,
            hi = out(reg) hi,
            options(pure, readonly, nostack, preserves_flags),
        );
        (lo, hi)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let words = src as *const u64;
        // SAFETY: as above; only the payload word is read as an integer
        // and the tag byte separately, so no padding is read.
        (*(src as *const u8) as u64, words.add(1).read())
    }
}

/// Rebuild a value from the words [`load_words`] read.
///
/// # Safety
/// The words were read from a valid value whose ownership passes to the
/// result, and its tag is above [`LAST_SCALAR`] (no payload in the tag
/// word, so clearing its padding bytes changes nothing).
#[inline(always)]
unsafe fn from_words(tag: u64, payload: u64) -> Value {
    std::mem::transmute::<[u64; 2], Value>([tag & 0xff, payload])
}

/// Drop the value at `p` in place (see [`load_words`] for why not
/// `std::ptr::drop_in_place`).
///
/// # Safety
/// As `std::ptr::drop_in_place`: `p` holds a valid value, which is
/// treated as moved out afterwards.
#[inline(always)]
pub unsafe fn drop_in_place(p: *mut Value) {
    // A one-byte load of the tag forwards from any store of it; most
    // values dropped in hot loops are scalars.
    if *(p as *const u8) > LAST_SCALAR {
        let (tag, payload) = load_words(p);
        if tag as u8 == INSTANCE {
            // Instances are what frames drop most (`self`, arguments):
            // their biased count is dropped inline.
            if let Value::Instance(x) = from_words(tag, payload) {
                std::mem::drop(x);
            }
        } else {
            drop_words(tag, payload);
        }
    }
}

/// A value moved out of a slot as its two words ([`load_words`]); dropping
/// it drops the value.
pub struct Words(u64, u64);

impl Drop for Words {
    #[inline(always)]
    fn drop(&mut self) {
        if self.0 as u8 > LAST_SCALAR {
            // SAFETY: the words are a value this owns (see `replace`).
            unsafe { drop_words(self.0, self.1) }
        }
    }
}

/// Put `v` in `dst` and return the old value, read with one 16-byte load
/// (a field-by-field copy of it would not forward from the 16-byte store
/// that usually wrote it).
#[inline(always)]
pub fn replace(dst: &mut Value, v: Value) -> Words {
    // SAFETY: `dst` is a valid value; its words are moved into the result
    // and the slot overwritten at once, with nothing in between.
    unsafe {
        let (tag, payload) = load_words(dst);
        std::ptr::write(dst, v);
        Words(tag, payload)
    }
}

/// Out of line: the value is rebuilt in registers, so the drop glue reads
/// its payload from there or from this function's own word stores.
#[inline(never)]
unsafe fn drop_words(tag: u64, payload: u64) {
    // Every variant that owns a reference is listed: dropping the whole
    // value would store it to memory in halves and reload it in one piece,
    // which stalls in the same way.
    match from_words(tag, payload) {
        Value::Null | Value::None | Value::Bool(_) | Value::Int(_) | Value::Float(_) => {}
        Value::BigInt(x) => std::mem::drop(x),
        Value::Str(x) => std::mem::drop(x),
        Value::Bytes(x) => std::mem::drop(x),
        Value::List(x) => std::mem::drop(x),
        Value::Tuple(x) => std::mem::drop(x),
        Value::Dict(x) => std::mem::drop(x),
        Value::Set(x) | Value::FrozenSet(x) => std::mem::drop(x),
        Value::Function(x) => std::mem::drop(x),
        Value::Native(x) => std::mem::drop(x),
        Value::BoundMethod(x) => std::mem::drop(x),
        Value::Class(x) => std::mem::drop(x),
        Value::Instance(x) => std::mem::drop(x),
        Value::Module(x) => std::mem::drop(x),
        Value::Object(x) => std::mem::drop(x),
        Value::ByteArray(x) => std::mem::drop(x),
    }
}

/// Store `tag` and `payload` as one value with a single 16-byte store.
///
/// # Safety
/// `dst` is valid for a `Value` write; whatever it held is overwritten
/// without being dropped. `tag`/`payload` form a valid value that owns no
/// reference (a scalar), or one whose reference the caller hands over.
#[inline(always)]
unsafe fn store(dst: *mut Value, tag: u64, payload: u64) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{__m128i, _mm_set_epi64x, _mm_storeu_si128};
        // SAFETY: SSE2 is part of x86_64; `dst` is valid for 16 bytes.
        _mm_storeu_si128(
            dst as *mut __m128i,
            _mm_set_epi64x(payload as i64, tag as i64),
        );
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        (dst as *mut [u64; 2]).write([tag, payload]);
    }
}

/// Write `Value::Null`.
///
/// # Safety
/// `dst` is valid for a `Value` write; what it held is not dropped.
#[inline(always)]
pub unsafe fn write_null(dst: *mut Value) {
    store(dst, NULL, 0);
}

/// Write `Value::Int(n)`.
///
/// # Safety
/// `dst` is valid for a `Value` write; what it held is not dropped.
#[inline(always)]
pub unsafe fn write_int(dst: *mut Value, n: i64) {
    store(dst, INT, n as u64);
}

/// Move the value out of `slot`, leaving `Null`.
#[inline(always)]
pub fn take(slot: &mut Value) -> Value {
    // SAFETY: `slot` is valid for reads and writes; its value is moved out
    // and the slot overwritten at once with a value owning nothing, with
    // nothing in between that could panic or observe it.
    unsafe {
        let v = std::ptr::read(slot);
        write_null(slot);
        v
    }
}

/// Write a clone of `v` to `dst`: the reference count is taken, then the
/// bits are copied whole (see the module docs). `Value::clone` does the
/// same for every variant but is too big to inline; the common variants
/// here are (measured: nbody and strings 6-8% faster than calling it).
///
/// # Safety
/// `dst` is valid for a `Value` write and does not overlap `v`; whatever it
/// held is overwritten without being dropped.
#[inline(always)]
pub unsafe fn write_clone(dst: *mut Value, v: &Value) {
    match v {
        Value::Null | Value::None | Value::Bool(_) | Value::Int(_) | Value::Float(_) => {}
        Value::Instance(x) => std::mem::forget(x.clone()),
        Value::Str(x) => std::mem::forget(x.clone()),
        Value::List(x) => std::mem::forget(x.clone()),
        Value::Tuple(x) => std::mem::forget(x.clone()),
        Value::Function(x) => std::mem::forget(x.clone()),
        Value::Class(x) => std::mem::forget(x.clone()),
        Value::Object(x) => std::mem::forget(x.clone()),
        Value::Native(x) => std::mem::forget(x.clone()),
        Value::Dict(x) => std::mem::forget(x.clone()),
        _ => {
            dst.write(v.clone());
            return;
        }
    }
    // The count taken above belongs to the copy.
    std::ptr::copy_nonoverlapping(v, dst, 1);
}

/// `Value::Int(n)`, built with one 16-byte store (see [`store`]).
#[inline(always)]
pub fn int(n: i64) -> Value {
    let mut out = std::mem::MaybeUninit::<Value>::uninit();
    // SAFETY: `out` is valid for writes; the write initialises it whole.
    unsafe {
        write_int(out.as_mut_ptr(), n);
        out.assume_init()
    }
}

/// Whether `v` owns no reference (Null, None, Bool, Int, Float).
#[inline(always)]
pub fn is_scalar(v: &Value) -> bool {
    // SAFETY: the tag is byte 0 of every value (see the layout tests).
    unsafe { *(v as *const Value as *const u8) <= LAST_SCALAR }
}

/// A copy of `v`, which [`is_scalar`]: its bits are a complete copy.
#[inline(always)]
pub fn copy_scalar(v: &Value) -> Value {
    debug_assert!(is_scalar(v));
    // SAFETY: a scalar owns nothing, so a bitwise copy is a clone.
    unsafe { std::ptr::read(v) }
}

/// `v.clone()` as one 16-byte copy (see [`write_clone`]), for clones
/// the caller pushes soon after.
#[inline(always)]
pub fn clone(v: &Value) -> Value {
    let mut out = std::mem::MaybeUninit::<Value>::uninit();
    // SAFETY: `out` is valid for writes and separate from `v`; the write
    // initialises it whole.
    unsafe {
        write_clone(out.as_mut_ptr(), v);
        out.assume_init()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vm::brc::Brc;
    use std::mem::MaybeUninit;

    fn written(f: impl FnOnce(*mut Value)) -> Value {
        let mut slot = MaybeUninit::<Value>::uninit();
        f(slot.as_mut_ptr());
        // SAFETY: `f` initialised the slot.
        unsafe { slot.assume_init() }
    }

    #[test]
    fn stores_match_the_compiler_layout() {
        // SAFETY: each closure writes a whole value.
        unsafe {
            assert!(matches!(written(|p| write_null(p)), Value::Null));
            assert!(matches!(written(|p| write_int(p, -7)), Value::Int(-7)));
            assert!(matches!(int(i64::MIN), Value::Int(i64::MIN)));
        }
        let inst = crate::vm::class::new_instance_of(crate::vm::types::types().object.clone());
        // SAFETY: `Value` is `repr(u8)`: its first byte is the tag.
        assert_eq!(unsafe { *(&inst as *const Value as *const u8) }, INSTANCE);
    }

    #[test]
    fn clones_take_a_count_and_take_leaves_null() {
        let s = Value::str("hello");
        // SAFETY: the closure writes a whole value.
        let mut c = written(|p| unsafe { write_clone(p, &s) });
        match (&s, &c) {
            (Value::Str(a), Value::Str(b)) => {
                assert!(Brc::ptr_eq(a, b));
                assert_eq!(Brc::count(a), 2);
            }
            _ => panic!("not a str"),
        }
        let taken = take(&mut c);
        assert!(matches!(c, Value::Null));
        drop(taken);
        if let Value::Str(a) = &s {
            assert_eq!(Brc::count(a), 1);
        }
    }

    #[test]
    fn drops_in_place_release_the_count() {
        let s = Value::str("shared");
        let mut copies = vec![s.clone(), Value::Int(3), s.clone(), Value::None];
        let p = copies.as_mut_ptr();
        // SAFETY: each slot holds a valid value, dropped once; the vector
        // forgets them first.
        unsafe {
            copies.set_len(0);
            for i in 0..4 {
                drop_in_place(p.add(i));
            }
        }
        if let Value::Str(a) = &s {
            assert_eq!(Brc::count(a), 1);
        }
    }
}
