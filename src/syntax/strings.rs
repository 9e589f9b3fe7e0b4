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

/// The character a `\N{name}` escape names: any Unicode character name,
/// in any case, as CPython's `unicodedata` lookup accepts, or one of the name
/// aliases (control characters have no name, only aliases).
fn char_by_name(name: &str) -> Option<char> {
    unicode_names2::character(name).or_else(|| alias(name))
}

/// The name aliases of `NameAliases.txt` that programs use.
fn alias(name: &str) -> Option<char> {
    let upper = name.to_ascii_uppercase();
    Some(match upper.as_str() {
        "NULL" | "NUL" => '\0',
        "BELL" | "BEL" | "ALERT" => '\u{7}',
        "BACKSPACE" | "BS" => '\u{8}',
        "CHARACTER TABULATION" | "HORIZONTAL TABULATION" | "TAB" | "HT" => '\t',
        "LINE FEED" | "NEW LINE" | "END OF LINE" | "LF" | "NL" | "EOL" => '\n',
        "LINE TABULATION" | "VERTICAL TABULATION" | "VT" => '\u{B}',
        "FORM FEED" | "FF" => '\u{C}',
        "CARRIAGE RETURN" | "CR" => '\r',
        "ESCAPE" | "ESC" => '\u{1B}',
        "DELETE" | "DEL" => '\u{7F}',
        "NO-BREAK SPACE" | "NBSP" => '\u{A0}',
        "SHY" => '\u{AD}',
        "ZWSP" => '\u{200B}',
        "ZWNJ" => '\u{200C}',
        "ZWJ" => '\u{200D}',
        "BYTE ORDER MARK" | "BOM" | "ZWNBSP" => '\u{FEFF}',
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
