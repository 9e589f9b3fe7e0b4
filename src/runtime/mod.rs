//! Threads and the GIL.

pub mod gil;
pub mod threads;
