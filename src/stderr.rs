//! Lines for the person reading stderr, which never panic: `eprintln!` panics when stderr is
//! a pipe whose reader went away (`cronos-secrets scan 2>&1 | head -1`), an abort under
//! `panic = "abort"`. A line that cannot be written is dropped: there is nowhere left to
//! report it, and the command's exit status still says how it went.

use std::fmt;
use std::io::{self, Write};

/// What [`errln!`] runs.
pub fn line(text: fmt::Arguments) {
    let mut stderr = io::stderr().lock();
    let _ = stderr
        .write_fmt(text)
        .and_then(|()| stderr.write_all(b"\n"));
}

/// `eprintln!` that never panics: see the module's doc.
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::stderr::line(format_args!($($arg)*))
    };
}
pub(crate) use errln;
