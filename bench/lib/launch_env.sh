# The launch benchmarks' input: the guide's five required secrets in a 50-line env file (45
# plain settings first), as a run of the env backend reads it. write_launch_env FILE.
write_launch_env() {
    local file=$1 i
    {
        for i in $(seq 1 45); do echo "SETTING_$i=value-$i"; done
        echo 'CRONOS_AI_DB_PASSWORD=bench-db-password-0123456789'
        echo 'CRONOS_AI_REDIS_PASSWORD=bench-redis-password-0123456789'
        echo 'CRONOS_AI_JWT_SECRET=bench-jwt-secret-0123456789abcdefghijklmnop'
        echo 'CRONOS_AI_ENCRYPTION_KEY=bench-encryption-key-0123456789abcdefghij'
        echo 'CRONOS_AI_API_KEY=bench-api-key-0123456789abcdefghijklmnopqrs'
    } > "$file"
    [ "$(wc -l < "$file")" -eq 50 ]
}
