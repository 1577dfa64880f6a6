//! The deadline of the call a backend serves now. A launch builds its backends for one call and
//! they keep the deadline they were built with; the library's manager keeps its backends (their
//! login and connection pool) across calls, each call with a deadline of its own, given here for
//! the duration of the call's future (a task-local value, so concurrent calls on one backend
//! from several threads each keep their own).

use std::future::Future;

use tokio::time::Instant;

tokio::task_local! {
    static CALL_DEADLINE: Instant;
}

/// The deadline of the call being served, else `built` (the one the backend was built for).
pub fn current(built: Instant) -> Instant {
    CALL_DEADLINE
        .try_with(|deadline| *deadline)
        .unwrap_or(built)
}

/// Runs `future` (one call on kept backends) with `deadline` as every backend's deadline.
pub async fn within<F: Future>(deadline: Instant, future: F) -> F::Output {
    CALL_DEADLINE.scope(deadline, future).await
}
