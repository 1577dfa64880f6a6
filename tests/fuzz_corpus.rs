//! Replays the fuzz corpus (`fuzz/corpus/<target>/`, kept by `fuzz/run.sh`) on stable: every
//! input the fuzzers found interesting still holds every property, in the ordinary suite.

use std::path::Path;

use cronos_secrets::fuzzing::TARGETS;

#[test]
fn every_corpus_input_still_holds_its_properties() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    for (target, property) in TARGETS {
        let dir = root.join(target);
        let inputs: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
            .map(|entry| entry.unwrap().path())
            .collect();
        assert!(!inputs.is_empty(), "{target}: the corpus has no input");
        for input in inputs {
            let data = std::fs::read(&input).unwrap();
            let outcome = std::panic::catch_unwind(|| property(&data));
            assert!(outcome.is_ok(), "{target}: {} fails", input.display());
        }
    }
}
