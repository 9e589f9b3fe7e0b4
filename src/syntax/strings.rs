//! String and bytes literal bodies: escape decoding with CPython's error texts.

use crate::syntax::ast::Span;
use crate::syntax::parser::{SyntaxError, SyntaxErrorKind};

fn err(msg: String, offset: usize) -> SyntaxError {
    SyntaxError {
        kind: SyntaxErrorKind::SyntaxError,
        msg,
        span: Span::new(offset, offset),
        at_eof: false,
        quote: None,
    }
}

fn unicode_err(body_offset: usize, from: usize, to: usize, what: &str) -> SyntaxError {
    err(
        format!("(unicode error) 'unicodeescape' codec can't decode bytes in position {from}-{to}: {what}"),
        body_offset,
    )
}

/// Decode the body of a `str` literal. `offset` is where the body starts
/// in the source (for error positions).
pub fn decode_str(body: &str, raw: bool, offset: usize) -> Result<String, SyntaxError> {
    if raw || !body.contains('\\') {
        return Ok(normalize_newlines(body));
    }
    let b = body.as_bytes();
    let mut out = String::with_capacity(body.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c != b'\\' {
            // Copy a whole UTF-8 character.
            let ch = body[i..].chars().next().unwrap_or('\u{FFFD}');
            if ch == '\r' {
                out.push('\n');
                if b.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
            } else {
                out.push(ch);
            }
            i += ch.len_utf8();
            continue;
        }
        let start = i;
        i += 1;
        let Some(&e) = b.get(i) else {
            out.push('\\');
            break;
        };
        i += 1;
        match e {
            b'\n' => {}
            b'\r' => {
                if b.get(i) == Some(&b'\n') {
                    i += 1;
                }
            }
            b'\\' => out.push('\\'),
            b'\'' => out.push('\''),
            b'"' => out.push('"'),
            b'a' => out.push('\x07'),
            b'b' => out.push('\x08'),
            b'f' => out.push('\x0C'),
            b'n' => out.push('\n'),
            b'r' => out.push('\r'),
            b't' => out.push('\t'),
            b'v' => out.push('\x0B'),
            b'0'..=b'7' => {
                let mut v = (e - b'0') as u32;
                let mut n = 1;
                while n < 3 && i < b.len() && (b'0'..=b'7').contains(&b[i]) {
                    v = v * 8 + (b[i] - b'0') as u32;
                    i += 1;
                    n += 1;
                }
                out.push(char::from_u32(v).unwrap_or('\u{FFFD}'));
            }
            b'x' | b'u' | b'U' => {
                let (len, name) = match e {
                    b'x' => (2, "truncated \\xXX escape"),
                    b'u' => (4, "truncated \\uXXXX escape"),
                    _ => (8, "truncated \\UXXXXXXXX escape"),
                };
                let digits = b[i..]
                    .iter()
                    .take(len)
                    .take_while(|c| c.is_ascii_hexdigit())
                    .count();
                if digits < len {
                    return Err(unicode_err(offset, start, i + digits - 1, name));
                }
                let v = u32::from_str_radix(&body[i..i + len], 16).unwrap_or(0xFFFD);
                match char::from_u32(v) {
                    Some(ch) => out.push(ch),
                    None if v <= 0x10FFFF => out.push('\u{FFFD}'), // a lone surrogate
                    None => {
                        return Err(unicode_err(
                            offset,
                            start,
                            i + len - 1,
                            "illegal Unicode character",
                        ))
                    }
                }
                i += len;
            }
            b'N' => {
                let close = if b.get(i) == Some(&b'{') {
                    body[i..].find('}')
                } else {
                    None
                };
                let Some(close) = close else {
                    return Err(unicode_err(
                        offset,
                        start,
                        b.len() - 1,
                        "malformed \\N character escape",
                    ));
                };
                let name = &body[i + 1..i + close];
                match char_by_name(name) {
                    Some(ch) => out.push(ch),
                    None => {
                        return Err(unicode_err(
                            offset,
                            start,
                            i + close,
                            "unknown Unicode character name",
                        ))
                    }
                }
                i += close + 1;
            }
            _ => {
                // Unknown escapes keep their backslash (a DeprecationWarning in CPython).
                out.push('\\');
                i -= 1;
            }
        }
    }
    Ok(out)
}

/// Decode the body of a `bytes` literal.
pub fn decode_bytes(body: &str, raw: bool, offset: usize) -> Result<Vec<u8>, SyntaxError> {
    if let Some(pos) = body.find(|c: char| !c.is_ascii()) {
        return Err(err(
            "bytes can only contain ASCII literal characters".into(),
            offset + pos,
        ));
    }
    let b = body.as_bytes();
    if raw {
        return Ok(normalize_newlines(body).into_bytes());
    }
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c != b'\\' {
            if c == b'\r' {
                out.push(b'\n');
                if b.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
            } else {
                out.push(c);
            }
            i += 1;
            continue;
        }
        let start = i;
        i += 1;
        let Some(&e) = b.get(i) else {
            out.push(b'\\');
            break;
        };
        i += 1;
        match e {
            b'\n' => {}
            b'\r' => {
                if b.get(i) == Some(&b'\n') {
                    i += 1;
                }
            }
            b'\\' => out.push(b'\\'),
            b'\'' => out.push(b'\''),
            b'"' => out.push(b'"'),
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(11),
            b'0'..=b'7' => {
                let mut v = (e - b'0') as u32;
                let mut n = 1;
                while n < 3 && i < b.len() && (b'0'..=b'7').contains(&b[i]) {
                    v = v * 8 + (b[i] - b'0') as u32;
                    i += 1;
                    n += 1;
                }
                out.push((v & 0xFF) as u8);
            }
            b'x' => {
                let digits = b[i..]
                    .iter()
                    .take(2)
                    .take_while(|c| c.is_ascii_hexdigit())
                    .count();
                if digits < 2 {
                    return Err(err(
                        format!("(value error) invalid \\x escape at position {start}"),
                        offset,
                    ));
                }
                out.push(u8::from_str_radix(&body[i..i + 2], 16).unwrap_or(0));
                i += 2;
            }
            _ => {
                out.push(b'\\');
                i -= 1;
            }
        }
    }
    Ok(out)
}

/// Newlines inside literals are `\n` whatever the file uses.
fn normalize_newlines(s: &str) -> String {
    if s.contains('\r') {
        s.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        s.to_string()
    }
}

/// A few `\N{...}` names; the full Unicode name table is not embedded.
fn char_by_name(name: &str) -> Option<char> {
    let upper = name.to_ascii_uppercase();
    Some(match upper.as_str() {
        "BULLET" => '\u{2022}',
        "EM DASH" => '\u{2014}',
        "EN DASH" => '\u{2013}',
        "HORIZONTAL ELLIPSIS" => '\u{2026}',
        "DEGREE SIGN" => '\u{00B0}',
        "MULTIPLICATION SIGN" => '\u{00D7}',
        "DIVISION SIGN" => '\u{00F7}',
        "NO-BREAK SPACE" => '\u{00A0}',
        "COPYRIGHT SIGN" => '\u{00A9}',
        "REGISTERED SIGN" => '\u{00AE}',
        "EURO SIGN" => '\u{20AC}',
        "POUND SIGN" => '\u{00A3}',
        "MICRO SIGN" => '\u{00B5}',
        "PLUS-MINUS SIGN" => '\u{00B1}',
        "CHECK MARK" => '\u{2713}',
        "BLACK STAR" => '\u{2605}',
        "WHITE STAR" => '\u{2606}',
        "SNOWMAN" => '\u{2603}',
        "RIGHTWARDS ARROW" => '\u{2192}',
        "LEFTWARDS ARROW" => '\u{2190}',
        "GREEK SMALL LETTER ALPHA" => '\u{03B1}',
        "GREEK SMALL LETTER BETA" => '\u{03B2}',
        "GREEK SMALL LETTER PI" => '\u{03C0}',
        "GREEK SMALL LETTER LAMDA" => '\u{03BB}',
        "GREEK CAPITAL LETTER DELTA" => '\u{0394}',
        "GREEK CAPITAL LETTER OMEGA" => '\u{03A9}',
        "INFINITY" => '\u{221E}',
        "SPACE" => ' ',
        "LINE FEED" => '\n',
        "NULL" => '\0',
        "BOX DRAWINGS LIGHT HORIZONTAL" => '\u{2500}',
        "FULL BLOCK" => '\u{2588}',
        "LIGHT SHADE" => '\u{2591}',
        "MEDIUM SHADE" => '\u{2592}',
        "DARK SHADE" => '\u{2593}',
        "BLACK SQUARE" => '\u{25A0}',
        "WHITE SQUARE" => '\u{25A1}',
        "BLACK CIRCLE" => '\u{25CF}',
        "WHITE CIRCLE" => '\u{25CB}',
        "ZERO WIDTH SPACE" => '\u{200B}',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(
            decode_str(r"a\tb\\\x41\u00e9\101\'", false, 0).unwrap(),
            "a\tb\\AéA'"
        );
        assert_eq!(decode_str(r"\d", false, 0).unwrap(), "\\d");
        assert_eq!(decode_str("a\\\nb", false, 0).unwrap(), "ab");
        assert_eq!(decode_str(r"\N{BULLET}", false, 0).unwrap(), "\u{2022}");
    }

    #[test]
    fn escape_errors() {
        assert_eq!(
            decode_str(r"\x4", false, 0).unwrap_err().msg,
            r"(unicode error) 'unicodeescape' codec can't decode bytes in position 0-2: truncated \xXX escape"
        );
        assert_eq!(
            decode_str(r"ab\xzz", false, 0).unwrap_err().msg,
            r"(unicode error) 'unicodeescape' codec can't decode bytes in position 2-3: truncated \xXX escape"
        );
        assert_eq!(
            decode_bytes("é", false, 0).unwrap_err().msg,
            "bytes can only contain ASCII literal characters"
        );
        assert_eq!(
            decode_bytes(r"\x4", false, 0).unwrap_err().msg,
            r"(value error) invalid \x escape at position 0"
        );
    }

    #[test]
    fn bytes_escapes() {
        assert_eq!(
            decode_bytes(r"\x00\777\u1234", false, 0).unwrap(),
            b"\x00\xff\\u1234".to_vec()
        );
    }
}
