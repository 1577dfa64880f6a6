//! What a manager keeps between calls: one async runtime, and the backends it built, with
//! their login, tokens and connection pools, so that N reads cost one Vault login, one Key
//! Vault token and one AWS credential resolution, over connections already open. A backend is
//! built afresh when its login or token nears its expiry (`Backend::usable_until`), or after a
//! call in which it could not be reached or was refused (a failed login is not kept). A launch
//! and the `get`/`set` commands build their backends per call, as before.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, OnceLock};

use tokio::runtime::Runtime;
use tokio::time::Instant;

use super::{Failure, FailureKind};
use crate::backend::{Backends, BuildContext, Source};
use crate::problem::Problem;

#[derive(Default)]
pub(crate) struct Kept {
    /// Started by the first blocking call: a current-thread runtime, on which many threads
    /// may block at once (one drives the I/O while the others wait on their own call).
    runtime: OnceLock<Runtime>,
    backends: Mutex<Backends>,
    /// Held while a backend is built, so that concurrent first calls log in once.
    building: tokio::sync::Mutex<()>,
}

impl Kept {
    /// Runs one call of the manager on its runtime.
    pub fn block_on<T>(
        &self,
        future: impl Future<Output = Result<T, Failure>>,
    ) -> Result<T, Failure> {
        let runtime = match self.runtime.get() {
            Some(runtime) => runtime,
            None => {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|error| {
                        let problem = Problem::new(
                            "runtime",
                            format!("cannot start the async runtime: {error}"),
                        );
                        Failure::new(FailureKind::BackendUnavailable, problem)
                    })?;
                // Another thread may have started one meanwhile: that one is used.
                let _ = self.runtime.set(runtime);
                self.runtime.get().expect("set above")
            }
        };
        runtime.block_on(future)
    }

    /// The kept backends for `sources`, with those missing or near their expiry built now
    /// (within the call's deadline, `context`), and the others kept alive.
    pub async fn ready(
        &self,
        sources: &BTreeSet<Source>,
        context: &BuildContext<'_>,
    ) -> Result<Backends, Problem> {
        let building = self.building.lock().await;
        let mut backends = self.snapshot();
        let now = Instant::now();
        let mut reused = Vec::new();
        for &source in sources {
            let Some(backend) = backends.get(source) else {
                continue;
            };
            if backend.usable_until().is_some_and(|until| until <= now) {
                // Its token keeps the third of its life that is left for calls still using it.
                backends.remove(source);
            } else {
                reused.push(backend.clone());
            }
        }
        let kept: BTreeSet<Source> = sources
            .iter()
            .copied()
            .filter(|&source| backends.get(source).is_some())
            .collect();
        backends.add(sources, context).await?;
        self.keep_built(sources.difference(&kept), &backends);
        drop(building);
        for backend in reused {
            backend.keep_alive().await;
        }
        Ok(backends)
    }

    /// Forgets `sources`' backends, to be built afresh by the next call that needs them.
    pub fn forget(&self, sources: &BTreeSet<Source>) {
        if let Ok(mut backends) = self.backends.lock() {
            for &source in sources {
                backends.remove(source);
            }
        }
    }

    fn snapshot(&self) -> Backends {
        self.backends
            .lock()
            .map(|backends| backends.clone())
            .unwrap_or_default()
    }

    /// Keeps the backends just built for `sources` (replacing expired ones). Only those: a
    /// `forget` another call made while they were being built stays in effect.
    fn keep_built<'a>(&self, sources: impl Iterator<Item = &'a Source>, built: &Backends) {
        if let Ok(mut backends) = self.backends.lock() {
            for &source in sources {
                if let Some(backend) = built.get(source) {
                    backends.insert(source, Arc::clone(backend));
                }
            }
        }
    }
}

impl Drop for Kept {
    /// Lets the kept backends release what they hold (Vault revokes a token it obtained by
    /// login), unless the manager is dropped inside another async runtime, which cannot block.
    fn drop(&mut self) {
        let Some(runtime) = self.runtime.take() else {
            return;
        };
        let backends = self.snapshot();
        if tokio::runtime::Handle::try_current().is_err() {
            runtime.block_on(backends.finish());
        }
        // As `crate::runtime::block_on`: a blocking thread stuck on a hung file is left behind.
        runtime.shutdown_background();
    }
}
