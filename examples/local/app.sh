#!/bin/sh
# A stand-in for `python -m cronos_ai.server`: shows what it received, without values.
echo "app: started as PID $$ with:"
for name in CRONOS_AI_DB_PASSWORD CRONOS_AI_REDIS_PASSWORD CRONOS_AI_JWT_SECRET \
            CRONOS_AI_ENCRYPTION_KEY CRONOS_AI_API_KEY DATABASE_URL; do
    eval "value=\${$name:-}"
    printf '  %-26s %s characters\n' "$name" "${#value}"
done
echo "  LOG_LEVEL                  ${LOG_LEVEL:-unset}"
