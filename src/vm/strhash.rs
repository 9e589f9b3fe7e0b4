//! CPython's hash of `str` and `bytes`: SipHash-1-3 over the bytes of the
//! object's storage (`Python/pyhash.c`), with the all-zero key CPython uses
//! when `PYTHONHASHSEED=0`. Hashing as CPython does there makes the order of
//! a set of strings (and of dicts after deletions) the same as CPython's
//! under that seed; with any other seed CPython's order is random anyway.

/// `_Py_HashBytes`: 0 for empty input, never -1 (CPython's error marker).
pub fn hash_bytes(data: &[u8]) -> i64 {
    if data.is_empty() {
        return 0;
    }
    let h = siphash13(data) as i64;
    if h == -1 {
        -2
    } else {
        h
    }
}

/// The hash of a str: CPython hashes its PEP 393 storage, one byte per
/// character when every character is below U+0100, else two (below
/// U+10000) or four, little-endian on the machines we run on.
pub fn hash_str(s: &str, ascii: bool) -> i64 {
    if ascii {
        return hash_bytes(s.as_bytes());
    }
    let widest = s.chars().map(u32::from).max().unwrap_or(0);
    let width = match widest {
        0..=0xff => 1,
        0x100..=0xffff => 2,
        _ => 4,
    };
    let mut buf = Vec::with_capacity(s.len() * width);
    for c in s.chars() {
        let bytes = u32::from(c).to_le_bytes();
        buf.extend_from_slice(&bytes[..width]);
    }
    hash_bytes(&buf)
}

/// SipHash-1-3 with a zero key (`siphash13` in `Python/pyhash.c`).
fn siphash13(data: &[u8]) -> u64 {
    let mut v = [
        0x736f_6d65_7073_6575u64,
        0x646f_7261_6e64_6f6du64,
        0x6c79_6765_6e65_7261u64,
        0x7465_6462_7974_6573u64,
    ];
    let mut chunks = data.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let m = u64::from_le_bytes(word);
        v[3] ^= m;
        round(&mut v);
        v[0] ^= m;
    }
    let mut tail = [0u8; 8];
    let rest = chunks.remainder();
    tail[..rest.len()].copy_from_slice(rest);
    let b = ((data.len() as u64) << 56) | u64::from_le_bytes(tail);
    v[3] ^= b;
    round(&mut v);
    v[0] ^= b;
    v[2] ^= 0xff;
    round(&mut v);
    round(&mut v);
    round(&mut v);
    (v[0] ^ v[1]) ^ (v[2] ^ v[3])
}

/// One SipRound (CPython's `SINGLE_ROUND`).
#[inline]
fn round(v: &mut [u64; 4]) {
    v[0] = v[0].wrapping_add(v[1]);
    v[2] = v[2].wrapping_add(v[3]);
    v[1] = v[1].rotate_left(13) ^ v[0];
    v[3] = v[3].rotate_left(16) ^ v[2];
    v[0] = v[0].rotate_left(32);
    v[2] = v[2].wrapping_add(v[1]);
    v[0] = v[0].wrapping_add(v[3]);
    v[1] = v[1].rotate_left(17) ^ v[2];
    v[3] = v[3].rotate_left(21) ^ v[0];
    v[2] = v[2].rotate_left(32);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values printed by CPython 3.11 with `PYTHONHASHSEED=0`.
    #[test]
    fn matches_cpython_with_seed_zero() {
        assert_eq!(hash_str("", true), 0);
        assert_eq!(hash_str("a", true), 4644417185603328019);
        assert_eq!(hash_str("abc", true), -4594863902769663758);
        assert_eq!(hash_str("abcdefghijklmnopq", true), 7044894726457044172);
        assert_eq!(hash_str("é", false), 6047309291227476195);
        assert_eq!(hash_str("€uro", false), 7542247858446192590);
        assert_eq!(hash_str("😀x", false), -8926728262118538918);
        assert_eq!(hash_bytes(b"a"), 4644417185603328019);
        assert_eq!(hash_bytes(b"\xff\x00"), 7217110220190950386);
    }
}
