import os
SECRET_KEY = b"FakePyBytesSecretKey0123456789abcdef"
FERNET_KEY = b'FakeFernetKeyBytes0123456789abcdefXYZ='
signing_token = rb"FakePyRawBytesToken0123456789abcd"
AUTH_HEADER = b"Authorization"
SECRET_KEY = os.environb[b"SECRET_KEY"]
SALT = b"fixed-salt"
