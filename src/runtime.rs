//! The async runtime each command runs its network work on: one current-thread runtime per
//! call, left behind (not joined) when the call returns.

use crate::error::Error;
use crate::problem::Problem;

/// Runs one future on a current-thread runtime that is dropped afterwards.
pub fn block_on<T>(future: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| {
            Problem::new(
                "runtime",
                format!("cannot start the async runtime: {error}"),
            )
        })?;
    let result = runtime.block_on(future);
    // Dropping a runtime waits for its blocking threads: a file read abandoned at the deadline
    // (a hung network mount) would hold the launch forever. Leave such a thread behind instead.
    runtime.shutdown_background();
    result
}
