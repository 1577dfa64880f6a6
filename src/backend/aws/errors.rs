//! AWS failures in the user's words: each names the secret id and says what to do (for access
//! denied, the IAM action and resource to grant, as in `examples/aws/iam-read-policy.json`).
//! AWS error messages name secrets and principals, never values, so they are quoted.

use std::fmt;

use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};

use super::request::SecretRead;
use crate::backend::{FetchError, FetchErrorKind};

/// The API action that failed, named as in IAM policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    GetSecretValue,
    BatchGetSecretValue,
    PutSecretValue,
    CreateSecret,
    /// The watcher's version poll (`run --watch`) and rotate's look at the staging labels.
    DescribeSecret,
    /// `rotate --status`'s look at the versions' dates.
    ListSecretVersionIds,
    UpdateSecretVersionStage,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::GetSecretValue => "GetSecretValue",
            Action::BatchGetSecretValue => "BatchGetSecretValue",
            Action::PutSecretValue => "PutSecretValue",
            Action::CreateSecret => "CreateSecret",
            Action::DescribeSecret => "DescribeSecret",
            Action::ListSecretVersionIds => "ListSecretVersionIds",
            Action::UpdateSecretVersionStage => "UpdateSecretVersionStage",
        })
    }
}

/// Where the calls go, for messages and IAM resource patterns.
#[derive(Debug, Clone)]
pub struct Service {
    pub region: String,
    /// `aws_endpoint_url` / `AWS_ENDPOINT_URL`, or a description of the default one.
    pub endpoint: String,
}

/// Why a call (or one secret of a batch) failed, before it is put in words.
#[derive(Debug, Clone)]
pub enum CallFailure {
    /// The service answered with an error code, e.g. `ResourceNotFoundException`.
    Service { code: String, message: String },
    /// The SDK gave up within the deadline (after its retries).
    TimedOut,
    /// No answer: connection refused, DNS, TLS… (the SDK's description, which holds no value).
    Unreachable(String),
    /// An answer the SDK could not read. Its details are dropped: they may quote the body.
    Unreadable,
    /// An answer larger than `bounded::RESPONSE_LIMIT`, refused before it was buffered.
    TooLarge,
}

impl CallFailure {
    pub fn from_sdk<E, R>(error: SdkError<E, R>) -> CallFailure
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: fmt::Debug + 'static,
    {
        if super::limit::is_too_large(&error) {
            return CallFailure::TooLarge;
        }
        match error {
            SdkError::ServiceError(service) => {
                let error = service.err();
                CallFailure::Service {
                    code: error.code().unwrap_or("UnknownError").to_string(),
                    message: error.message().unwrap_or_default().to_string(),
                }
            }
            SdkError::TimeoutError(_) => CallFailure::TimedOut,
            SdkError::DispatchFailure(failure) if failure.is_timeout() => CallFailure::TimedOut,
            SdkError::ResponseError(_) => CallFailure::Unreadable,
            other => CallFailure::Unreachable(causes(&other)),
        }
    }

    pub fn service(code: Option<&str>, message: Option<&str>) -> CallFailure {
        CallFailure::Service {
            code: code.unwrap_or("UnknownError").to_string(),
            message: message.unwrap_or_default().to_string(),
        }
    }

    pub fn code(&self) -> Option<&str> {
        match self {
            CallFailure::Service { code, .. } => Some(code),
            _ => None,
        }
    }

    pub fn is_access_denied(&self) -> bool {
        self.code() == Some("AccessDeniedException")
    }

    pub fn is_invalid_request(&self) -> bool {
        self.code().is_some_and(is_invalid_request)
    }

    pub fn is_not_found(&self) -> bool {
        self.code() == Some("ResourceNotFoundException")
    }

    /// The message for one secret, named by `location` (`aws-sm cronos-ai/db#password`).
    pub fn describe(
        &self,
        read: &SecretRead,
        location: &str,
        action: Action,
        service: &Service,
    ) -> FetchError {
        let endpoint = &service.endpoint;
        let (kind, message, hint) = match self {
            CallFailure::Service { code, message } => {
                return service_error(code, message, read, location, action, service);
            }
            CallFailure::TimedOut => (
                FetchErrorKind::Unavailable,
                format!("{action} timed out (retried within the deadline)"),
                "check that AWS Secrets Manager is reachable, or raise --timeout",
            ),
            CallFailure::Unreachable(detail) => (
                FetchErrorKind::Unavailable,
                format!("cannot reach AWS Secrets Manager at {endpoint}: {detail}"),
                "check the network, aws_region and aws_endpoint_url / AWS_ENDPOINT_URL",
            ),
            CallFailure::TooLarge => (
                FetchErrorKind::Invalid,
                format!(
                    "the answer of {endpoint} to {action} is larger than {}, the limit for one answer",
                    crate::bounded::human_size(crate::bounded::RESPONSE_LIMIT as u64)
                ),
                "check that aws_endpoint_url / AWS_ENDPOINT_URL points at Secrets Manager",
            ),
            CallFailure::Unreadable => (
                FetchErrorKind::Unavailable,
                format!("unreadable answer from AWS Secrets Manager to {action}"),
                "check that aws_endpoint_url / AWS_ENDPOINT_URL points at Secrets Manager",
            ),
        };
        FetchError::new(kind, format!("{location}: {message}")).with_hint(hint)
    }
}

/// What an AWS error code means for one secret, and what to do about it.
fn service_error(
    code: &str,
    aws_message: &str,
    read: &SecretRead,
    location: &str,
    action: Action,
    service: &Service,
) -> FetchError {
    let id = &read.id;
    let region = &service.region;
    let said = if aws_message.is_empty() {
        code.to_string()
    } else {
        format!("{code}: {aws_message}")
    };
    let (kind, problem, hint) = match code {
        "ResourceNotFoundException" if read.is_pinned() => (
            FetchErrorKind::NotFound,
            format!("no version {} of secret {id}", pin(read)),
            format!("list its versions: aws secretsmanager list-secret-version-ids --secret-id {id}"),
        ),
        "ResourceNotFoundException" => (
            FetchErrorKind::NotFound,
            format!("secret {id} not found in {region}"),
            format!(
                "create it (cronos-secrets set --create {}, or aws secretsmanager create-secret --name {id}), or check aws_region and aws_prefix",
                shell_quote(&format!("aws-sm://{id}"))
            ),
        ),
        // AWS says "marked for deletion", moto "marked deleted".
        "InvalidRequestException" if aws_message.contains("marked") => (
            FetchErrorKind::NotFound,
            format!("secret {id} is scheduled for deletion"),
            format!("restore it: aws secretsmanager restore-secret --secret-id {id}"),
        ),
        "AccessDeniedException" => (
            FetchErrorKind::Denied,
            format!("access denied to secret {id} for {action}"),
            access_hint(action, id, region),
        ),
        "DecryptionFailure" => (
            FetchErrorKind::Denied,
            format!("AWS cannot decrypt secret {id} with its KMS key"),
            "grant kms:Decrypt on the secret's KMS key to the launcher's role, and check the key is enabled".to_string(),
        ),
        "UnrecognizedClientException" | "InvalidSignatureException" | "ExpiredTokenException"
        | "InvalidClientTokenId" | "SignatureDoesNotMatch" => (
            FetchErrorKind::Denied,
            format!("AWS rejected the launcher's credentials reading {id}"),
            "check AWS_ACCESS_KEY_ID / AWS_PROFILE / the role, and refresh expired session credentials".to_string(),
        ),
        "ThrottlingException" | "Throttling" | "TooManyRequestsException"
        | "RequestLimitExceeded" => (
            FetchErrorKind::Unavailable,
            format!("throttled by AWS Secrets Manager reading {id}, even after retries"),
            "fewer launches at once, or a longer --timeout for more retries".to_string(),
        ),
        code if is_invalid_request(code) => (
            FetchErrorKind::Invalid,
            format!("AWS refused {action} for {id}"),
            "check the secret id and the reference's parameters".to_string(),
        ),
        _ => (
            FetchErrorKind::Unavailable,
            format!("{action} failed for {id}"),
            "retry later; if it persists, check the AWS service health".to_string(),
        ),
    };
    FetchError::new(kind, format!("{location}: {problem} ({said})")).with_hint(hint)
}

fn is_invalid_request(code: &str) -> bool {
    matches!(
        code,
        "InvalidParameterException" | "InvalidRequestException" | "ValidationException"
    )
}

/// The grant that fixes an access-denied error, in IAM terms.
fn access_hint(action: Action, id: &str, region: &str) -> String {
    let resource = if id.starts_with("arn:") {
        id.to_string()
    } else {
        // Secret ARNs end in "-" and six random characters.
        format!("arn:aws:secretsmanager:{region}:*:secret:{id}-*")
    };
    match action {
        Action::BatchGetSecretValue => {
            "grant secretsmanager:BatchGetSecretValue on \"*\" (it takes no resource) and secretsmanager:GetSecretValue on each secret (see examples/aws/iam-read-policy.json)".to_string()
        }
        Action::GetSecretValue => format!(
            "grant secretsmanager:GetSecretValue on {resource} to the launcher's role (see examples/aws/iam-read-policy.json)"
        ),
        Action::PutSecretValue | Action::CreateSecret | Action::UpdateSecretVersionStage => {
            format!(
                "grant secretsmanager:{action} on {resource} (see examples/aws/iam-rotation-policy.json)"
            )
        }
        Action::DescribeSecret => format!(
            "grant secretsmanager:DescribeSecret on {resource}: run --watch polls it instead of reading values, and rotate reads the staging labels with it (see examples/aws/iam-rotation-policy.json)"
        ),
        Action::ListSecretVersionIds => format!(
            "grant secretsmanager:ListSecretVersionIds on {resource}: rotate --status reads the versions' dates with it instead of reading values (see examples/aws/iam-rotation-policy.json)"
        ),
    }
}

/// "dispatch failure: io error: …: Connection refused (os error 111)": each cause's own words,
/// without the Debug dump that `DisplayErrorContext` appends.
fn causes(error: &dyn std::error::Error) -> String {
    let mut words = vec![error.to_string()];
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if words.last() != Some(&text) {
            words.push(text);
        }
        source = cause.source();
    }
    words.join(": ")
}

fn pin(read: &SecretRead) -> String {
    match (&read.version_id, &read.version_stage) {
        (Some(id), Some(stage)) => format!("{id} (stage {stage})"),
        (Some(id), None) => id.clone(),
        (None, Some(stage)) => format!("with stage {stage}"),
        (None, None) => "current".to_string(),
    }
}

fn shell_quote(text: &str) -> String {
    shell_words::quote(text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(pinned: bool) -> SecretRead {
        SecretRead {
            id: "cronos-ai/db".into(),
            version_id: pinned.then(|| "v1".to_string()),
            version_stage: None,
        }
    }

    fn describe(code: &str, message: &str, pinned: bool, action: Action) -> FetchError {
        let service = Service {
            region: "us-east-1".into(),
            endpoint: "http://127.0.0.1:1".into(),
        };
        CallFailure::service(Some(code), Some(message)).describe(
            &read(pinned),
            "aws-sm cronos-ai/db",
            action,
            &service,
        )
    }

    #[test]
    fn not_found_says_how_to_create_it() {
        let error = describe(
            "ResourceNotFoundException",
            "can't find",
            false,
            Action::GetSecretValue,
        );
        assert_eq!(error.kind, FetchErrorKind::NotFound);
        assert!(
            error
                .message
                .contains("secret cronos-ai/db not found in us-east-1")
        );
        assert!(
            error
                .hint
                .unwrap()
                .contains("set --create aws-sm://cronos-ai/db")
        );
        let version = describe(
            "ResourceNotFoundException",
            "",
            true,
            Action::GetSecretValue,
        );
        assert!(
            version.message.contains("no version v1"),
            "{}",
            version.message
        );
    }

    #[test]
    fn access_denied_names_the_action_and_resource() {
        let error = describe(
            "AccessDeniedException",
            "not authorized",
            false,
            Action::GetSecretValue,
        );
        assert_eq!(error.kind, FetchErrorKind::Denied);
        let hint = error.hint.unwrap();
        assert!(hint.contains("secretsmanager:GetSecretValue"), "{hint}");
        assert!(
            hint.contains("arn:aws:secretsmanager:us-east-1:*:secret:cronos-ai/db-*"),
            "{hint}"
        );
        let batch = describe(
            "AccessDeniedException",
            "",
            false,
            Action::BatchGetSecretValue,
        );
        assert!(
            batch
                .hint
                .unwrap()
                .contains("secretsmanager:BatchGetSecretValue on \"*\"")
        );
    }

    #[test]
    fn decryption_and_deletion_have_their_own_fix() {
        let kms = describe("DecryptionFailure", "kms", false, Action::GetSecretValue);
        assert!(kms.hint.unwrap().contains("kms:Decrypt"));
        let deleted = describe(
            "InvalidRequestException",
            "marked for deletion",
            false,
            Action::GetSecretValue,
        );
        assert_eq!(deleted.kind, FetchErrorKind::NotFound);
        assert!(deleted.hint.unwrap().contains("restore-secret"));
    }
}
