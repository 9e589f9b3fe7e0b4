//! The logos lexer and the indentation pass.
