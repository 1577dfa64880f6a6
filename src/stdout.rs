//! Standard output, whose reader may go away before we are done (`rotate --status | head -1`).
//!
//! A reader that stops reading is not a failure: the command ends quietly, as ripgrep does,
//! never by SIGPIPE (141) nor with a panic (`println!` panics on a write error, an abort under
//! `panic = "abort"`). Unlike ripgrep, the command still finishes its work and exits with its
//! own status: `rotate` must not stop halfway because its reader left, and `check`'s 1 still
//! says a check failed. Any other write error (a full disk behind `> file`) is kept and
//! reported when the command ends, as coreutils' `close_stdout` does.

use std::fmt;
use std::io::{self, Write};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::problem::Problem;

/// The reader went away: everything after is dropped.
static READER_GONE: AtomicBool = AtomicBool::new(false);
/// The first write error other than a gone reader, for [`finish`].
static FAILED: OnceLock<Problem> = OnceLock::new();

/// The exact bytes on stdout, with nothing added; a gone reader is not an error.
pub fn write(bytes: &[u8]) -> Result<(), Problem> {
    if READER_GONE.load(Ordering::Relaxed) {
        return Ok(());
    }
    let mut stdout = io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => {
            READER_GONE.store(true, Ordering::Relaxed);
            Ok(())
        }
        Err(error) => Err(Problem::new("stdout", format!("cannot write: {error}"))
            .with_hint("check where standard output goes (a full disk, a closed descriptor)")),
    }
}

/// What [`outln!`] runs: one line, a write error kept for [`finish`].
pub fn line(text: fmt::Arguments) {
    let mut text = text.to_string();
    text.push('\n');
    if let Err(problem) = write(text.as_bytes()) {
        let _ = FAILED.set(problem);
    }
}

/// The write error a line met, if any; called once the command is done.
pub fn finish() -> Result<(), Problem> {
    match FAILED.get() {
        Some(problem) => Err(problem.clone()),
        None => Ok(()),
    }
}

/// `println!` for the commands' output, which never panics: see the module's doc.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::stdout::line(format_args!($($arg)*))
    };
}
pub(crate) use outln;
