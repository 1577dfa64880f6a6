//! JWT and Kubernetes logins against a real OpenBao, with keys the test generates and a small
//! stand-in for the Kubernetes TokenReview API that the test serves.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::openbao::{OpenBao, write_file};
use common::*;

fn bao() -> &'static OpenBao {
    static SERVER: OnceLock<OpenBao> = OnceLock::new();
    SERVER.get_or_init(|| {
        let bao = OpenBao::start(false);
        bao.put("secret", "auth/jwt_secret", &[("value", JWT_SECRET)]);
        let policy = bao.path("read.hcl");
        write_file(
            &policy,
            "path \"secret/data/auth/*\" { capabilities = [\"read\"] }\n",
        );
        bao.run(&[
            "policy",
            "write",
            "auth-read",
            &policy.display().to_string(),
        ]);
        bao
    })
}

/// An RSA key pair made with the openssl CLI; returns (private key path, public key PEM path).
fn key_pair(dir: &Path) -> (String, String) {
    let private = dir.join("key.pem").display().to_string();
    let public = dir.join("pub.pem").display().to_string();
    let run = |args: &[&str]| {
        let output = Command::new("openssl")
            .args(args)
            .output()
            .expect("openssl");
        assert!(
            output.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    run(&["genrsa", "-out", &private, "2048"]);
    run(&["rsa", "-in", &private, "-pubout", "-out", &public]);
    (private, public)
}

/// An RS256 JWT with `claims`, signed with `private_key` by the openssl CLI.
fn sign_jwt(claims: &serde_json::Value, private_key: &str, dir: &Path) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signing_input = format!("{header}.{payload}");
    let input_file = dir.join("signing-input");
    std::fs::write(&input_file, &signing_input).unwrap();
    let output = Command::new("openssl")
        .args(["dgst", "-sha256", "-sign", private_key])
        .arg(&input_file)
        .output()
        .expect("openssl dgst");
    assert!(output.status.success());
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(output.stdout))
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn launch_with(method: &str, role: &str, jwt_file: &Path) -> Launch {
    Launch::new()
        .env("VAULT_ADDR", &bao().address)
        .env("CRONOS_SECRETS_BACKEND", "vault")
        .env("CRONOS_SECRETS_VAULT_AUTH__METHOD", method)
        .env("CRONOS_SECRETS_VAULT_AUTH__ROLE", role)
        .env(
            "CRONOS_SECRETS_VAULT_AUTH__JWT_FILE",
            &jwt_file.display().to_string(),
        )
        .env("CRONOS_SECRETS_VAULT_PATH", "auth")
        .file(
            "c.yaml",
            "secrets:\n  jwt_secret:\n    env: CRONOS_AI_JWT_SECRET\n    min_length: 32\n",
        )
        .args(["--config", "c.yaml", "run", "--", "env", "-0"])
}

#[test]
fn jwt_login_with_a_generated_key_pair() {
    let bao = bao();
    let dir = tempfile::tempdir().unwrap();
    let (private, public) = key_pair(dir.path());
    bao.run(&["auth", "enable", "jwt"]);
    bao.run(&[
        "write",
        "auth/jwt/config",
        &format!("jwt_validation_pubkeys=@{public}"),
    ]);
    bao.run(&[
        "write",
        "auth/jwt/role/cronos-ai",
        "role_type=jwt",
        "bound_audiences=cronos-secrets",
        "user_claim=sub",
        "token_policies=auth-read",
    ]);
    let claims = serde_json::json!({
        "sub": "cronos-ai", "aud": "cronos-secrets", "iat": now(), "nbf": now() - 5, "exp": now() + 600
    });
    let jwt_file = dir.path().join("token");
    std::fs::write(&jwt_file, sign_jwt(&claims, &private, dir.path())).unwrap();
    let outcome = launch_with("jwt", "cronos-ai", &jwt_file).run();
    outcome.assert_code(0).assert_stderr_no_leak(&[JWT_SECRET]);
    assert_eq!(outcome.child_env()["CRONOS_AI_JWT_SECRET"], JWT_SECRET);

    // A token for another audience is refused by Vault, and the launch says how to fix it.
    let wrong = serde_json::json!({"sub": "cronos-ai", "aud": "someone-else", "iat": now(), "exp": now() + 600});
    std::fs::write(&jwt_file, sign_jwt(&wrong, &private, dir.path())).unwrap();
    launch_with("jwt", "cronos-ai", &jwt_file)
        .run()
        .assert_code(125)
        .assert_stderr_contains("Vault authentication failed (jwt at auth/jwt, role cronos-ai)")
        .assert_stderr_contains("bound_audiences");
}

/// Answers TokenReview requests as the Kubernetes API would for one service account.
fn serve_token_reviews(username: &'static str, uid: &'static str) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let reviews = Arc::new(AtomicUsize::new(0));
    let counter = reviews.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream);
            let mut content_length = 0;
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
                if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    content_length = value.trim().parse().unwrap_or(0);
                }
                line.clear();
            }
            let mut body = vec![0; content_length];
            let _ = reader.read_exact(&mut body);
            counter.fetch_add(1, Ordering::SeqCst);
            let answer = serde_json::json!({
                "apiVersion": "authentication.k8s.io/v1",
                "kind": "TokenReview",
                "status": {"authenticated": true, "user": {"username": username, "uid": uid, "groups": ["system:serviceaccounts"]}}
            })
            .to_string();
            let mut stream = reader.into_inner();
            let _ = write!(
                stream,
                "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                answer.len()
            );
        }
    });
    (port, reviews)
}

#[test]
fn kubernetes_login_through_a_token_review_stand_in() {
    let bao = bao();
    let dir = tempfile::tempdir().unwrap();
    let (private, _) = key_pair(dir.path());
    let (port, reviews) = serve_token_reviews("system:serviceaccount:cronos:cronos-ai", "uid-1234");
    // OpenBao wants the cluster's CA even when it talks plain HTTP to the stand-in.
    let ca = dir.path().join("k8s-ca.pem").display().to_string();
    let output = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-key",
            &private,
            "-subj",
            "/CN=kubernetes",
            "-days",
            "1",
            "-out",
            &ca,
        ])
        .output()
        .expect("openssl req");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    bao.run(&["auth", "enable", "kubernetes"]);
    bao.run(&[
        "write",
        "auth/kubernetes/config",
        &format!("kubernetes_host=http://127.0.0.1:{port}"),
        "disable_local_ca_jwt=true",
        &format!("kubernetes_ca_cert=@{ca}"),
        "token_reviewer_jwt=reviewer-token",
    ]);
    bao.run(&[
        "write",
        "auth/kubernetes/role/cronos-ai",
        "bound_service_account_names=cronos-ai",
        "bound_service_account_namespaces=cronos",
        "token_policies=auth-read",
    ]);
    // The claims of a (legacy) service-account token; the TokenReview stand-in vouches for it.
    let claims = serde_json::json!({
        "iss": "kubernetes/serviceaccount",
        "sub": "system:serviceaccount:cronos:cronos-ai",
        "kubernetes.io/serviceaccount/namespace": "cronos",
        "kubernetes.io/serviceaccount/service-account.name": "cronos-ai",
        "kubernetes.io/serviceaccount/service-account.uid": "uid-1234",
        "kubernetes.io/serviceaccount/secret.name": "cronos-ai-token"
    });
    let jwt_file = dir.path().join("token");
    std::fs::write(&jwt_file, sign_jwt(&claims, &private, dir.path())).unwrap();
    let outcome = launch_with("kubernetes", "cronos-ai", &jwt_file).run();
    outcome.assert_code(0).assert_stderr_no_leak(&[JWT_SECRET]);
    assert_eq!(outcome.child_env()["CRONOS_AI_JWT_SECRET"], JWT_SECRET);
    assert!(
        reviews.load(Ordering::SeqCst) >= 1,
        "OpenBao asked the TokenReview API"
    );

    launch_with("kubernetes", "not-a-role", &jwt_file)
        .run()
        .assert_code(125)
        .assert_stderr_contains(
            "Vault authentication failed (kubernetes at auth/kubernetes, role not-a-role)",
        );
    launch_with("kubernetes", "cronos-ai", &dir.path().join("missing-token"))
        .run()
        .assert_code(125)
        .assert_stderr_contains("cannot read the JWT for Vault login at");
}
