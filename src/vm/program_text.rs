//! The source line a SyntaxError quotes when the program is a file.
//!
//! CPython re-reads the file (`err_programtext` in Python/errors.c) with
//! 999-byte `fgets` calls: a longer line is quoted as its last piece, and
//! the text stops at a null byte. Its columns are byte offsets into the
//! whole line, turned into characters of that piece only when the file
//! declares its encoding (a coding comment or a BOM); otherwise, and for
//! every error found by the compiler rather than the parser, the byte
//! offset is the column.

/// What CPython's `err_programtext` yields for `lineno` of the file's raw
/// bytes, and whether the file declares its encoding.
pub struct ProgramLine {
    /// The line (or its last 999-byte piece), up to a null byte.
    pub text: String,
    pub declared_encoding: bool,
}

/// `fgets` into a 1000-byte buffer, reading universal newlines.
const PIECE: usize = 999;

/// Line `lineno` (1-based) of the file at `path`, or None when it cannot
/// be read or has fewer lines (the caller then quotes its own copy).
pub fn program_line(path: &str, lineno: usize) -> Option<ProgramLine> {
    let bytes = std::fs::read(path).ok()?;
    let raw = nth_line(&bytes, lineno)?;
    let raw = match raw.iter().position(|&b| b == 0) {
        Some(nul) => &raw[..nul],
        None => &raw[..],
    };
    let coding = crate::syntax::parser::coding_declaration(&bytes);
    let bom = bytes.starts_with(b"\xEF\xBB\xBF");
    let latin1 = coding.as_deref().is_some_and(|c| {
        let c = c.to_ascii_lowercase().replace('_', "-");
        matches!(
            c.as_str(),
            "latin-1" | "iso-8859-1" | "iso8859-1" | "latin1" | "l1" | "cp819"
        )
    });
    let text = if latin1 {
        raw.iter().map(|&b| b as char).collect()
    } else {
        String::from_utf8_lossy(raw).into_owned()
    };
    Some(ProgramLine {
        text,
        declared_encoding: bom || coding.is_some(),
    })
}

/// The buffer left after reading `lineno` lines piece by piece.
fn nth_line(bytes: &[u8], lineno: usize) -> Option<Vec<u8>> {
    let mut pos = 0;
    let mut buf = Vec::new();
    for _ in 0..lineno {
        loop {
            buf.clear();
            if pos >= bytes.len() {
                return None;
            }
            while buf.len() < PIECE && pos < bytes.len() {
                let mut c = bytes[pos];
                pos += 1;
                if c == b'\r' {
                    if bytes.get(pos) == Some(&b'\n') {
                        pos += 1;
                    }
                    c = b'\n';
                }
                buf.push(c);
                if c == b'\n' {
                    break;
                }
            }
            // A full buffer not ending the line: keep reading it.
            if !(buf.len() == PIECE && buf[PIECE - 1] != b'\n') {
                break;
            }
        }
    }
    Some(buf)
}

/// CPython's `_PyPegen_byte_offset_to_character_offset`: a 1-based byte
/// column of the whole line, clipped to the quoted text and counted in its
/// characters.
pub fn char_column(text: &str, byte_col: usize) -> usize {
    let len = text.len();
    let col = byte_col.min(len + 1);
    // Past the end, CPython decodes the terminating NUL too.
    let extra = usize::from(col > len);
    let mut cut = col.min(len);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    text[..cut].chars().count() + extra
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_are_quoted_by_their_last_piece() {
        let mut src = "x".repeat(2 * PIECE + 5).into_bytes();
        src.extend_from_slice(b"\nnext\n");
        assert_eq!(nth_line(&src, 1).unwrap(), b"xxxxx\n");
        assert_eq!(nth_line(&src, 2).unwrap(), b"next\n");
        assert_eq!(nth_line(&src, 3), None);
    }

    #[test]
    fn carriage_returns_end_lines() {
        assert_eq!(nth_line(b"a\r\nb\rc", 2).unwrap(), b"b\n");
        assert_eq!(nth_line(b"a\r\nb\rc", 3).unwrap(), b"c");
    }

    #[test]
    fn columns_are_clipped_to_the_text() {
        assert_eq!(char_column("\u{e9}\u{e9}x", 5), 3);
        assert_eq!(char_column("abc\n", 40), 5);
    }
}
