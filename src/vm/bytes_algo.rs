//! The byte-string algorithms behind the methods `bytes` and `bytearray`
//! share: plain functions over `&[u8]`, ASCII semantics throughout (as
//! CPython's `bytes_methods.c`).

/// `bytes.isspace` and friends: space, \t, \n, \v, \f, \r (not \x1c-\x1f).
pub fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c')
}

/// The first (or, `rev`, last) position of `needle` in `hay`.
pub fn find(hay: &[u8], needle: &[u8], rev: bool) -> Option<usize> {
    if needle.is_empty() {
        return Some(if rev { hay.len() } else { 0 });
    }
    if needle.len() > hay.len() {
        return None;
    }
    let mut positions = hay
        .windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle);
    if rev {
        positions.next_back().map(|(i, _)| i)
    } else {
        positions.next().map(|(i, _)| i)
    }
}

/// Non-overlapping occurrences of a non-empty `needle`, at most `limit`.
pub fn count(hay: &[u8], needle: &[u8], limit: usize) -> usize {
    let mut n = 0;
    let mut rest = hay;
    while n < limit {
        match find(rest, needle, false) {
            Some(i) => {
                n += 1;
                rest = &rest[i + needle.len()..];
            }
            None => break,
        }
    }
    n
}

/// `split(sep, maxsplit)` (`maxsplit < 0`: no limit); `sep` is not empty.
pub fn split_sep<'a>(s: &'a [u8], sep: &[u8], maxsplit: i64) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = s;
    while maxsplit < 0 || (out.len() as i64) < maxsplit {
        match find(rest, sep, false) {
            Some(i) => {
                out.push(&rest[..i]);
                rest = &rest[i + sep.len()..];
            }
            None => break,
        }
    }
    out.push(rest);
    out
}

/// `rsplit(sep, maxsplit)`; `sep` is not empty.
pub fn rsplit_sep<'a>(s: &'a [u8], sep: &[u8], maxsplit: i64) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = s;
    while maxsplit < 0 || (out.len() as i64) < maxsplit {
        match find(rest, sep, true) {
            Some(i) => {
                out.push(&rest[i + sep.len()..]);
                rest = &rest[..i];
            }
            None => break,
        }
    }
    out.push(rest);
    out.reverse();
    out
}

/// `split()` on runs of whitespace.
pub fn split_whitespace(s: &[u8], maxsplit: i64) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        while i < s.len() && is_space(s[i]) {
            i += 1;
        }
        if i == s.len() {
            break;
        }
        if maxsplit >= 0 && out.len() as i64 >= maxsplit {
            // The rest, trailing whitespace included, as CPython keeps it.
            out.push(&s[i..]);
            break;
        }
        let start = i;
        while i < s.len() && !is_space(s[i]) {
            i += 1;
        }
        out.push(&s[start..i]);
    }
    out
}

/// `rsplit()` on runs of whitespace.
pub fn rsplit_whitespace(s: &[u8], maxsplit: i64) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut end = s.len();
    loop {
        while end > 0 && is_space(s[end - 1]) {
            end -= 1;
        }
        if end == 0 {
            break;
        }
        if maxsplit >= 0 && out.len() as i64 >= maxsplit {
            out.push(&s[..end]);
            break;
        }
        let stop = end;
        while end > 0 && !is_space(s[end - 1]) {
            end -= 1;
        }
        out.push(&s[end..stop]);
    }
    out.reverse();
    out
}

/// `splitlines(keepends)`: lines end at \n, \r or \r\n.
pub fn splitlines(s: &[u8], keepends: bool) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if c == b'\n' || c == b'\r' {
            let mut end = i + 1;
            if c == b'\r' && s.get(end) == Some(&b'\n') {
                end += 1;
            }
            out.push(&s[start..if keepends { end } else { i }]);
            start = end;
            i = end;
        } else {
            i += 1;
        }
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}

/// `strip(chars)` (`None`: whitespace) from the chosen sides.
pub fn strip<'a>(s: &'a [u8], chars: Option<&[u8]>, left: bool, right: bool) -> &'a [u8] {
    let strip_it = |c: &u8| match chars {
        None => is_space(*c),
        Some(set) => set.contains(c),
    };
    let mut start = 0;
    let mut end = s.len();
    if left {
        while start < end && strip_it(&s[start]) {
            start += 1;
        }
    }
    if right {
        while end > start && strip_it(&s[end - 1]) {
            end -= 1;
        }
    }
    &s[start..end]
}

/// `replace(old, new, count)` (`count < 0`: all); an empty `old` matches
/// before every byte and at the end.
pub fn replace(s: &[u8], old: &[u8], new: &[u8], count: i64) -> Vec<u8> {
    let limit = if count < 0 {
        usize::MAX
    } else {
        count as usize
    };
    let mut out = Vec::with_capacity(s.len());
    if old.is_empty() {
        let mut n = 0;
        for (i, &c) in s.iter().enumerate() {
            if n < limit {
                out.extend_from_slice(new);
                n += 1;
            } else {
                out.extend_from_slice(&s[i..]);
                return out;
            }
            out.push(c);
        }
        if n < limit {
            out.extend_from_slice(new);
        }
        return out;
    }
    let mut rest = s;
    let mut n = 0;
    while n < limit {
        match find(rest, old, false) {
            Some(i) => {
                out.extend_from_slice(&rest[..i]);
                out.extend_from_slice(new);
                rest = &rest[i + old.len()..];
                n += 1;
            }
            None => break,
        }
    }
    out.extend_from_slice(rest);
    out
}

/// How many times `replace` substitutes (for the size check before it).
pub fn replace_count(s: &[u8], old: &[u8], count: i64) -> usize {
    let limit = if count < 0 {
        usize::MAX
    } else {
        count as usize
    };
    if old.is_empty() {
        (s.len() + 1).min(limit)
    } else {
        self::count(s, old, limit)
    }
}

/// `expandtabs(tab)`: the column restarts after \n and \r.
pub fn expandtabs(s: &[u8], tab: i64) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut col: i64 = 0;
    for &c in s {
        match c {
            b'\t' => {
                if tab > 0 {
                    let n = tab - col % tab;
                    out.extend(std::iter::repeat_n(b' ', n as usize));
                    col += n;
                }
            }
            b'\n' | b'\r' => {
                out.push(c);
                col = 0;
            }
            _ => {
                out.push(c);
                col += 1;
            }
        }
    }
    out
}

/// The final length of `expandtabs(tab)` (for the size check before it).
pub fn expandtabs_len(s: &[u8], tab: i64) -> u128 {
    let tabs = s.iter().filter(|&&c| c == b'\t').count() as u128;
    s.len() as u128 + tabs * tab.max(0) as u128
}

pub fn capitalize(s: &[u8]) -> Vec<u8> {
    s.iter()
        .enumerate()
        .map(|(i, c)| {
            if i == 0 {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

pub fn title(s: &[u8]) -> Vec<u8> {
    let mut prev_cased = false;
    s.iter()
        .map(|&c| {
            let r = if prev_cased {
                c.to_ascii_lowercase()
            } else {
                c.to_ascii_uppercase()
            };
            prev_cased = c.is_ascii_alphabetic();
            r
        })
        .collect()
}

pub fn swapcase(s: &[u8]) -> Vec<u8> {
    s.iter()
        .map(|&c| {
            if c.is_ascii_lowercase() {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

pub fn islower(s: &[u8]) -> bool {
    s.iter().any(u8::is_ascii_lowercase) && !s.iter().any(u8::is_ascii_uppercase)
}

pub fn isupper(s: &[u8]) -> bool {
    s.iter().any(u8::is_ascii_uppercase) && !s.iter().any(u8::is_ascii_lowercase)
}

/// Uppercase letters only after uncased bytes, lowercase only after cased
/// ones, and at least one cased byte.
pub fn istitle(s: &[u8]) -> bool {
    crate::vm::str::title_cased(s.iter().map(|c| {
        if c.is_ascii_uppercase() {
            Some(true)
        } else if c.is_ascii_lowercase() {
            Some(false)
        } else {
            None
        }
    }))
}

/// `center`/`ljust`/`rjust`: `left` fill bytes, `s`, then the rest up to `width`.
pub fn pad(s: &[u8], width: usize, fill: u8, left: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(width);
    out.extend(std::iter::repeat_n(fill, left));
    out.extend_from_slice(s);
    out.extend(std::iter::repeat_n(fill, width - s.len() - left));
    out
}

/// CPython's split of `center`'s margin: the extra byte goes left when
/// the width is odd.
pub fn center_left(len: usize, width: usize) -> usize {
    let marg = width - len;
    marg / 2 + (marg & width & 1)
}

/// `zfill(width)`: zeros after a leading sign.
pub fn zfill(s: &[u8], width: usize) -> Vec<u8> {
    if width <= s.len() {
        return s.to_vec();
    }
    let fill = width - s.len();
    let mut out = Vec::with_capacity(width);
    let body = match s.first() {
        Some(&c @ (b'+' | b'-')) => {
            out.push(c);
            &s[1..]
        }
        _ => s,
    };
    out.extend(std::iter::repeat_n(b'0', fill));
    out.extend_from_slice(body);
    out
}

/// `hex(sep, bytes_per_sep)`: a separator every `|per|` bytes, counted
/// from the right (from the left when `per` is negative).
pub fn hex(b: &[u8], sep: Option<char>, per: i64) -> String {
    let group = per.unsigned_abs() as usize;
    let mut out = String::with_capacity(b.len() * 3);
    for (i, c) in b.iter().enumerate() {
        if let (Some(sep), true) = (sep, i > 0 && group > 0) {
            let boundary = if per > 0 {
                (b.len() - i).is_multiple_of(group)
            } else {
                i.is_multiple_of(group)
            };
            if boundary {
                out.push(sep);
            }
        }
        out.push_str(&format!("{c:02x}"));
    }
    out
}

/// `bytes.fromhex(s)`: pairs of hex digits, whitespace allowed between
/// pairs; `Err(position)` of the first bad character.
pub fn fromhex(s: &str) -> Result<Vec<u8>, usize> {
    let digits: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < digits.len() {
        if digits[i].is_ascii_whitespace() || digits[i] == '\x0b' {
            i += 1;
            continue;
        }
        let hi = digits[i].to_digit(16).ok_or(i)?;
        let lo = digits
            .get(i + 1)
            .and_then(|c| c.to_digit(16))
            .ok_or(i + 1)?;
        out.push((hi * 16 + lo) as u8);
        i += 2;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_cpython() {
        assert_eq!(split_whitespace(b"  a b  c ", 1), vec![&b"a"[..], b"b  c "]);
        assert_eq!(
            rsplit_whitespace(b"  a b  c ", 1),
            vec![&b"  a b"[..], b"c"]
        );
        assert_eq!(split_sep(b"a,b,,c", b",", 2), vec![&b"a"[..], b"b", b",c"]);
        assert_eq!(rsplit_sep(b"a,b,,c", b",", 2), vec![&b"a,b"[..], b"", b"c"]);
        assert_eq!(
            splitlines(b"a\r\nb\rc\n\nd", true),
            vec![&b"a\r\n"[..], b"b\r", b"c\n", b"\n", b"d"]
        );
    }

    #[test]
    fn replaces_like_cpython() {
        assert_eq!(replace(b"ab", b"", b"-", -1), b"-a-b-");
        assert_eq!(replace(b"ab", b"", b"-", 2), b"-a-b");
        assert_eq!(replace(b"aaa", b"a", b"bb", 2), b"bbbba");
        assert_eq!(replace_count(b"aaa", b"aa", -1), 1);
    }

    #[test]
    fn cases_and_padding() {
        assert_eq!(title(b"hello wORLD 3x"), b"Hello World 3X");
        assert!(istitle(b"Hello World"));
        assert!(!istitle(b"HeLlo"));
        assert_eq!(zfill(b"-42", 6), b"-00042");
        assert_eq!(pad(b"ab", 5, b'*', center_left(2, 5)), b"**ab*");
        assert_eq!(hex(b"\x01\x02\x03", Some('-'), 2), "01-0203");
        assert_eq!(fromhex("0 1"), Err(1));
    }
}
