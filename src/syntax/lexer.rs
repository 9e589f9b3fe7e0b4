//! The logos lexer and the indentation pass.
//!
//! [`Raw`] is the logos token set; [`Lexer`] wraps it, maps names to
//! keywords, decodes literals, tracks brackets (newlines inside brackets are
//! ignored) and turns the start of each logical line into
//! `INDENT`/`DEDENT` tokens, following CPython's tokenizer (`tokenizer.c`)
//! closely enough to produce its error messages.

use std::collections::VecDeque;
use std::rc::Rc;

use logos::Logos;

use crate::syntax::ast::{Name, Span};
use crate::syntax::parser::{SyntaxError, SyntaxErrorKind};
use crate::syntax::strings;

/// CPython's `MAXLEVEL`: brackets nested deeper are a SyntaxError.
pub const MAX_BRACKET_DEPTH: usize = 200;
/// CPython's `MAXINDENT`.
const MAX_INDENT: usize = 100;

/// Errors found inside logos callbacks; turned into [`SyntaxError`]s by [`Lexer`].
#[derive(Clone, Debug, Default, PartialEq)]
pub enum RawError {
    #[default]
    Invalid,
    UnterminatedString,
    UnterminatedTriple,
}

#[derive(Logos, Clone, Copy, Debug, PartialEq)]
#[logos(error = RawError)]
#[logos(skip r"[ \t\x0C]+")]
#[logos(skip r"#[^\r\n]*")]
#[logos(skip r"\\(\r\n|\r|\n)")]
enum Raw {
    #[regex(r"\r\n|\r|\n")]
    Newline,
    #[token("\\")]
    Backslash,
    #[regex(r"[A-Za-z_\u{80}-\u{10FFFF}][A-Za-z0-9_\u{80}-\u{10FFFF}]*")]
    Name,
    /// Numbers are scanned by hand (logos does not backtrack out of a
    /// failed `0x` prefix) and validated in [`Lexer::number`].
    #[regex(r"[0-9]|\.[0-9]", number)]
    Number,
    #[regex(r#"([rRuUbBfF]|[rR][bBfF]|[bBfF][rR])?("|')"#, string_single)]
    #[regex(r#"([rRuUbBfF]|[rR][bBfF]|[bBfF][rR])?("""|''')"#, string_triple)]
    Str,
    #[token("(")]
    LPar,
    #[token(")")]
    RPar,
    #[token("[")]
    LSqb,
    #[token("]")]
    RSqb,
    #[token("{")]
    LBrace,
    #[token("}")]
    RBrace,
    #[token("+")]
    Plus,
    #[token("-")]
    Minus,
    #[token("*")]
    Star,
    #[token("**")]
    DoubleStar,
    #[token("/")]
    Slash,
    #[token("//")]
    DoubleSlash,
    #[token("%")]
    Percent,
    #[token("@")]
    At,
    #[token("<<")]
    LShift,
    #[token(">>")]
    RShift,
    #[token("&")]
    Amper,
    #[token("|")]
    Vbar,
    #[token("^")]
    Circumflex,
    #[token("~")]
    Tilde,
    #[token(":=")]
    ColonEqual,
    #[token("<")]
    Less,
    #[token(">")]
    Greater,
    #[token("<=")]
    LessEqual,
    #[token(">=")]
    GreaterEqual,
    #[token("==")]
    EqEqual,
    #[token("!=")]
    NotEqual,
    #[token(",")]
    Comma,
    #[token(":")]
    Colon,
    #[token(".")]
    Dot,
    #[token("...")]
    Ellipsis,
    #[token(";")]
    Semi,
    #[token("=")]
    Equal,
    #[token("->")]
    Arrow,
    #[token("+=")]
    PlusEqual,
    #[token("-=")]
    MinusEqual,
    #[token("*=")]
    StarEqual,
    #[token("/=")]
    SlashEqual,
    #[token("//=")]
    DoubleSlashEqual,
    #[token("%=")]
    PercentEqual,
    #[token("@=")]
    AtEqual,
    #[token("&=")]
    AmperEqual,
    #[token("|=")]
    VbarEqual,
    #[token("^=")]
    CircumflexEqual,
    #[token("<<=")]
    LShiftEqual,
    #[token(">>=")]
    RShiftEqual,
    #[token("**=")]
    DoubleStarEqual,
}

/// Scan the rest of a number: a radix-prefixed run of alphanumerics, or
/// digits, a fraction and an exponent.
fn number(lex: &mut logos::Lexer<Raw>) {
    let first = lex.slice().as_bytes()[0];
    let rest = lex.remainder().as_bytes();
    let digits = |mut i: usize| {
        while i < rest.len() && (rest[i].is_ascii_digit() || rest[i] == b'_') {
            i += 1;
        }
        i
    };
    let mut i = 0;
    if first == b'0' && matches!(rest.first(), Some(b'x' | b'X' | b'o' | b'O' | b'b' | b'B')) {
        i = 1;
        while i < rest.len() && (rest[i].is_ascii_alphanumeric() || rest[i] == b'_') {
            i += 1;
        }
    } else {
        i = digits(i);
        if first != b'.' && rest.get(i) == Some(&b'.') {
            i = digits(i + 1);
        }
        if matches!(rest.get(i), Some(b'e' | b'E')) {
            let sign = usize::from(matches!(rest.get(i + 1), Some(b'+' | b'-')));
            if rest.get(i + 1 + sign).is_some_and(|c| c.is_ascii_digit()) {
                i = digits(i + 1 + sign);
            }
        }
        // An imaginary literal's suffix.
        if matches!(rest.get(i), Some(b'j' | b'J')) {
            i += 1;
        }
    }
    lex.bump(i);
}

/// CPython's message for a character that cannot start a token; characters
/// `str.isprintable()` rejects (a no-break space pasted from a web page,
/// zero-width and other format characters) are not quoted.
fn invalid_character(c: char) -> String {
    let u = c as u32;
    let non_printable = c.is_control()
        || (c.is_whitespace() && c != ' ')
        || matches!(u, 0xAD | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064)
        || matches!(u, 0x2066..=0x206F | 0xFEFF | 0xFFF9..=0xFFFB | 0xE000..=0xF8FF);
    if non_printable {
        format!("invalid non-printable character U+{u:04X}")
    } else {
        format!("invalid character '{c}' (U+{u:04X})")
    }
}

/// Scan a single-quoted string body up to its closing quote.
fn string_single(lex: &mut logos::Lexer<Raw>) -> Result<(), RawError> {
    let quote = *lex.slice().as_bytes().last().unwrap_or(&b'"');
    let rest = lex.remainder().as_bytes();
    let mut i = 0;
    while i < rest.len() {
        match rest[i] {
            b'\\' => {
                // An escaped CRLF counts as one continuation.
                if rest.get(i + 1) == Some(&b'\r') && rest.get(i + 2) == Some(&b'\n') {
                    i += 3;
                } else {
                    i += 2;
                }
            }
            b'\n' | b'\r' => break,
            c if c == quote => {
                lex.bump(i + 1);
                return Ok(());
            }
            _ => i += 1,
        }
    }
    Err(RawError::UnterminatedString)
}

/// Scan a triple-quoted string body up to its closing quotes.
fn string_triple(lex: &mut logos::Lexer<Raw>) -> Result<(), RawError> {
    let quote = *lex.slice().as_bytes().last().unwrap_or(&b'"');
    let rest = lex.remainder().as_bytes();
    let mut i = 0;
    while i < rest.len() {
        match rest[i] {
            b'\\' => i += 2,
            c if c == quote
                && rest.get(i + 1) == Some(&quote)
                && rest.get(i + 2) == Some(&quote) =>
            {
                lex.bump(i + 3);
                return Ok(());
            }
            _ => i += 1,
        }
    }
    lex.bump(rest.len());
    Err(RawError::UnterminatedTriple)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StrKind {
    Str,
    Bytes,
    FStr,
}

/// One string literal token. Plain strings and bytes arrive decoded;
/// f-strings are split into their parts by the parser.
#[derive(Clone, Debug, PartialEq)]
pub struct StrTok {
    pub kind: StrKind,
    pub raw: bool,
    /// Byte offsets of the text between the quotes.
    pub body_start: usize,
    pub body_end: usize,
    /// Whether the literal was triple-quoted.
    pub triple: bool,
    pub value: StrValue,
}

#[derive(Clone, Debug, PartialEq)]
pub enum StrValue {
    Str(Rc<str>),
    Bytes(Rc<[u8]>),
    /// Not yet decoded (f-strings).
    Pending,
}

/// The tokens the grammar sees.
#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    Name(Name),
    Int(i64),
    BigInt(Rc<str>),
    Float(f64),
    /// An imaginary literal (`2j`): the value of its imaginary part.
    Imag(f64),
    Str(Rc<StrTok>),
    Newline,
    Indent,
    Dedent,
    /// Synthetic first token selecting the grammar's entry point.
    StartModule,
    StartExpr,
    // Keywords.
    False,
    None,
    True,
    And,
    As,
    Assert,
    Async,
    Await,
    Break,
    Class,
    Continue,
    Def,
    Del,
    Elif,
    Else,
    Except,
    Finally,
    For,
    From,
    Global,
    If,
    Import,
    In,
    Is,
    Lambda,
    Nonlocal,
    /// `match` and `case` where they start a match statement or a case
    /// block (elsewhere they are names).
    Match,
    Case,
    Not,
    Or,
    Pass,
    Raise,
    Return,
    Try,
    While,
    With,
    Yield,
    // Operators and delimiters.
    LPar,
    RPar,
    LSqb,
    RSqb,
    LBrace,
    RBrace,
    Plus,
    Minus,
    Star,
    DoubleStar,
    Slash,
    DoubleSlash,
    Percent,
    At,
    LShift,
    RShift,
    Amper,
    Vbar,
    Circumflex,
    Tilde,
    ColonEqual,
    Less,
    Greater,
    LessEqual,
    GreaterEqual,
    EqEqual,
    NotEqual,
    Comma,
    Colon,
    Dot,
    Ellipsis,
    Semi,
    Equal,
    Arrow,
    PlusEqual,
    MinusEqual,
    StarEqual,
    SlashEqual,
    DoubleSlashEqual,
    PercentEqual,
    AtEqual,
    AmperEqual,
    VbarEqual,
    CircumflexEqual,
    LShiftEqual,
    RShiftEqual,
    DoubleStarEqual,
}

impl Tok {
    /// Whether this token can end an expression (used for the
    /// "Perhaps you forgot a comma?" hint).
    pub fn ends_expr(&self) -> bool {
        matches!(
            self,
            Tok::Name(_)
                | Tok::Int(_)
                | Tok::BigInt(_)
                | Tok::Float(_)
                | Tok::Imag(_)
                | Tok::Str(_)
                | Tok::None
                | Tok::True
                | Tok::False
                | Tok::Ellipsis
                | Tok::RPar
                | Tok::RSqb
                | Tok::RBrace
        )
    }

    /// Whether this token can start an operand.
    pub fn starts_expr(&self) -> bool {
        matches!(
            self,
            Tok::Name(_)
                | Tok::Int(_)
                | Tok::BigInt(_)
                | Tok::Float(_)
                | Tok::Imag(_)
                | Tok::Str(_)
                | Tok::None
                | Tok::True
                | Tok::False
                | Tok::Ellipsis
                | Tok::LPar
                | Tok::LSqb
                | Tok::LBrace
                | Tok::Lambda
                | Tok::Not
                | Tok::Tilde
                | Tok::Await
        )
    }

    /// The keyword token for `name`, if it is a (hard) keyword.
    fn keyword(name: &str) -> Option<Tok> {
        Some(match name {
            "False" => Tok::False,
            "None" => Tok::None,
            "True" => Tok::True,
            "and" => Tok::And,
            "as" => Tok::As,
            "assert" => Tok::Assert,
            "async" => Tok::Async,
            "await" => Tok::Await,
            "break" => Tok::Break,
            "class" => Tok::Class,
            "continue" => Tok::Continue,
            "def" => Tok::Def,
            "del" => Tok::Del,
            "elif" => Tok::Elif,
            "else" => Tok::Else,
            "except" => Tok::Except,
            "finally" => Tok::Finally,
            "for" => Tok::For,
            "from" => Tok::From,
            "global" => Tok::Global,
            "if" => Tok::If,
            "import" => Tok::Import,
            "in" => Tok::In,
            "is" => Tok::Is,
            "lambda" => Tok::Lambda,
            "nonlocal" => Tok::Nonlocal,
            "not" => Tok::Not,
            "or" => Tok::Or,
            "pass" => Tok::Pass,
            "raise" => Tok::Raise,
            "return" => Tok::Return,
            "try" => Tok::Try,
            "while" => Tok::While,
            "with" => Tok::With,
            "yield" => Tok::Yield,
            _ => return None,
        })
    }
}

fn simple_tok(raw: Raw) -> Option<Tok> {
    Some(match raw {
        Raw::LPar => Tok::LPar,
        Raw::RPar => Tok::RPar,
        Raw::LSqb => Tok::LSqb,
        Raw::RSqb => Tok::RSqb,
        Raw::LBrace => Tok::LBrace,
        Raw::RBrace => Tok::RBrace,
        Raw::Plus => Tok::Plus,
        Raw::Minus => Tok::Minus,
        Raw::Star => Tok::Star,
        Raw::DoubleStar => Tok::DoubleStar,
        Raw::Slash => Tok::Slash,
        Raw::DoubleSlash => Tok::DoubleSlash,
        Raw::Percent => Tok::Percent,
        Raw::At => Tok::At,
        Raw::LShift => Tok::LShift,
        Raw::RShift => Tok::RShift,
        Raw::Amper => Tok::Amper,
        Raw::Vbar => Tok::Vbar,
        Raw::Circumflex => Tok::Circumflex,
        Raw::Tilde => Tok::Tilde,
        Raw::ColonEqual => Tok::ColonEqual,
        Raw::Less => Tok::Less,
        Raw::Greater => Tok::Greater,
        Raw::LessEqual => Tok::LessEqual,
        Raw::GreaterEqual => Tok::GreaterEqual,
        Raw::EqEqual => Tok::EqEqual,
        Raw::NotEqual => Tok::NotEqual,
        Raw::Comma => Tok::Comma,
        Raw::Colon => Tok::Colon,
        Raw::Dot => Tok::Dot,
        Raw::Ellipsis => Tok::Ellipsis,
        Raw::Semi => Tok::Semi,
        Raw::Equal => Tok::Equal,
        Raw::Arrow => Tok::Arrow,
        Raw::PlusEqual => Tok::PlusEqual,
        Raw::MinusEqual => Tok::MinusEqual,
        Raw::StarEqual => Tok::StarEqual,
        Raw::SlashEqual => Tok::SlashEqual,
        Raw::DoubleSlashEqual => Tok::DoubleSlashEqual,
        Raw::PercentEqual => Tok::PercentEqual,
        Raw::AtEqual => Tok::AtEqual,
        Raw::AmperEqual => Tok::AmperEqual,
        Raw::VbarEqual => Tok::VbarEqual,
        Raw::CircumflexEqual => Tok::CircumflexEqual,
        Raw::LShiftEqual => Tok::LShiftEqual,
        Raw::RShiftEqual => Tok::RShiftEqual,
        Raw::DoubleStarEqual => Tok::DoubleStarEqual,
        _ => return None,
    })
}

pub type Spanned = (usize, Tok, usize);

/// What the lexer produces for the grammar.
pub type LexResult = Result<Spanned, SyntaxError>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A whole file: NEWLINE/INDENT/DEDENT, a final NEWLINE.
    Module,
    /// The expression inside an f-string replacement field: behaves as if
    /// inside parentheses (no NEWLINE/INDENT tokens).
    Expr,
}

/// The token stream for the grammar: logos tokens plus the indentation pass.
pub struct Lexer<'s> {
    /// The whole source text; offsets are into it.
    src: &'s str,
    /// Offset of the lexed region in `src`.
    base: usize,
    raw: logos::Lexer<'s, Raw>,
    mode: Mode,
    pending: VecDeque<Spanned>,
    /// Indentation columns (CPython's `indstack`/`altindstack`: tabs to
    /// multiples of 8, and tabs as one column, to detect inconsistency).
    indents: Vec<(usize, usize)>,
    /// Open brackets: the character and its offset.
    pub brackets: Vec<(char, usize)>,
    /// Whether a token has been produced on the current logical line.
    line_has_tokens: bool,
    started: bool,
    finished: bool,
    /// The tokens of the current and the previous logical line (error
    /// messages look back that far).
    pub history: Vec<Spanned>,
    /// Where the current logical line begins in `history`.
    line_begin: usize,
    /// Whether an error was produced (the parse then failed because of it).
    pub errored: bool,
    /// An error met while looking ahead, delivered after the pending tokens.
    deferred_error: Option<SyntaxError>,
    /// A string literal whose escapes do not decode: CPython reports it
    /// once the parser has read the token after the literal(s), there.
    bad_escape: Option<SyntaxError>,
}

impl<'s> Lexer<'s> {
    /// Lex all of `src`.
    pub fn new(src: &'s str, mode: Mode) -> Lexer<'s> {
        Lexer::region(src, 0, src.len(), mode)
    }

    /// Lex `src[start..end]`, reporting offsets into `src`.
    pub fn region(src: &'s str, start: usize, end: usize, mode: Mode) -> Lexer<'s> {
        Lexer {
            src,
            base: start,
            raw: Raw::lexer(&src[start..end]),
            mode,
            pending: VecDeque::new(),
            indents: vec![(0, 0)],
            brackets: Vec::new(),
            line_has_tokens: false,
            started: false,
            finished: false,
            history: Vec::new(),
            line_begin: 0,
            errored: false,
            deferred_error: None,
            bad_escape: None,
        }
    }

    /// Whether no token but indentation has been produced on this logical line.
    fn at_line_start(&self) -> bool {
        self.history[self.line_begin..]
            .iter()
            .all(|t| matches!(t.1, Tok::Indent | Tok::Dedent | Tok::StartModule))
    }

    /// Whether the rest of the logical line has a `:` outside brackets (the
    /// tokens stay queued): a leading `match` or `case` is then a keyword,
    /// since no other statement starting with a name (but an annotated
    /// assignment, excluded by its first token) has one.
    fn line_ends_with_colon(&mut self) -> bool {
        let mut ahead = Vec::new();
        loop {
            match self.produce() {
                Some(Ok(t)) => {
                    let end = t.1 == Tok::Newline;
                    ahead.push(t);
                    if end {
                        break;
                    }
                }
                Some(Err(e)) => {
                    self.deferred_error = Some(e);
                    break;
                }
                None => break,
            }
        }
        let mut depth = 0i32;
        let mut colon = false;
        for t in &ahead {
            match t.1 {
                Tok::LPar | Tok::LSqb | Tok::LBrace => depth += 1,
                Tok::RPar | Tok::RSqb | Tok::RBrace => depth -= 1,
                Tok::Colon if depth == 0 => {
                    colon = true;
                    break;
                }
                // An assignment (`match[0] = lambda: x`), not a pattern.
                Tok::Equal if depth == 0 => break,
                _ => {}
            }
        }
        let starts_like_target = matches!(
            ahead.first().map(|t| &t.1),
            Some(Tok::Colon | Tok::Equal | Tok::Dot | Tok::Newline)
        );
        let colon = colon && !starts_like_target;
        for t in ahead.into_iter().rev() {
            self.pending.push_front(t);
        }
        colon
    }

    fn err(&self, msg: impl Into<String>, start: usize, end: usize) -> SyntaxError {
        SyntaxError {
            kind: SyntaxErrorKind::SyntaxError,
            msg: msg.into(),
            span: Span::new(start, end),
            at_eof: false,
            quote: None,
        }
    }

    /// 1-based line number of a byte offset.
    pub fn line_of(&self, offset: usize) -> usize {
        line_of(self.src, offset)
    }

    /// The next token or error; `None` at the end.
    fn produce(&mut self) -> Option<LexResult> {
        if !self.started {
            self.started = true;
            let t = match self.mode {
                Mode::Module => Tok::StartModule,
                Mode::Expr => Tok::StartExpr,
            };
            return Some(Ok((self.base, t, self.base)));
        }
        if let Some(t) = self.pending.pop_front() {
            return Some(Ok(t));
        }
        if let Some(e) = self.deferred_error.take() {
            return Some(Err(e));
        }
        if self.finished {
            return None;
        }
        loop {
            let Some(res) = self.raw.next() else {
                return self.at_eof();
            };
            let span = self.raw.span();
            let (start, end) = (span.start + self.base, span.end + self.base);
            let raw = match res {
                Ok(raw) => raw,
                Err(e) => return Some(Err(self.raw_error(e, start, end))),
            };
            if raw == Raw::Newline {
                if self.mode == Mode::Module && self.brackets.is_empty() && self.line_has_tokens {
                    self.line_has_tokens = false;
                    return Some(Ok((start, Tok::Newline, end)));
                }
                continue;
            }
            if self.mode == Mode::Module && self.brackets.is_empty() && !self.line_has_tokens {
                if let Err(e) = self.indentation(start) {
                    return Some(Err(e));
                }
            }
            self.line_has_tokens = true;
            let tok = match self.token(raw, start, end) {
                Ok(t) => t,
                Err(e) => return Some(Err(e)),
            };
            if self.pending.is_empty() {
                return Some(Ok((start, tok, end)));
            }
            self.pending.push_back((start, tok, end));
            return self.pending.pop_front().map(Ok);
        }
    }

    fn at_eof(&mut self) -> Option<LexResult> {
        self.finished = true;
        let end = self.base + self.raw.source().len();
        if let Some(&(c, pos)) = self.brackets.last() {
            if self.mode == Mode::Module {
                return Some(Err(self.err(
                    format!("'{c}' was never closed"),
                    pos,
                    pos + 1,
                )));
            }
        }
        if self.mode == Mode::Module {
            if let Some(at) = self.trailing_continuation(end) {
                return Some(Err(self.err("unexpected EOF while parsing", at, at)));
            }
        }
        if self.mode == Mode::Module {
            if self.line_has_tokens {
                self.line_has_tokens = false;
                self.pending.push_back((end, Tok::Newline, end));
            }
            while self.indents.len() > 1 {
                self.indents.pop();
                self.pending.push_back((end, Tok::Dedent, end));
            }
        }
        self.pending.pop_front().map(Ok)
    }

    /// The offset just after a backslash continuation that ends the input
    /// (only blanks and comments after the last token), which CPython
    /// reports as an unexpected EOF.
    fn trailing_continuation(&self, end: usize) -> Option<usize> {
        let from = self
            .history
            .last()
            .map_or(self.base, |t| t.2)
            .max(self.base);
        let tail = self.src.get(from..end)?.as_bytes();
        let (mut i, mut pending) = (0, None);
        while i < tail.len() {
            match tail[i] {
                b' ' | b'\t' | b'\x0C' => i += 1,
                b'\\' if matches!(tail.get(i + 1), Some(b'\n' | b'\r')) => {
                    pending = Some(from + i + 1);
                    i += 2;
                    if tail[i - 1] == b'\r' && tail.get(i) == Some(&b'\n') {
                        i += 1;
                    }
                }
                b'#' => {
                    while i < tail.len() && !matches!(tail[i], b'\n' | b'\r') {
                        i += 1;
                    }
                    pending = None;
                }
                b'\n' | b'\r' => {
                    pending = None;
                    i += 1;
                }
                _ => return None,
            }
        }
        pending
    }

    fn raw_error(&self, e: RawError, start: usize, end: usize) -> SyntaxError {
        match e {
            RawError::UnterminatedString => self.err(
                format!(
                    "unterminated string literal (detected at line {})",
                    self.line_of(start)
                ),
                start,
                start + 1,
            ),
            RawError::UnterminatedTriple => {
                let last = if self.src.ends_with('\n') {
                    self.src.len() - 1
                } else {
                    self.src.len()
                };
                let line = self.line_of(last.max(start));
                self.err(
                    format!("unterminated triple-quoted string literal (detected at line {line})"),
                    start,
                    start + 1,
                )
            }
            RawError::Invalid => {
                let c = self.src[start..].chars().next().unwrap_or(' ');
                if c == '\\' {
                    // CPython points at the character after the backslash.
                    return self.err(
                        "unexpected character after line continuation character",
                        start + 1,
                        start + 1,
                    );
                }
                // Control characters (a vertical tab, an escape) are named as
                // CPython names them; `$`, `?` and `` ` `` are plain syntax errors.
                if !c.is_ascii() || c.is_ascii_control() {
                    return self.err(invalid_character(c), start, end);
                }
                self.err("invalid syntax", start, start + c.len_utf8())
            }
        }
    }

    /// The indentation pass at the first token of a logical line.
    fn indentation(&mut self, tok_start: usize) -> Result<(), SyntaxError> {
        let line_start = self.src[..tok_start]
            .rfind(['\n', '\r'])
            .map_or(0, |i| i + 1);
        let (mut col, mut alt) = (0usize, 0usize);
        for c in self.src[line_start..tok_start].chars() {
            match c {
                ' ' => {
                    col += 1;
                    alt += 1;
                }
                '\t' => {
                    col = (col / 8 + 1) * 8;
                    alt += 1;
                }
                '\x0C' => {
                    col = 0;
                    alt = 0;
                }
                // A backslash continuation on an otherwise blank line.
                _ => {}
            }
        }
        let &(top, alt_top) = self.indents.last().unwrap_or(&(0, 0));
        // CPython's offsets: no caret for a TabError (it points into the
        // indentation), a caret after the text for a bad dedent.
        let tab_error = || SyntaxError {
            kind: SyntaxErrorKind::TabError,
            msg: "inconsistent use of tabs and spaces in indentation".into(),
            span: Span::new(line_start, line_start),
            at_eof: false,
            quote: None,
        };
        let line_end = self.src[tok_start..]
            .find(['\n', '\r'])
            .map_or(self.src.len(), |i| tok_start + i);
        if col == top {
            if alt != alt_top {
                return Err(tab_error());
            }
        } else if col > top {
            if alt <= alt_top {
                return Err(tab_error());
            }
            if self.indents.len() >= MAX_INDENT {
                return Err(SyntaxError {
                    kind: SyntaxErrorKind::IndentationError,
                    msg: "too many levels of indentation".into(),
                    // CPython's column is the start of the line.
                    span: Span::new(line_start, line_start),
                    at_eof: false,
                    quote: None,
                });
            }
            self.indents.push((col, alt));
            self.pending.push_back((line_start, Tok::Indent, tok_start));
        } else {
            while self.indents.len() > 1 && col < self.indents.last().map_or(0, |t| t.0) {
                self.indents.pop();
                self.pending.push_back((tok_start, Tok::Dedent, tok_start));
            }
            let &(top, alt_top) = self.indents.last().unwrap_or(&(0, 0));
            if col != top {
                return Err(SyntaxError {
                    kind: SyntaxErrorKind::IndentationError,
                    msg: "unindent does not match any outer indentation level".into(),
                    span: Span::new(line_end, line_end),
                    at_eof: false,
                    quote: None,
                });
            }
            if alt != alt_top {
                return Err(tab_error());
            }
        }
        Ok(())
    }

    fn token(&mut self, raw: Raw, start: usize, end: usize) -> Result<Tok, SyntaxError> {
        let text = &self.src[start..end];
        match raw {
            Raw::Name => {
                if let Some(bad) = text.chars().find(|&c| !is_id_char(c)) {
                    let off = start + text.find(bad).unwrap_or(0);
                    return Err(self.err(invalid_character(bad), off, off + bad.len_utf8()));
                }
                if let Some(first) = text.chars().next() {
                    if !first.is_ascii() && !is_id_start(first) {
                        return Err(self.err(
                            invalid_character(first),
                            start,
                            start + first.len_utf8(),
                        ));
                    }
                }
                Ok(Tok::keyword(text).unwrap_or_else(|| Tok::Name(Rc::from(text))))
            }
            Raw::Number => self.number(start, end),
            Raw::Str => self.string(start, end),
            Raw::Backslash if end == self.src.len() => {
                Err(self.err("unexpected EOF while parsing", end, end))
            }
            // CPython points at the character after the backslash.
            Raw::Backslash => Err(self.err(
                "unexpected character after line continuation character",
                start + 1,
                start + 1,
            )),
            Raw::LPar | Raw::LSqb | Raw::LBrace => {
                if self.brackets.len() >= MAX_BRACKET_DEPTH {
                    return Err(self.err("too many nested parentheses", start, end));
                }
                self.brackets
                    .push((text.chars().next().unwrap_or('('), start));
                Ok(simple_tok(raw).unwrap_or(Tok::LPar))
            }
            Raw::RPar | Raw::RSqb | Raw::RBrace => {
                let close = text.chars().next().unwrap_or(')');
                let Some((open, pos)) = self.brackets.pop() else {
                    return Err(self.err(format!("unmatched '{close}'"), start, end));
                };
                let expected = match open {
                    '(' => ')',
                    '[' => ']',
                    _ => '}',
                };
                if close != expected {
                    let (l1, l2) = (self.line_of(pos), self.line_of(start));
                    let msg = if l1 != l2 {
                        format!("closing parenthesis '{close}' does not match opening parenthesis '{open}' on line {l1}")
                    } else {
                        format!("closing parenthesis '{close}' does not match opening parenthesis '{open}'")
                    };
                    return Err(self.err(msg, start, end));
                }
                Ok(simple_tok(raw).unwrap_or(Tok::RPar))
            }
            other => simple_tok(other).ok_or_else(|| self.err("invalid syntax", start, end)),
        }
    }

    /// Convert a number token, with the errors of CPython's tokenizer
    /// (`verify_end_of_number` and friends).
    fn number(&mut self, start: usize, full_end: usize) -> Result<Tok, SyntaxError> {
        let full = &self.src[start..full_end];
        // `2j`: the digits before the suffix are checked as a float's.
        let prefixed = full.len() > 1
            && full.starts_with('0')
            && matches!(full.as_bytes()[1], b'x' | b'X' | b'o' | b'O' | b'b' | b'B');
        let imag = !prefixed && full.ends_with(['j', 'J']);
        let end = if imag { full_end - 1 } else { full_end };
        let text = &self.src[start..end];
        let lower = text.to_ascii_lowercase();
        let (radix, kind_name) = match lower.get(..2) {
            Some("0x") => (16, "hexadecimal"),
            Some("0o") => (8, "octal"),
            Some("0b") => (2, "binary"),
            _ => (10, "decimal"),
        };
        if radix != 10 {
            let body = &lower[2..];
            let mut prev_digit = false;
            for (i, c) in body.char_indices() {
                let at = start + 2 + i;
                if c == '_' {
                    if !prev_digit && i != 0 {
                        return Err(self.err(format!("invalid {kind_name} literal"), at, at + 1));
                    }
                    prev_digit = false;
                    continue;
                }
                if !c.is_digit(radix) {
                    if c.is_ascii_digit() {
                        return Err(self.err(
                            format!("invalid digit '{c}' in {kind_name} literal"),
                            at,
                            at + 1,
                        ));
                    }
                    // CPython's caret is on the last good character.
                    return Err(self.err(format!("invalid {kind_name} literal"), at - 1, at));
                }
                prev_digit = true;
            }
            if !prev_digit {
                return Err(self.err(
                    format!("invalid {kind_name} literal"),
                    end.max(start + 2) - 1,
                    end,
                ));
            }
            let digits: String = body.chars().filter(|&c| c != '_').collect();
            return Ok(int_token(&digits, radix));
        }
        // Underscores only between digits.
        let b = text.as_bytes();
        for (i, &c) in b.iter().enumerate() {
            if c == b'_'
                && !(i > 0
                    && b[i - 1].is_ascii_digit()
                    && b.get(i + 1).is_some_and(|n| n.is_ascii_digit()))
            {
                // The caret goes on the last good character: the first of
                // two underscores, or a trailing one.
                let at = if i > 0 && b[i - 1] == b'_' { i - 1 } else { i };
                return Err(self.err("invalid decimal literal", start + at, start + at + 1));
            }
        }
        if let Some(c) = self.src[full_end..].chars().next() {
            if is_id_char(c) {
                // `1if x else y` is accepted (with a warning) by CPython.
                let rest = &self.src[full_end..];
                let ok_kw = ["and", "else", "for", "if", "in", "is", "not", "or"]
                    .iter()
                    .any(|kw| {
                        rest.starts_with(kw)
                            && !rest[kw.len()..].chars().next().is_some_and(is_id_char)
                    });
                if imag && !ok_kw {
                    return Err(self.err("invalid imaginary literal", full_end - 1, full_end));
                }
                if !ok_kw || text.ends_with(['e', 'E']) {
                    // The caret goes on the last digit (before a dangling `e`).
                    let last = if text.len() > 1 && text.ends_with(['e', 'E']) {
                        end - 2
                    } else {
                        end - 1
                    };
                    return Err(self.err("invalid decimal literal", last, last + 1));
                }
            }
        }
        let digits: String = text.chars().filter(|&c| c != '_').collect();
        if imag {
            // Leading zeros are fine here (`01j`), as in a float.
            return Ok(Tok::Imag(digits.parse::<f64>().unwrap_or(f64::INFINITY)));
        }
        if digits.contains(['.', 'e', 'E']) {
            return Ok(Tok::Float(digits.parse::<f64>().unwrap_or(f64::INFINITY)));
        }
        if digits.len() > 1 && digits.starts_with('0') && digits.bytes().any(|b| b != b'0') {
            // CPython underlines the zeros (and underscores) before the first other digit.
            let zeros = text.bytes().take_while(|&b| b == b'0' || b == b'_').count();
            return Err(self.err(
                "leading zeros in decimal integer literals are not permitted; use an 0o prefix for octal integers",
                start,
                start + zeros,
            ));
        }
        // CPython's limit on decimal conversions applies to literals too.
        if digits.len() > MAX_STR_DIGITS {
            let msg = format!(
                "Exceeds the limit ({MAX_STR_DIGITS} digits) for integer string conversion: \
                 value has {} digits; use sys.set_int_max_str_digits() to increase the limit \
                 - Consider hexadecimal for huge integer literals to avoid decimal conversion \
                 limits.",
                digits.len()
            );
            return Err(self.err(msg, start, start));
        }
        Ok(int_token(&digits, 10))
    }

    fn string(&mut self, start: usize, end: usize) -> Result<Tok, SyntaxError> {
        let text = &self.src[start..end];
        let quote_at = text.find(['"', '\'']).unwrap_or(0);
        let prefix = text[..quote_at].to_ascii_lowercase();
        let q = &text[quote_at..];
        let triple = q.len() >= 6 && (q.starts_with("\"\"\"") || q.starts_with("'''"));
        let qlen = if triple { 3 } else { 1 };
        let body_start = start + quote_at + qlen;
        let body_end = end - qlen;
        let raw = prefix.contains('r');
        let kind = if prefix.contains('b') {
            StrKind::Bytes
        } else if prefix.contains('f') {
            StrKind::FStr
        } else {
            StrKind::Str
        };
        let body = &self.src[body_start..body_end];
        let value = match kind {
            StrKind::Str => match strings::decode_str(body, raw, body_start) {
                Ok(s) => StrValue::Str(Rc::from(s)),
                Err(e) => {
                    self.bad_escape.get_or_insert(e);
                    StrValue::Str(Rc::from(""))
                }
            },
            // CPython underlines the whole literal.
            StrKind::Bytes => match strings::decode_bytes(body, raw, body_start) {
                Ok(b) => StrValue::Bytes(Rc::from(b)),
                Err(mut e) => {
                    e.span = Span::new(start, end);
                    return Err(e);
                }
            },
            StrKind::FStr => StrValue::Pending,
        };
        Ok(Tok::Str(Rc::new(StrTok {
            kind,
            raw,
            body_start,
            body_end,
            triple,
            value,
        })))
    }
}

impl Iterator for Lexer<'_> {
    type Item = LexResult;

    fn next(&mut self) -> Option<LexResult> {
        let mut item = self.produce();
        if self.bad_escape.is_some() {
            match &item {
                Some(Ok((_, Tok::Str(_), _))) | Some(Err(_)) => {}
                Some(Ok((start, _, end))) => {
                    let (start, end) = (*start, *end);
                    if let Some(mut e) = self.bad_escape.take() {
                        e.span = Span::new(start, end.max(start + 1));
                        item = Some(Err(e));
                    }
                }
                None => {
                    let at = self.src.len();
                    item = self.bad_escape.take().map(|mut e| {
                        e.span = Span::new(at, at);
                        Err(e)
                    });
                }
            }
        }
        if let Some(Ok((start, Tok::Name(n), end))) = &item {
            if matches!(&**n, "match" | "case") && self.at_line_start() {
                let kw = if &**n == "match" {
                    Tok::Match
                } else {
                    Tok::Case
                };
                let (start, end) = (*start, *end);
                if self.line_ends_with_colon() {
                    item = Some(Ok((start, kw, end)));
                }
            }
        }
        match &item {
            Some(Ok(t)) => {
                let newline = t.1 == Tok::Newline;
                self.history.push(t.clone());
                if newline {
                    // Forget lines before the one just ended.
                    self.history.drain(..self.line_begin);
                    self.line_begin = self.history.len();
                }
            }
            Some(Err(_)) => self.errored = true,
            None => {}
        }
        item
    }
}

/// `sys.get_int_max_str_digits()`'s default.
const MAX_STR_DIGITS: usize = 4300;

fn int_token(digits: &str, radix: u32) -> Tok {
    match i64::from_str_radix(digits, radix) {
        Ok(v) => Tok::Int(v),
        Err(_) => match num_bigint::BigInt::parse_bytes(digits.as_bytes(), radix) {
            Some(b) => Tok::BigInt(Rc::from(b.to_string())),
            None => Tok::Int(0),
        },
    }
}

/// Python identifiers are Unicode's XID_Start/XID_Continue (PEP 3131),
/// with `_` allowed first.
fn is_id_start(c: char) -> bool {
    c == '_' || unicode_ident::is_xid_start(c)
}

fn is_id_char(c: char) -> bool {
    // The joiners joined ID_Continue in Unicode 15.1; Python 3.11 (Unicode
    // 14) rejects them.
    unicode_ident::is_xid_continue(c) && !matches!(c, '\u{200C}' | '\u{200D}')
}

/// 1-based line number of a byte offset (`\n`, `\r\n` and `\r` end lines).
pub fn line_of(src: &str, offset: usize) -> usize {
    let bytes = &src.as_bytes()[..offset.min(src.len())];
    let mut line = 1;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => line += 1,
            b'\r' if bytes.get(i + 1) != Some(&b'\n') => line += 1,
            _ => {}
        }
        i += 1;
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<String> {
        Lexer::new(src, Mode::Module)
            .skip(1)
            .map(|r| match r {
                Ok((_, t, _)) => match t {
                    Tok::Name(n) => format!("Name({n})"),
                    Tok::Int(i) => format!("{i}"),
                    Tok::Newline => "NL".into(),
                    Tok::Indent => "IN".into(),
                    Tok::Dedent => "DE".into(),
                    other => format!("{other:?}"),
                },
                Err(e) => format!("ERR({})", e.msg),
            })
            .collect()
    }

    fn first_error(src: &str) -> SyntaxError {
        Lexer::new(src, Mode::Module)
            .find_map(|r| r.err())
            .expect("expected a lexer error")
    }

    #[test]
    fn indent_dedent() {
        let src = "if x:\n    y\n    if z:\n        w\nv\n";
        assert_eq!(
            kinds(src).join(" "),
            "If Name(x) Colon NL IN Name(y) NL If Name(z) Colon NL IN Name(w) NL DE DE Name(v) NL"
        );
    }

    #[test]
    fn dedents_at_eof_and_missing_final_newline() {
        assert_eq!(
            kinds("if x:\n  y").join(" "),
            "If Name(x) Colon NL IN Name(y) NL DE"
        );
    }

    #[test]
    fn blank_and_comment_lines_ignored() {
        let src = "a\n\n   # c\n\t\nb # x\n";
        assert_eq!(kinds(src).join(" "), "Name(a) NL Name(b) NL");
    }

    #[test]
    fn brackets_join_lines() {
        let src = "x = (1,\n  2,\n      3)\ny\n";
        assert_eq!(
            kinds(src).join(" "),
            "Name(x) Equal LPar 1 Comma 2 Comma 3 RPar NL Name(y) NL"
        );
    }

    #[test]
    fn backslash_continuation() {
        assert_eq!(
            kinds("x = 1 + \\\n    2\n").join(" "),
            "Name(x) Equal 1 Plus 2 NL"
        );
    }

    #[test]
    fn dedent_spans_are_zero_width() {
        let toks: Vec<_> = Lexer::new("if x:\n  y\nz\n", Mode::Module)
            .map(|r| r.unwrap())
            .collect();
        let d = toks.iter().find(|t| t.1 == Tok::Dedent).unwrap();
        assert_eq!(d.0, d.2);
        assert_eq!(d.0, 10);
    }

    #[test]
    fn unindent_mismatch() {
        let e = first_error("if 1:\n    x=1\n  y=2\n");
        assert_eq!(e.kind, SyntaxErrorKind::IndentationError);
        assert_eq!(e.msg, "unindent does not match any outer indentation level");
    }

    #[test]
    fn tab_error() {
        let e = first_error("if 1:\n        x\n\ty\n");
        assert_eq!(e.kind, SyntaxErrorKind::TabError);
        assert_eq!(e.msg, "inconsistent use of tabs and spaces in indentation");
    }

    #[test]
    fn unterminated_strings() {
        assert_eq!(
            first_error("x = 'abc\n").msg,
            "unterminated string literal (detected at line 1)"
        );
        assert_eq!(
            first_error("x = \"\"\"abc\n\n\n").msg,
            "unterminated triple-quoted string literal (detected at line 3)"
        );
    }

    #[test]
    fn brackets_errors() {
        assert_eq!(first_error("x = 1)\n").msg, "unmatched ')'");
        assert_eq!(
            first_error("x = [1, 2)\n").msg,
            "closing parenthesis ')' does not match opening parenthesis '['"
        );
        assert_eq!(first_error("foo(a,\n").msg, "'(' was never closed");
        let deep = "(".repeat(100_000);
        assert_eq!(first_error(&deep).msg, "too many nested parentheses");
    }

    #[test]
    fn imaginary_literals() {
        let toks: Vec<_> = Lexer::new("2j 1.5J 1_0j 01j 1e3j .5j\n", Mode::Module)
            .map(|r| r.unwrap().1)
            .collect();
        let want = [2.0, 1.5, 10.0, 1.0, 1000.0, 0.5];
        for (t, w) in toks[1..].iter().zip(want) {
            assert_eq!(*t, Tok::Imag(w));
        }
        assert_eq!(first_error("x = 1jx\n").msg, "invalid imaginary literal");
        assert_eq!(first_error("x = 0x1j\n").msg, "invalid hexadecimal literal");
        assert_eq!(first_error("x = 1_j\n").msg, "invalid decimal literal");
    }

    #[test]
    fn numbers() {
        assert_eq!(
            kinds("0x_ff 0o17 0b101 1_000\n").join(" "),
            "255 15 5 1000 NL"
        );
        let toks: Vec<_> = Lexer::new("1.5e3 .5 99999999999999999999\n", Mode::Module)
            .map(|r| r.unwrap().1)
            .collect();
        assert_eq!(toks[1], Tok::Float(1500.0));
        assert_eq!(toks[2], Tok::Float(0.5));
        assert_eq!(toks[3], Tok::BigInt(Rc::from("99999999999999999999")));
        assert_eq!(
            first_error("x = 012\n").msg.split(';').next(),
            Some("leading zeros in decimal integer literals are not permitted")
        );
        assert_eq!(first_error("x = 1abc\n").msg, "invalid decimal literal");
        assert_eq!(first_error("x = 0x\n").msg, "invalid hexadecimal literal");
        assert_eq!(
            first_error("x = 0o8\n").msg,
            "invalid digit '8' in octal literal"
        );
        assert!(Lexer::new("x = 1if y else 2\n", Mode::Module).all(|r| r.is_ok()));
    }

    #[test]
    fn unicode_names_and_bad_characters() {
        assert_eq!(kinds("é = 1\n")[0], "Name(é)");
        assert_eq!(
            first_error("x = a € b\n").msg,
            "invalid character '€' (U+20AC)"
        );
        assert_eq!(
            first_error("x = 1 \\ 2\n").msg,
            "unexpected character after line continuation character"
        );
    }

    #[test]
    fn strings_decoded() {
        let toks: Vec<_> = Lexer::new("'a\\n' b'\\x41' r'\\n' '''x\ny'''\n", Mode::Module)
            .map(|r| r.unwrap().1)
            .collect();
        let vals: Vec<_> = toks
            .iter()
            .filter_map(|t| match t {
                Tok::Str(s) => Some(s.value.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(vals[0], StrValue::Str(Rc::from("a\n")));
        assert_eq!(vals[1], StrValue::Bytes(Rc::from(&b"A"[..])));
        assert_eq!(vals[2], StrValue::Str(Rc::from("\\n")));
        assert_eq!(vals[3], StrValue::Str(Rc::from("x\ny")));
    }
}
