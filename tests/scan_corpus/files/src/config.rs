const DB_PASSWORD: &str = "FakeRustDbPass-0042";
const JWT_SECRET_ENV: &str = "CRONOS_AI_JWT_SECRET";
let api_key = std::env::var("CRONOS_AI_API_KEY")?;
let password = String::from("FakeRustStringPw7");
let token = "ghp_@@FakeCorpusGithubToken0123456789abcdeX";
static PRIVATE_KEY_HEADER: &str = "-----BEGIN PRIV@@ATE KEY-----";
if line.starts_with("-----BEGIN OPENSSH PRIV@@ATE KEY-----") {
    let url = format!("postgres://{user}:{password}@{host}/db");
    let url = format!("postgres://{}:{}@{}/db", user, password, host);
}
let redis = "redis://:FakeRustRedisPw5@localhost:6379";
let encryption_key = "FakeRustEncryptionKey0123456789abcdef";
let reference = "secret://encryption_key";
let jwt_secret = "${CRONOS_AI_JWT_SECRET}";
Action::BatchGetSecretValue => "BatchGetSecretValue",
Category::HardcodedPassword => "hardcoded-password",
assert_eq!(password, expected_password);
