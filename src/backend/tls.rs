//! Which certificate authorities the HTTPS clients of Vault and Key Vault trust: roots built
//! into the binary (a `FROM scratch` image has no CA bundle) and a PEM file the user names.

use std::path::Path;

use crate::bounded;
use crate::problem::Problem;

/// The Mozilla roots compiled in (webpki-root-certs).
pub fn builtin_roots() -> impl Iterator<Item = reqwest::Certificate> {
    webpki_root_certs::TLS_SERVER_ROOT_CERTS
        .iter()
        .filter_map(|der| reqwest::Certificate::from_der(der).ok())
}

/// The certificates of the PEM bundle `variable` names, read within the launch's deadline (a
/// FIFO or a hung mount must not hold the launch).
pub async fn read_bundle(
    path: &Path,
    variable: &str,
    deadline: tokio::time::Instant,
    hint: &str,
) -> Result<Vec<reqwest::Certificate>, Problem> {
    let pem =
        bounded::read_regular_file_until(path.to_path_buf(), bounded::SECRET_FILE_LIMIT, deadline)
            .await
            .map_err(|error| {
                Problem::new(
                    path.display().to_string(),
                    format!("cannot read {variable}: the file {error}"),
                )
                .with_hint(error.hint().unwrap_or_else(|| hint.to_string()))
            })?;
    reqwest::Certificate::from_pem_bundle(&pem).map_err(|error| {
        Problem::new(
            path.display().to_string(),
            format!("{variable} is not a PEM certificate bundle: {error}"),
        )
        .with_hint(format!("{hint} (-----BEGIN CERTIFICATE-----)"))
    })
}
