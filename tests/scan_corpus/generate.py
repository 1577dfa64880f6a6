#!/usr/bin/env python3
"""Writes the labelled scan corpus: files/ (the cases) and expected.tsv (every finding).

Each case is a line; a labelled line is a finding (category, rule), every other line must
produce none. Planted values are fake. Formats that push protection recognises (GitHub,
Slack, Stripe, Google, npm tokens, PEM headers, AWS key ids) are written with "@@" inside;
tests/scan.rs and bench/scan.sh remove every "@@" when they copy the corpus to a temp dir.

Run: python3 tests/scan_corpus/generate.py   (rewrites files/ and expected.tsv)
"""
import base64
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "files")

PW = "hardcoded-password"
API = "api-key-or-token"
AWS = "aws-credentials"
URL = "connection-string"
JWT = "jwt-secret"
ENC = "encryption-key"
PEM = "private-key"

DECL = "declared-secret"

DECLARED = {
    "CRONOS_AI_DB_PASSWORD": PW,
    "DATABASE_PASSWORD": PW,
    "CRONOS_AI_REDIS_PASSWORD": PW,
    "CRONOS_AI_JWT_SECRET": JWT,
    "JWT_SECRET": JWT,
    "CRONOS_AI_ENCRYPTION_KEY": ENC,
    "CRONOS_AI_API_KEY": API,
}

# Every reference and placeholder form: never a finding, in any quoting.
SAFE_FORMS = [
    "secret://{name}",
    "vault://secret/data/cronos-ai/production#{name}",
    "vault://secret/cronos-ai/production/{name}?version=3#value",
    "aws-sm://cronos-ai/production/{name}",
    "aws-sm://cronos-ai/production#{name}",
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:cronos-ai/{name}-AbCdEf",
    "azure-kv://cronos-ai-vault/{dashed}",
    "env://OTHER_{upper}",
    "file:///run/secrets/{name}",
    "file://secrets/{name}.txt",
    "${{secret://{name}}}",
    "${{vault://secret/data/cronos-ai#{name}}}",
    "${{{upper}}}",
    "${{{upper}:?set {upper} in the environment}}",
    "${{{upper}?required}}",
    "${{{upper}:-}}",
    "${{{upper}:-${{FALLBACK_{upper}}}}}",
    "${{{upper}:-secret://{name}}}",
    "${{{upper}-vault://secret/data/fallback#{name}}}",
    "$OTHER_{upper}",
    "<from-secrets-manager>",
    "<generate-strong-password>",
]

files = {}


def add(path, lines):
    files[path] = lines


def names():
    for upper in DECLARED:
        name = upper.lower().replace("cronos_ai_", "")
        yield upper, name, name.replace("_", "-")


# --- env files of any name: every safe form, bare, double- and single-quoted -------------
for quote, path in [("", "config/references.env"), ('"', ".env.references"), ("'", "deploy/env.references")]:
    lines = [f"# every reference and placeholder form, quoted with [{quote}]: no finding"]
    for upper, name, dashed in names():
        for form in SAFE_FORMS:
            value = form.format(name=name, dashed=dashed, upper=upper)
            if quote == "'" and "$" not in value and "<" not in value:
                continue  # single quotes matter for placeholders; the rest is in the other two
            lines.append(f"{upper}={quote}{value}{quote}")
    add(path, lines)

# --- the guide's .env.production shape, with literals ---------------------------------------
add(".env.production", [
    "# CRONOS AI production environment (corpus)",
    ("CRONOS_AI_DB_PASSWORD=FakeDbPass7fQ2xL9vK3m8", PW, DECL),
    ('CRONOS_AI_REDIS_PASSWORD="FakeRedisPw-K3m8Zr2Lq9"', PW, DECL),
    ("CRONOS_AI_JWT_SECRET='FakeJwtSecret9hT4wQ1cX6bN2mV8rL5pD3sF'", JWT, DECL),
    ("CRONOS_AI_ENCRYPTION_KEY=short1", ENC, DECL),
    ("CRONOS_AI_API_KEY=${API_KEY_FROM_CI:-FakeApiKeyDefault0123456789abcdefXYZ}", API, DECL),
    ("JWT_SECRET=${JWT_FROM_CI-FakeJwtDefaultNoColon0123456789abcd}", JWT, DECL),
    ("export DATABASE_PASSWORD=FakeExportedDbPw-99887766", PW, DECL),
    ("database_password=FakeLowercaseKeyPw-123456", PW, DECL),
    ("# CRONOS_AI_DB_PASSWORD=FakeOldCommentedOutPw-42", PW, DECL),
    "CRONOS_AI_DB_PASSWORD",
    "CRONOS_AI_DB_PASSWORD=",
    'CRONOS_AI_DB_PASSWORD=""',
    "CRONOS_AI_API_KEY=FakeAllowedKey0123456789abcdefXYZ  # cronos-secrets: allow",
    "CRONOS_AI_API_KEY=FakeAllowedKey0123456789abcdefXY2  # pragma: allowlist secret",
    ("DB_PASSWORD=cronos123", PW, "password-assignment"),
    ("UNQUOTED_DB_PASSWORD=Zx9kP2mQ7vR4tL8wN3bY6cF1", PW, "password-assignment"),
    "DB_PASSWORD_FILE=/run/secrets/db_password",
    "PASSWORD_MIN_LENGTH=16",
    ("SESSION_TOKEN=Zx9kP2mQ7vR4tL8wN3bY6cF1aa", API, "high-entropy-assignment"),
    "SESSION_TOKEN_TTL=3600",
    "API_KEY_ENV=MY_SECRET1",
    "LOG_LEVEL=info",
    "CRONOS_AI_ENV=production",
    ("DATABASE_URL=postgresql://cronos_user:FakeUrlPass42@db:5432/cronos", URL, "connection-string-password"),
    "DATABASE_URL=postgresql://cronos_user:${CRONOS_AI_DB_PASSWORD}@db:5432/cronos",
    "DATABASE_URL=postgresql://cronos_user@db:5432/cronos",
    ("REDIS_URL=redis://:FakeRedisUrlPw9@redis:6379/0", URL, "connection-string-password"),
    "REDIS_URL=redis://:${CRONOS_AI_REDIS_PASSWORD}@redis:6379/0",
    "REDIS_URL=redis://redis:6379/0",
    ("AWS_ACCESS_KEY_ID=AKIA@@FAKECORPUSKEYAA2", AWS, "aws-access-key-id"),
    ("AWS_SECRET_ACCESS_KEY=FakeCorpusSecretAccessKey0123456789abcdE", AWS, "aws-secret-access-key"),
    "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
    "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:?}",
    "QUESTIONNAIRE_DB_PASSWORD=",
    "QUESTIONNAIRE_DB_ENABLED=1",
    "VAULT_ADDR=https://vault.example.com:8200",
    'VAULT_TOKEN="${VAULT_TOKEN:-}"',
    ("VAULT_TOKEN=hvs.FakeCorpusVaultToken0123456789", API, "high-entropy-assignment"),
    "FEATURE_FLAGS=search,billing",
])

add("deploy/production.env", [
    "# an env file named *.env",
    ("CRONOS_AI_ENCRYPTION_KEY=FakeEncKey0123456789abcdef0123456789abcdef", ENC, DECL),
    ("CRONOS_AI_REDIS_PASSWORD=${REDIS_PW:-changeme}", PW, DECL),
    "CRONOS_AI_REDIS_PASSWORD=${REDIS_PW:-${OTHER_REDIS_PW}}",
    ("SMTP_PASSWORD='FakeSmtpPass!2024'", PW, "password-assignment"),
    "SMTP_PASSWORD='${SMTP_PASSWORD_FROM_VAULT}'",
    "SMTP_HOST=smtp.example.com",
])

# --- YAML config ------------------------------------------------------------------------------
add("config/app.production.yaml", [
    "secrets_manager:",
    "  enabled: true",
    '  backend: "vault"',
    '  vault_addr: "${VAULT_ADDR}"',
    '  vault_token: "$${VAULT_TOKEN}"',
    ('  vault_token: "hvs.FakeYamlVaultToken0123456789ab"', API, "high-entropy-assignment"),
    '  vault_mount_point: "secret"',
    "database:",
    '  host: "${CRONOS_AI_DB_HOST:-localhost}"',
    "  port: ${CRONOS_AI_DB_PORT:-5432}",
    '  password: "${secret://database_password}"',
    ("  password: Sup3rFakePassw0rd!", PW, "password-assignment"),
    '  password: "<generate-strong-password>"',
    "  password: ${DB_PASSWORD:?set DB_PASSWORD}",
    '  url: "postgresql://cronos_user:${DB_PASSWORD}@db:5432/cronos"',
    ("  url: postgresql://cronos_user:FakeYamlUrlPw7@db:5432/cronos", URL, "connection-string-password"),
    "redis:",
    '  password: "${CRONOS_AI_REDIS_PASSWORD}"',
    "security:",
    ('  jwt_secret: "FakeJwtYamlSecret0123456789abcdefXYZ"', JWT, DECL),
    '  encryption_key: "${CRONOS_AI_ENCRYPTION_KEY}"',
    "  api_key: vault://secret/data/cronos-ai/production#api_key",
    "  api_key: azure-kv://cronos-ai-vault/api-key",
    '  db_password: "vault://secret/data/db#password"',
    '  db_password: "aws-sm://cronos-ai/production/db_password"',
    "  password_min_length: 16",
    "  token_ttl: 3600",
    ("  encryption_key: 'FakeYamlEncryptionKey0123456789abcdef'", ENC, DECL),
    "secrets:",
    "  database_password:",
    "    env: CRONOS_AI_DB_PASSWORD",
    "    aliases: [DATABASE_PASSWORD]",
    "    min_length: 16",
    "  stripe_key:",
    "    env: STRIPE_KEY",
])

# --- Kubernetes manifests ------------------------------------------------------------------------
enc_b64 = base64.b64encode(b"FakeEncryptionKey0123456789abcdef").decode()
ph_b64 = base64.b64encode(b"<from-secrets-manager>").decode()
ref_b64 = base64.b64encode(b"${secret://api_key}").decode()
lit_b64 = base64.b64encode(b"FakeWebhookSigning0123").decode()
add("k8s/secret.yaml", [
    "apiVersion: v1",
    "kind: Secret",
    "metadata:",
    "  name: cronos-ai-secrets",
    "type: Opaque",
    "stringData:",
    ('  database-password: "FakeK8sDbPass-0123456789"', PW, DECL),
    '  jwt-secret: "${secret://jwt_secret}"',
    '  api-key: "<from-secrets-manager>"',
    ('  webhook-signing: "FakeWebhookSigning0123"', API, "kubernetes-secret-data"),
    ('  smtp-password: FakeK8sSmtp99', PW, "kubernetes-secret-data"),
    '  empty: ""',
    "data:",
    (f"  encryption-key: {enc_b64}", ENC, DECL),
    f"  placeholder: {ph_b64}",
    f"  reference: {ref_b64}",
    (f"  signing: {lit_b64}", API, "kubernetes-secret-data"),
    "---",
    "apiVersion: v1",
    "kind: ConfigMap",
    "metadata:",
    "  name: cronos-ai-config",
    "data:",
    "  log-level: info",
    "  database-host: db.internal",
    "  feature: FakeLooksRandomButConfig0123",
    "---",
    "apiVersion: apps/v1",
    "kind: Deployment",
    "metadata:",
    "  name: cronos-ai",
    "spec:",
    "  template:",
    "    spec:",
    "      containers:",
    "        - name: app",
    "          image: cronos-ai:1.0",
    "          env:",
    "            - name: CRONOS_AI_DB_PASSWORD",
    ('              value: "FakeDeployDbPass-0123456"', PW, DECL),
    "            - name: CRONOS_AI_JWT_SECRET",
    "              valueFrom:",
    "                secretKeyRef:",
    "                  name: cronos-ai-secrets",
    "                  key: jwt-secret",
    "            - name: CRONOS_AI_API_KEY",
    '              value: "${secret://api_key}"',
    "            - name: LOG_LEVEL",
    "              value: debug",
])

add("templates/kubernetes/secret.yaml", [
    "apiVersion: v1",
    "kind: Secret",
    "metadata:",
    "  name: cronos-ai-secrets",
    "type: Opaque",
    "stringData:",
    '  database-password: "${secret://database_password}"',
    '  redis-password: "${secret://redis_password}"',
    '  jwt-secret: "${secret://jwt_secret}"',
    '  encryption-key: "${secret://encryption_key}"',
    '  api-key: "${secret://api_key}"',
    "  other: <from-secrets-manager>",
])

# --- docker compose ------------------------------------------------------------------------------
add("docker-compose.yml", [
    "services:",
    "  app:",
    "    image: cronos-ai:latest",
    "    env_file:",
    "      - .env.production",
    "    environment:",
    "      - CRONOS_AI_DB_PASSWORD=${CRONOS_AI_DB_PASSWORD:?set it}",
    "      - CRONOS_AI_JWT_SECRET='${secret://jwt_secret}'",
    ("      - CRONOS_AI_API_KEY=FakeComposeApiKey0123456789abcdefXY", API, DECL),
    ('      - "REDIS_PASSWORD=FakeComposeRedisPw99"', PW, DECL),
    ('      - "SMTP_PASSWORD=FakeComposeSmtpPw99"', PW, "password-assignment"),
    "      - LOG_LEVEL=info",
    "  worker:",
    "    environment:",
    '      CRONOS_AI_ENCRYPTION_KEY: "${CRONOS_AI_ENCRYPTION_KEY}"',
    ("      DATABASE_PASSWORD: FakeComposeDbPw-12345678", PW, DECL),
    "      SENTRY_DSN: https://FakePublicKey0123@o0.ingest.example.io/1",
    "  db:",
    "    image: postgres:16",
    "    environment:",
    "      POSTGRES_PASSWORD: ${CRONOS_AI_DB_PASSWORD}",
    "      POSTGRES_PASSWORD_FILE: /run/secrets/db_password",
    ("      POSTGRES_PASSWORD: FakePostgresPw-77", PW, "password-assignment"),
])

# --- JSON ------------------------------------------------------------------------------------------
add("config/settings.json", [
    "{",
    '  "database": {',
    ('    "password": "FakeJsonDbPass-2024",', PW, "password-assignment"),
    '    "passwordFile": "/run/secrets/db",',
    '    "url": "postgresql://app:${DB_PASSWORD}@db/app"',
    "  },",
    '  "jwt_secret": "${secret://jwt_secret}",',
    '  "api_key": "vault://secret/data/app#api_key",',
    ('  "apiToken": "FakeJsonApiToken0123456789abcDEF",', API, "high-entropy-assignment"),
    ('  "stripe": "sk_test_@@FakeStripeCorpusKey0123456789",', API, "stripe-key"),
    '  "githubToken": "<github-token>",',
    '  "cache_key": "users-by-id",',
    '  "description": "the password must be 16 characters",',
    ('  "private_key": "-----BEGIN PRIV@@ATE KEY-----\\nMIIEvQIBADANFakeCorpusPemBody000\\n-----END PRIV@@ATE KEY-----\\n",', PEM, "private-key"),
    ('  "aws_secret_access_key": "FakeJsonSecretAccessKey0123456789abcdefg"', AWS, "aws-secret-access-key"),
    "}",
])

# --- shell -----------------------------------------------------------------------------------------
add("scripts/deploy.sh", [
    "#!/usr/bin/env bash",
    "set -euo pipefail",
    'export CRONOS_AI_DB_PASSWORD="$(vault kv get -field=value secret/db)"',
    ("export CRONOS_AI_REDIS_PASSWORD=FakeShellRedisPw-0123456", PW, DECL),
    ('DB_PASS="cronos123"', PW, "password-assignment"),
    ('psql "postgresql://cronos_user:FakeShellUrlPw77@db:5432/cronos" -c "select 1"', URL, "connection-string-password"),
    'curl -H "Authorization: Bearer $API_TOKEN" https://api.example.com',
    'mysql --password="$MYSQL_PASSWORD" -h db',
    ("mysql --password=FakeMysqlCliPw42 -h db", PW, "password-assignment"),
    "TOKEN=$(cat /run/secrets/token)",
    ("SLACK_WEBHOOK=https://hooks.slack@@.com/services/T00000000/B00000000/FakeWebhookCorpus0000", API, "slack-token"),
    ("# xoxb-@@000000000000-FakeSlackCorpusToken0000", API, "slack-token"),
    'if [ "$DB_PASSWORD" == "" ]; then echo "set DB_PASSWORD"; fi',
    'exec cronos-secrets run -- "$@"',
])

# --- Python ----------------------------------------------------------------------------------------
add("app/settings.py", [
    "import os",
    "",
    ('password = "cronos123"', PW, "password-assignment"),
    ('api_key = "sk-1234567890abcdef"', API, DECL),
    ('jwt_secret = "my-secret-key"', JWT, DECL),
    "password = os.getenv('DATABASE_PASSWORD')",
    "api_key = get_secret('api_key')",
    "jwt_secret = os.getenv('JWT_SECRET')",
    'DB_PASSWORD_ENV = "DATABASE_PASSWORD"',
    'SECRET_NAME = "jwt_secret"',
    'headers = {"Authorization": f"Bearer {token}"}',
    ('GOOGLE_MAPS_KEY = "AIza@@SyFakeCorpusGoogleKey0123456789abcd"', API, "google-api-key"),
    ('REDIS_URL = "redis://:FakePyRedisPw11@redis:6379/0"', URL, "connection-string-password"),
    'settings = {"password": "<set-in-vault>"}',
    ('os.environ["JWT_SECRET"] = "FakePyEnvJwtSecret0123456789abcdefgh"', JWT, DECL),
    ('client = Client(token="FakeKwargToken0123456789abcdefAB")', API, "high-entropy-assignment"),
    ("# github: ghp_@@FakeCorpusGithubToken0123456789abcdef", API, "github-token"),
    ('def connect(password: str = "FakeDefaultArgPw9"):', PW, "password-assignment"),
    "    return password",
    'DSN = "postgresql://{user}:{password}@{host}/db"',
    'DSN = "postgresql://%s:%s@%s/db"',
    'token = f"{prefix}-{suffix}"',
])

# --- Rust ------------------------------------------------------------------------------------------
add("src/config.rs", [
    ('const DB_PASSWORD: &str = "FakeRustDbPass-0042";', PW, "password-assignment"),
    'const JWT_SECRET_ENV: &str = "CRONOS_AI_JWT_SECRET";',
    'let api_key = std::env::var("CRONOS_AI_API_KEY")?;',
    ('let password = String::from("FakeRustStringPw7");', PW, "password-assignment"),
    ('let token = "ghp_@@FakeCorpusGithubToken0123456789abcdeX";', API, "github-token"),
    'static PRIVATE_KEY_HEADER: &str = "-----BEGIN PRIV@@ATE KEY-----";',
    'if line.starts_with("-----BEGIN OPENSSH PRIV@@ATE KEY-----") {',
    '    let url = format!("postgres://{user}:{password}@{host}/db");',
    '    let url = format!("postgres://{}:{}@{}/db", user, password, host);',
    "}",
    ('let redis = "redis://:FakeRustRedisPw5@localhost:6379";', URL, "connection-string-password"),
    ('let encryption_key = "FakeRustEncryptionKey0123456789abcdef";', ENC, DECL),
    'let reference = "secret://encryption_key";',
    'let jwt_secret = "${CRONOS_AI_JWT_SECRET}";',
    'Action::BatchGetSecretValue => "BatchGetSecretValue",',
    'Category::HardcodedPassword => "hardcoded-password",',
    'assert_eq!(password, expected_password);',
])

# --- unknown text ------------------------------------------------------------------------------------
add("notes/ops-notes.txt", [
    "Rotation notes (plain text)",
    "The database password is stored in Vault; never paste it here.",
    ("password: FakeNotesPassw0rd", PW, "password-assignment"),
    "api_key: aws-sm://cronos-ai/production/api_key",
    ("jwt: eyJ@@hbGciOiJIUzI1NiJ9.eyJzdWIiOiJjb3JwdXMtZmFrZSJ9.FakeCorpusSignature0000", API, "jwt"),
    "Use postgresql://user:password@localhost/db in examples.",
    "admin login: see the runbook",
    "the token: ask the on-call engineer",
    "Secrets live at vault://secret/data/cronos-ai/production#database_password.",
])
add(".npmrc", [
    ("//registry.npmjs.org/:_authToken=npm_@@FakeCorpusNpmToken0123456789abcdef12", API, "npm-token"),
    "//registry.npmjs.org/:_authToken=${NPM_TOKEN}",
    "registry=https://registry.npmjs.org/",
])
add("keys/deploy_key", [
    ("-----BEGIN OPENSSH PRIV@@ATE KEY-----", PEM, "private-key"),
    "b3BlbnNzaC1rZXktdjEAAAAAFakeCorpusKeyBody0000000000000000",
    "-----END OPENSSH PRIV@@ATE KEY-----",
])
add("keys/public.pem", [
    "-----BEGIN PUBLIC KEY-----",
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8FakeCorpusPublicKey000",
    "-----END PUBLIC KEY-----",
])
add("keys/server.key", [
    ("-----BEGIN RSA PRIV@@ATE KEY-----", PEM, "private-key"),
    "Proc-Type: 4,ENCRYPTED",
    "DEK-Info: AES-128-CBC,00000000000000000000000000000000",
    "",
    "MIIEowIBAAKCAQEAFakeCorpusRsaBody000000000000000000",
    "-----END RSA PRIV@@ATE KEY-----",
])
add("Dockerfile", [
    "FROM debian:bookworm-slim",
    "ENV CRONOS_AI_ENV=production",
    ("ENV CRONOS_AI_API_KEY=FakeDockerApiKey0123456789abcdefXYZ", API, DECL),
    "ARG DB_PASSWORD",
    'ENTRYPOINT ["cronos-secrets", "run", "--"]',
])


# --- forms users write (issue 20): connection strings, commands, bytes, anchors, task
# definitions; and the look-alikes that are not secrets ----------------------------------------
CS = "connection-string-password"
HE = "high-entropy-assignment"
PA = "password-assignment"

add("config/appsettings.json", [
    "{",
    '  "ConnectionStrings": {',
    ('    "Default": "Server=db;Database=app;User Id=sa;Password=FakeAdoPass-2024;",', URL, CS),
    ('    "Reporting": "Data Source=reports;Initial Catalog=r;Uid=rpt;Pwd=FakeAdoPwd-77;",', URL, CS),
    ('    "Leading": "Password=FakeAdoLeading-31;Server=db;User Id=sa",', URL, CS),
    '    "Local": "Server=(localdb)\\\\mssqllocaldb;Database=app;Trusted_Connection=True;",',
    '    "FromEnv": "Server=db;User Id=sa;Password=${DB_PASSWORD};",',
    '    "Reference": "Server=db;User Id=sa;Password=${secret://database_password};",',
    '    "Formatted": "Server=db;User Id=sa;Password={0};",',
    '    "Empty": "Server=db;User Id=sa;Password=;"',
    "  },",
    '  "jwt": {',
    ('    "secret": "FakeJsonNestedJwt0123456789abcdefXYZ",', JWT, HE),
    '    "issuer": "cronos-ai"',
    "  }",
    "}",
])

add("src/Data/Database.cs", [
    "namespace Cronos.Data;",
    "public static class Database {",
    ('    const string Connection = "Server=db;Database=app;User Id=sa;Password=FakeCsharpAdo-9x;";', URL, CS),
    '    const string FromEnvironment = "Server=db;User Id=sa;Password=" + Environment.GetEnvironmentVariable("DB_PASSWORD");',
    '    const string Template = "Server={0};User Id={1};Password={2};";',
    "}",
])

add("config/database.properties", [
    ("spring.datasource.url=jdbc:postgresql://db:5432/app?user=app&password=FakeJdbcPass-31", URL, CS),
    ("jdbc.url=jdbc:mysql://db:3306/app?useSSL=true&password=FakeJdbcMy-88&user=app", URL, CS),
    ("db.url=jdbc:sqlserver://db:1433;databaseName=app;user=sa;password=FakeJdbcSql-55;", URL, CS),
    "spring.datasource.url=jdbc:postgresql://db:5432/app?user=app&password=${DB_PASSWORD}",
    "spring.datasource.url=jdbc:postgresql://db:5432/app?sslmode=require",
    "spring.datasource.password=${DB_PASSWORD}",
    ("spring.datasource.password=FakeSpringDsPw-19", PW, PA),
    ("jwt.secret=FakeDottedJwtSecret0123456789abcdefXY", JWT, HE),
    "jwt.secret=${JWT_SECRET}",
    "jwt.expiration=3600",
])

add("config/urls.env", [
    "# a reference in a URL's user part and password part is no finding",
    "DATABASE_URL=postgresql://${secret://database_password#username}:${secret://database_password}@db/cronos_ai",
    "DATABASE_URL=postgresql://cronos_user:${secret://database_password}@db:5432/cronos",
    "REDIS_URL=redis://:${secret://redis_password}@redis:6379/0",
    "DATABASE_URL=postgresql://${DB_USER}:${secret://vault_db#password}@db/app",
    'DATABASE_URL="postgresql://app:${secret://database_password?version=2}@db/app"',
    "AMQP_URL=amqp://guest:${vault://secret/data/mq#password}@mq:5672/",
    "MONGO_URL='mongodb://app:${aws-sm://cronos-ai/mongo#password}@mongo:27017/app'",
    "JDBC_URL=jdbc:postgresql://db/app?user=app&password=${secret://database_password}",
    ("DATABASE_URL=postgresql://${secret://database_password#username}:FakeMixedUrlPw-3@db/app", URL, CS),
    ("DATABASE_URL=postgresql://${DB_USER}:FakeUserVarUrlPw-8@db/app", URL, CS),
])

add("config/urls.yaml", [
    "database:",
    '  url: "postgresql://${secret://database_password#username}:${secret://database_password}@db/app"',
    "  replica: postgresql://${DB_USER}:${DB_PASSWORD}@replica/app",
    ("  fallback: postgresql://app:FakeYamlFallbackPw-4@fallback/app", URL, CS),
])

add("scripts/restore.sh", [
    "#!/bin/sh",
    ("PGPASSWORD=FakePgCommandPw-41 psql -h db -U app -c 'select 1'", PW, PA),
    'PGPASSWORD="$DB_PASSWORD" psql -h db -U app',
    "PGPASSWORD=$(cat /run/secrets/db) pg_dump app > app.sql",
    ("MYSQL_PWD=FakeMysqlPwdEnv-6 mysql -h db app < dump.sql", PW, PA),
    ("cd /srv && PGPASSWORD='FakeChainedPgPw-5' pg_restore -d app app.dump", PW, PA),
    "REDISCLI_AUTH=\"${REDIS_PASSWORD:?}\" redis-cli -h redis ping",
])

add("notes/runbook.md", [
    "# Restoring the database",
    "",
    "Run, with the password from Vault:",
    "",
    "```",
    ("$ PGPASSWORD=FakeRunbookPgPw-3 psql -h db -U app", PW, PA),
    "$ PGPASSWORD=$(vault kv get -field=password secret/db) psql -h db -U app",
    "```",
    "",
    "- CRONOS_AI_JWT_SECRET: permission denied reading secret \"jwt-secret\" (check the policy)",
    "- DB_PASSWORD: not set, so the launcher refuses to start",
])

add("Dockerfile.migrate", [
    "FROM postgres:16",
    ("RUN PGPASSWORD=FakeDockerRunPw-8 psql -h db -U app -c 'select 1'", PW, PA),
    'RUN --mount=type=secret,id=db PGPASSWORD="$(cat /run/secrets/db)" psql -h db',
])

add("app/crypto.py", [
    "import os",
    ('SECRET_KEY = b"FakePyBytesSecretKey0123456789abcdef"', API, HE),
    ("FERNET_KEY = b'FakeFernetKeyBytes0123456789abcdefXYZ='", ENC, HE),
    ('signing_token = rb"FakePyRawBytesToken0123456789abcd"', API, HE),
    'AUTH_HEADER = b"Authorization"',
    'SECRET_KEY = os.environb[b"SECRET_KEY"]',
    'SALT = b"fixed-salt"',
])

add("src/keys.rs", [
    ('const SIGNING_KEY: &[u8] = b"FakeRustBytesSigningKey0123456789ab";', API, HE),
    ('static HMAC_SECRET: &[u8; 33] = b"FakeRustHmacSecret0123456789abcdeX";', API, HE),
    "const MAGIC: &[u8] = b\"\\x7fELF\";",
    'const SECRET_KEY_ENV: &str = "SECRET_KEY";',
    'pub const PASSWORD_KEY: &str = "value";',
    'let settings = Settings { pair_password_key: Some("value"), password_field: "value" };',
    "let conf = format!(",
    ('    "log = on\\npassword = \'FakeEscapedLinePw-7\'\\nssl = on\\n",', PW, PA),
    '    "log = on\\npassword_encryption = \'scram-sha-256\'\\nssl = on\\n",',
    ");",
])

add("deploy/anchors.yaml", [
    "x-shared:",
    ("  primary: &db_pw FakeAnchoredDbPw-204", PW, PA),
    '  from-env: &ref_pw "${DB_PASSWORD}"',
    ("  second: &api_k 'FakeAnchoredApiKey0123456789abcdef'", API, DECL),
    "  options: &opts",
    "    retries: 3",
    "services:",
    "  api:",
    "    environment:",
    "      DB_PASSWORD: *db_pw",
    "      REDIS_PASSWORD: *ref_pw",
    "      OPTIONS_PASSWORD: *opts",
    "      CRONOS_AI_API_KEY: *api_k",
    "  worker:",
    "    password: *db_pw",
    "    <<: *opts",
])

add("deploy/ecs-task.json", [
    "{",
    '  "family": "cronos-ai",',
    '  "containerDefinitions": [',
    "    {",
    '      "name": "app",',
    '      "environment": [',
    ('        {"name": "DB_PASSWORD", "value": "FakeEcsDbPass-2024"},', PW, PA),
    ('        {"value": "FakeEcsValueFirst-77", "name": "SMTP_PASSWORD"},', PW, PA),
    '        {"name": "LOG_LEVEL", "value": "info"},',
    '        {"name": "DB_PASSWORD_FILE", "value": "/run/secrets/db"},',
    '        {"name": "API_TOKEN", "value": "${secret://api_key}"},',
    "        {",
    '          "name": "CRONOS_AI_JWT_SECRET",',
    ('          "value": "FakeEcsJwtSecret0123456789abcdefXYZ"', JWT, DECL),
    "        }",
    "      ],",
    '      "secrets": [',
    '        {"name": "CRONOS_AI_DB_PASSWORD", "valueFrom": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"}',
    "      ]",
    "    }",
    "  ]",
    "}",
])

add("deploy/cloudformation.yaml", [
    "Resources:",
    "  Task:",
    "    Type: AWS::ECS::TaskDefinition",
    "    Properties:",
    "      ContainerDefinitions:",
    "        - Name: app",
    "          Environment:",
    "            - Name: DB_PASSWORD",
    ("              Value: FakeCfnDbPass-2024", PW, PA),
    "            - Name: LOG_LEVEL",
    "              Value: info",
    "            - Name: DB_PASSWORD",
    "              Value: !Ref DbPasswordParameter",
    "            - Name: SMTP_PASSWORD",
    "              Value: '{{resolve:secretsmanager:smtp:SecretString:password}}'",
])

add("infra/main.tf", [
    'resource "aws_db_instance" "main" {',
    '  username = "app"',
    "  password = var.db_password",
    "  password = local.db_password",
    "  password = random_password.db.result",
    '  password = "${var.db_password}"',
    "  password = module.secrets.db_password",
    "  password = data.aws_secretsmanager_secret_version.db.secret_string",
    ('  password = "FakeTfLiteralPw-2024"', PW, PA),
    "}",
    'variable "db_password" {',
    "  type      = string",
    "  sensitive = true",
    "}",
])

add("helm/values.yaml", [
    "auth:",
    "  existingSecret: cronos-ai-db",
    "  existingSecretPasswordKey: db-password",
    "  existingSecretKey: redis-password",
    "  secretKeys:",
    "    adminPasswordKey: admin-password",
    "    userPasswordKey: user-password",
    "    replicationPasswordKey: replication-password",
    '  password: ""',
    ("  password: FakeHelmValuesPw-12", PW, PA),
    "global:",
    "  postgresql:",
    "    auth:",
    "      existingSecret: pg-credentials",
])

add("config/auth.yaml", [
    "jwt:",
    ("  secret: FakeNestedJwtSecret0123456789abcdefXY", JWT, HE),
    "  algorithm: HS256",
    "  secret_file: /run/secrets/jwt",
    "auth:",
    "  jwt:",
    ('    signing_key: "FakeNestedJwtSigning0123456789abcdefZ"', JWT, HE),
    ("  token: FakeNestedAuthToken0123456789abcdefQ", API, HE),
    "aws:",
    ("  session_token: FakeNestedAwsSession0123456789abcdef", AWS, HE),
    "  region: us-east-1",
])

def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    expected = []
    cases = 0
    for path, lines in sorted(files.items()):
        text = []
        for number, line in enumerate(lines, start=1):
            if isinstance(line, tuple):
                line, category, rule = line
                expected.append(f"{path}\t{number}\t{category}\t{rule}")
            if line.strip():
                cases += 1
            text.append(line)
        full = os.path.join(OUT, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as handle:
            handle.write("\n".join(text) + "\n")
    with open(os.path.join(HERE, "expected.tsv"), "w") as handle:
        handle.write("# path\tline\tcategory\trule (generated by generate.py; every other line is a negative case)\n")
        handle.write("\n".join(expected) + "\n")
    print(f"{cases} case lines, {len(expected)} findings, {len(files)} files")


main()
