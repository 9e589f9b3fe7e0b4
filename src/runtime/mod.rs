//! Threads and the GIL.

pub mod gil;
