#!/usr/bin/env bash
set -euo pipefail
export CRONOS_AI_DB_PASSWORD="$(vault kv get -field=value secret/db)"
export CRONOS_AI_REDIS_PASSWORD=FakeShellRedisPw-0123456
DB_PASS="cronos123"
psql "postgresql://cronos_user:FakeShellUrlPw77@db:5432/cronos" -c "select 1"
curl -H "Authorization: Bearer $API_TOKEN" https://api.example.com
mysql --password="$MYSQL_PASSWORD" -h db
mysql --password=FakeMysqlCliPw42 -h db
TOKEN=$(cat /run/secrets/token)
SLACK_WEBHOOK=https://hooks.slack@@.com/services/T00000000/B00000000/FakeWebhookCorpus0000
# xoxb-@@000000000000-FakeSlackCorpusToken0000
if [ "$DB_PASSWORD" == "" ]; then echo "set DB_PASSWORD"; fi
exec cronos-secrets run -- "$@"
