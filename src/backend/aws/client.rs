//! The Secrets Manager client: AWS's standard region and credential chains, bounded so that a
//! launch with no credentials fails in seconds instead of waiting on instance metadata, and
//! retries (throttling, 5xx) with backoff and jitter that stop at the launch's deadline. The
//! region lookup, credential loading and the calls all spend from that one deadline.

use std::time::Duration;

use tokio::time::Instant;

use aws_config::BehaviorVersion;
use aws_config::default_provider::credentials::DefaultCredentialsChain;
use aws_config::environment::EnvironmentVariableRegionProvider;
use aws_config::imds;
use aws_config::imds::region::ImdsRegionProvider;
use aws_config::meta::region::RegionProviderChain;
use aws_config::profile::ProfileFileRegionProvider;
use aws_config::provider_config::ProviderConfig;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::config::{
    Credentials, ProvideCredentials, Region, SharedCredentialsProvider, SharedHttpClient,
};
use aws_sdk_secretsmanager::error::DisplayErrorContext;

use super::errors::Service;
use super::{children, limit};
use crate::config::AwsSettings;
use crate::problem::Problem;

/// The SDK's default IMDS client makes up to 4 attempts per call, each with 1 s timeouts, and
/// loading credentials and the region each call it: off EC2, behind a firewall that drops
/// packets, that adds up. Two short tries tell "no metadata service here" from a slow one.
const IMDS_ATTEMPTS: u32 = 2;
const IMDS_TIMEOUT: Duration = Duration::from_secs(1);
const IMDS_OPERATION_TIMEOUT: Duration = Duration::from_secs(3);

/// Standard retry mode: exponential backoff with full jitter, for throttling, 5xx and
/// transient network errors. The operation timeout (the deadline) ends retrying first.
const MAX_ATTEMPTS: u32 = 5;
const INITIAL_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(2);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

const LOCATION: &str = "backend aws_secrets_manager";

/// A ready client, and where it sends its calls (for messages).
pub struct Connection {
    pub client: Client,
    pub service: Service,
    /// When the credentials loaded (temporary ones: a role, SSO, web identity) near their
    /// expiry: a kept backend (the library's manager) loads them afresh from then on, as the
    /// SDK's own credential cache would. `None`: they do not expire (access keys).
    pub renew_at: Option<Instant>,
}

/// Resolves region and credentials once, before `deadline`, and builds the client.
pub async fn connect(settings: &AwsSettings, deadline: Instant) -> Result<Connection, Problem> {
    let remaining = || deadline.saturating_duration_since(Instant::now());
    let imds = imds::Client::builder()
        .max_attempts(IMDS_ATTEMPTS)
        .connect_timeout(IMDS_TIMEOUT)
        .read_timeout(IMDS_TIMEOUT)
        .operation_timeout(IMDS_OPERATION_TIMEOUT.min(remaining()))
        .build();
    let region = tokio::time::timeout_at(deadline, region(settings, imds.clone()))
        .await
        .ok()
        .flatten()
        .ok_or_else(|| {
            Problem::new(LOCATION, "no AWS region is configured").with_hint(
                "set aws_region in the config (or CRONOS_SECRETS_AWS_REGION), or AWS_REGION",
            )
        })?;
    // Built once: STS (web identity, role assumption), SSO and the ECS role answer through the
    // same client as Secrets Manager: the same trust roots, the same answer size limit.
    let http = limit::limited(https_client(deadline).await?);
    let (credentials, renew_at) = credentials(&region, imds, http.clone(), deadline).await?;
    let remaining = remaining().max(Duration::from_millis(1));
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http)
        .region(region.clone())
        .credentials_provider(credentials)
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(MAX_ATTEMPTS)
                .with_initial_backoff(INITIAL_BACKOFF)
                .with_max_backoff(MAX_BACKOFF),
        )
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(CONNECT_TIMEOUT.min(remaining))
                .operation_timeout(remaining)
                .build(),
        );
    // Otherwise the SDK reads AWS_ENDPOINT_URL (and _SECRETS_MANAGER) and the profile itself.
    if let Some(endpoint) = &settings.endpoint_url {
        loader = loader.endpoint_url(endpoint);
    }
    let sdk_config = loader.load().await;
    let endpoint = match sdk_config.endpoint_url() {
        Some(url) => url.to_string(),
        None => format!("its {region} endpoint"),
    };
    Ok(Connection {
        client: Client::new(&sdk_config),
        service: Service {
            region: region.to_string(),
            endpoint,
        },
        renew_at,
    })
}

/// `aws_region`, then AWS_REGION / AWS_DEFAULT_REGION, the profile, and EC2 metadata.
async fn region(settings: &AwsSettings, imds: imds::Client) -> Option<Region> {
    RegionProviderChain::first_try(settings.region.clone().map(Region::new))
        .or_else(EnvironmentVariableRegionProvider::new())
        .or_else(ProfileFileRegionProvider::new())
        .or_else(ImdsRegionProvider::builder().imds_client(imds).build())
        .region()
        .await
}

/// Loads credentials once, through the standard chain: environment keys, profile (with SSO
/// and role assumption, `credential_process`), web identity (EKS IRSA), the ECS container
/// role, EC2 metadata. Loading them here, not on the first request, gives one clear error
/// instead of one per secret; a launch is short, so the credentials do not need refreshing
/// afterwards (a kept backend is built afresh when they near their expiry, the second value).
async fn credentials(
    region: &Region,
    imds: imds::Client,
    http: SharedHttpClient,
    deadline: Instant,
) -> Result<(SharedCredentialsProvider, Option<Instant>), Problem> {
    let started = Instant::now();
    // aws-config runs `credential_process` with tokio's process API without kill_on_drop:
    // giving up on it (the deadline) would leave it running. What it spawned is killed then.
    let before = children::Spawned::snapshot();
    let chain = DefaultCredentialsChain::builder()
        .configure(ProviderConfig::default().with_http_client(http))
        .region(region.clone())
        .imds_client(imds)
        .build()
        .await;
    let loaded: Credentials =
        match tokio::time::timeout_at(deadline, chain.provide_credentials()).await {
            Ok(Ok(credentials)) => credentials,
            Ok(Err(error)) => {
                let message = match &error {
                    CredentialsError::CredentialsNotLoaded(_) => {
                        format!("no AWS credentials found (looked in {CREDENTIAL_SOURCES})")
                    }
                    _ => format!(
                        "cannot load AWS credentials: {}",
                        DisplayErrorContext(&error)
                    ),
                };
                return Err(Problem::new(LOCATION, message).with_hint(CREDENTIALS_HINT));
            }
            Err(_) => {
                let killed = before.kill_new();
                let killed = match killed {
                    0 => String::new(),
                    n => format!("; stopped {n} process(es) it had started (credential_process)"),
                };
                return Err(Problem::new(
                    LOCATION,
                    format!(
                        "loading AWS credentials did not finish by the deadline ({:.1}s){killed}",
                        started.elapsed().as_secs_f64()
                    ),
                )
                .with_hint(CREDENTIALS_HINT));
            }
        };
    let renew_at = loaded.expiry().map(|expiry| {
        let left = expiry
            .duration_since(std::time::SystemTime::now())
            .unwrap_or_default();
        Instant::now() + left - (left / 3).min(RENEW_BEFORE_EXPIRY)
    });
    Ok((SharedCredentialsProvider::new(loaded), renew_at))
}

/// Temporary credentials are loaded afresh this long before they expire (or once two thirds
/// of their time is gone, if they live less than 15 minutes).
const RENEW_BEFORE_EXPIRY: Duration = Duration::from_secs(300);

const CREDENTIAL_SOURCES: &str = "AWS_ACCESS_KEY_ID, the AWS_PROFILE profile in ~/.aws, web identity, the ECS task role and EC2 instance metadata";
const CREDENTIALS_HINT: &str = "export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, set AWS_PROFILE, or run with an IAM role (EKS IRSA: AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE, an ECS task role, an EC2 instance profile)";

/// The SDK's HTTPS client, trusting the roots every client here trusts (`crate::tls`): the
/// built-in Mozilla roots (a FROM scratch image has none of its own) and the platform's
/// (corporate CAs), loaded within `deadline`. The SDK builds its own rustls `ClientConfig`
/// (its cipher list, its connector) and takes no prepared one, so it gets the list of roots.
async fn https_client(deadline: Instant) -> Result<SharedHttpClient, Problem> {
    use aws_smithy_http_client::tls::{self, TlsContext, TrustStore, rustls_provider::CryptoMode};
    let roots = crate::tls::roots(crate::tls::Trust::Public { extra: None }, deadline)
        .await
        .map_err(|error| {
            Problem::new(LOCATION, error.to_string()).with_optional_hint(error.hint())
        })?;
    let mut trust = TrustStore::empty();
    for der in &roots {
        trust.add_pem_certificate(pem(der));
    }
    let context = TlsContext::builder()
        .with_trust_store(trust)
        .build()
        .map_err(|error| {
            Problem::new(
                LOCATION,
                format!(
                    "cannot set up the HTTPS client: {}",
                    DisplayErrorContext(&error)
                ),
            )
        })?;
    Ok(aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
        .tls_context(context)
        .build_https())
}

/// DER to PEM, the form the SDK's trust store takes.
fn pem(der: &[u8]) -> String {
    use base64::Engine;
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in body.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).unwrap_or_default());
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----\n");
    pem
}
