//! "Did you mean …?" for misspelled keys, backends and flags.

/// The closest candidate, if it is close enough to be a plausible typo.
pub fn nearest<'a>(typed: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let typed = typed.to_ascii_lowercase().replace('-', "_");
    candidates
        .iter()
        .map(|candidate| (strsim::damerau_levenshtein(&typed, candidate), *candidate))
        .filter(|(distance, candidate)| *distance <= (candidate.len() / 3).max(2))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_keys_only() {
        let keys = ["backend", "vault_addr", "vault_path"];
        assert_eq!(nearest("backnd", &keys), Some("backend"));
        assert_eq!(nearest("vault-addr", &keys), Some("vault_addr"));
        assert_eq!(nearest("completely_different", &keys), None);
    }
}
