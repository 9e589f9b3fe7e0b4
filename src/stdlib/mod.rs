//! Standard library modules: native ones written in Rust and in-language ones
//! embedded from `src/stdlib/py/`.
