#!/bin/sh
PGPASSWORD=FakePgCommandPw-41 psql -h db -U app -c 'select 1'
PGPASSWORD="$DB_PASSWORD" psql -h db -U app
PGPASSWORD=$(cat /run/secrets/db) pg_dump app > app.sql
MYSQL_PWD=FakeMysqlPwdEnv-6 mysql -h db app < dump.sql
cd /srv && PGPASSWORD='FakeChainedPgPw-5' pg_restore -d app app.dump
REDISCLI_AUTH="${REDIS_PASSWORD:?}" redis-cli -h redis ping
