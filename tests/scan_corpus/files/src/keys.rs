const SIGNING_KEY: &[u8] = b"FakeRustBytesSigningKey0123456789ab";
static HMAC_SECRET: &[u8; 33] = b"FakeRustHmacSecret0123456789abcdeX";
const MAGIC: &[u8] = b"\x7fELF";
const SECRET_KEY_ENV: &str = "SECRET_KEY";
pub const PASSWORD_KEY: &str = "value";
let settings = Settings { pair_password_key: Some("value"), password_field: "value" };
let conf = format!(
    "log = on\npassword = 'FakeEscapedLinePw-7'\nssl = on\n",
    "log = on\npassword_encryption = 'scram-sha-256'\nssl = on\n",
);
