import os

password = "cronos123"
api_key = "sk-1234567890abcdef"
jwt_secret = "my-secret-key"
password = os.getenv('DATABASE_PASSWORD')
api_key = get_secret('api_key')
jwt_secret = os.getenv('JWT_SECRET')
DB_PASSWORD_ENV = "DATABASE_PASSWORD"
SECRET_NAME = "jwt_secret"
headers = {"Authorization": f"Bearer {token}"}
GOOGLE_MAPS_KEY = "AIza@@SyFakeCorpusGoogleKey0123456789abcd"
REDIS_URL = "redis://:FakePyRedisPw11@redis:6379/0"
settings = {"password": "<set-in-vault>"}
os.environ["JWT_SECRET"] = "FakePyEnvJwtSecret0123456789abcdefgh"
client = Client(token="FakeKwargToken0123456789abcdefAB")
# github: ghp_@@FakeCorpusGithubToken0123456789abcdef
def connect(password: str = "FakeDefaultArgPw9"):
    return password
DSN = "postgresql://{user}:{password}@{host}/db"
DSN = "postgresql://%s:%s@%s/db"
token = f"{prefix}-{suffix}"
