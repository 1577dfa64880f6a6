//! Exhaustive small inputs for the parsers' no-panic tests.

/// Every concatenation of up to `max_pieces` of `pieces` (with repetition), shortest first.
pub fn every_combination(pieces: &[&str], max_pieces: usize) -> Vec<String> {
    let mut all = Vec::new();
    let mut level = vec![String::new()];
    for _ in 0..max_pieces {
        level = level
            .iter()
            .flat_map(|prefix| pieces.iter().map(move |piece| format!("{prefix}{piece}")))
            .collect();
        all.extend(level.iter().cloned());
    }
    all
}
