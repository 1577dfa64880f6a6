//! Reads and scans files on every core: a shared index into the file list is the work queue,
//! so each file is read once and no thread waits for a slower one's share.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use super::detect::{Rules, scan_text};
use super::finding::{Example, Finding};
use super::source::{self, NotScanned, Skip, SourceFile};

pub struct Scanned {
    pub findings: Vec<Finding>,
    pub examples: Vec<Example>,
    pub skipped: Vec<(String, Skip)>,
    pub unreadable: Vec<(String, String)>,
    pub files: usize,
}

/// Scans every file; shows progress on stderr only when it is a terminal and the scan is long.
pub fn scan_files(files: &[SourceFile], rules: &Rules, max_bytes: u64) -> Scanned {
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let finished = AtomicBool::new(false);
    let results = Mutex::new((Vec::new(), Vec::new(), Vec::new(), Vec::new()));
    let workers = std::thread::available_parallelism()
        .map(|count| count.get())
        .unwrap_or(1)
        .min(files.len().max(1));
    let show_progress = std::io::stderr().is_terminal() && files.len() >= 500;
    std::thread::scope(|scope| {
        if show_progress {
            scope.spawn(|| progress(&done, &finished, files.len()));
        }
        let workers: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let (mut findings, mut skipped, mut unreadable, mut examples) =
                        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
                    loop {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        let Some(file) = files.get(index) else { break };
                        match source::read(file, max_bytes) {
                            Ok(text) => {
                                let file = scan_text(&file.name, &text, rules);
                                findings.extend(file.findings);
                                examples.extend(file.examples);
                            }
                            Err(NotScanned::Skipped(skip)) => {
                                skipped.push((file.name.clone(), skip))
                            }
                            Err(NotScanned::Unreadable(why)) => {
                                unreadable.push((file.name.clone(), why))
                            }
                        }
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                    let mut results = results.lock().unwrap_or_else(|poison| poison.into_inner());
                    results.0.append(&mut findings);
                    results.1.append(&mut skipped);
                    results.2.append(&mut unreadable);
                    results.3.append(&mut examples);
                })
            })
            .collect();
        for worker in workers {
            let _ = worker.join();
        }
        finished.store(true, Ordering::Relaxed);
    });
    let (mut findings, mut skipped, mut unreadable, mut examples) = results
        .into_inner()
        .unwrap_or_else(|poison| poison.into_inner());
    findings.sort_by(|a: &Finding, b: &Finding| {
        (&a.path, a.line, a.column).cmp(&(&b.path, b.line, b.column))
    });
    skipped.sort();
    unreadable.sort();
    examples.sort_by(|a: &Example, b: &Example| {
        (&a.path, a.line, a.column).cmp(&(&b.path, b.line, b.column))
    });
    Scanned {
        findings,
        examples,
        skipped,
        unreadable,
        files: files.len(),
    }
}

fn progress(done: &AtomicUsize, finished: &AtomicBool, total: usize) {
    let mut stderr = std::io::stderr();
    while !finished.load(Ordering::Relaxed) {
        let _ = write!(
            stderr,
            "\rscanning: {}/{total} files",
            done.load(Ordering::Relaxed)
        );
        let _ = stderr.flush();
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = write!(stderr, "\r\x1b[2K");
}
