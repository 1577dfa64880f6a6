//! Replays the fuzz corpus (`fuzz/corpus/<target>/`, kept by `fuzz/run.sh`) on stable: every
//! input the fuzzers found interesting still holds every property, in the ordinary suite.

use std::path::Path;

use cronos_secrets::fuzzing::TARGETS;

/// The files of `fuzz/<folder>/<target>/`, if the folder exists.
fn inputs(folder: &str, target: &str) -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join(folder)
        .join(target);
    match std::fs::read_dir(&dir) {
        Ok(entries) => entries.map(|entry| entry.unwrap().path()).collect(),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(error) => panic!("{}: {error}", dir.display()),
    }
}

/// The kept corpus, and `fuzz/regressions/`: the inputs that once failed (cmin may drop them
/// from the corpus, so they live apart).
#[test]
fn every_corpus_input_still_holds_its_properties() {
    for (target, property) in TARGETS {
        let corpus = inputs("corpus", target);
        assert!(!corpus.is_empty(), "{target}: the corpus has no input");
        for input in corpus.into_iter().chain(inputs("regressions", target)) {
            let data = std::fs::read(&input).unwrap();
            let outcome = std::panic::catch_unwind(|| property(&data));
            assert!(outcome.is_ok(), "{target}: {} fails", input.display());
        }
    }
}
