#!/usr/bin/env bash
# AWS Secrets Manager launches (issue 4): `cronos-secrets run` reading 5 and 100 secrets, side
# by side in one hyperfine run with bench/boto3_launch.py (boto3, one GetSecretValue per
# secret, then exec), both against moto's server on 127.0.0.1 behind the call-counting wrapper
# of the tests, which also gives the API calls of one launch of each.
#
#   bash bench/aws.sh        # writes bench/results/aws.{md,json}; RUNS=… for more runs
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "needs hyperfine (apt-get install hyperfine)" >&2; exit 1; }
python3 -c 'import moto.server, flask, boto3' 2>/dev/null || python3 -m pip install --quiet 'moto[server]'
cargo build --release --quiet
bin="$PWD/target/release/cronos-secrets"
repo="$PWD"

work=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 tests/common/moto_counting.py --port "$port" >"$work/moto.log" 2>&1 &
moto_pid=$!
trap 'kill "$moto_pid" 2>/dev/null; rm -rf "$work"' EXIT
endpoint="http://127.0.0.1:$port"
for _ in $(seq 200); do curl -sf "$endpoint/_counts/ready" >/dev/null && break; sleep 0.05; done
curl -sf "$endpoint/_counts/ready" >/dev/null || { cat "$work/moto.log" >&2; exit 1; }

export AWS_ENDPOINT_URL="$endpoint" AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
python3 - <<'PY'
import boto3
client = boto3.client("secretsmanager", aws_access_key_id="SEEDER", aws_secret_access_key="x")
for index in range(100):
    client.create_secret(Name=f"bench/s{index}", SecretString=f"bench-secret-value-{index:03d}-0123456789abcdef")
PY
printf 'secrets_manager:\n  enabled: true\n  backend: aws_secrets_manager\n  aws_prefix: bench\nsecrets: {}\n' >"$work/config.yaml"
for count in 5 100; do
    for index in $(seq 0 $((count - 1))); do echo "SECRET_$index=secret://s$index"; done >"$work/bench$count.env"
done

python_dir=$(dirname "$(command -v python3)")
# One launch command per tool and size; the access key names whose calls the server counts.
launch() { # tool count access-key
    local common="env -i PATH=/usr/bin:/bin:$python_dir HOME=$work AWS_ENDPOINT_URL=$endpoint AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true AWS_ACCESS_KEY_ID=$3 AWS_SECRET_ACCESS_KEY=x"
    case $1 in
        cronos) echo "$common CRONOS_SECRETS_CONFIG=$work/config.yaml $bin -q run --env-file $work/bench$2.env -- true" ;;
        boto3) echo "$common $(command -v python3) $repo/bench/boto3_launch.py bench $2 -- true" ;;
    esac
}

mkdir -p bench/results
hyperfine --warmup 3 --runs "${RUNS:-20}" -N \
    --export-markdown bench/results/aws.md --export-json bench/results/aws.json \
    -n "cronos-secrets run, 5 secrets" "$(launch cronos 5 BENCH)" \
    -n "boto3 script, 5 secrets" "$(launch boto3 5 BENCH)" \
    -n "cronos-secrets run, 100 secrets" "$(launch cronos 100 BENCH)" \
    -n "boto3 script, 100 secrets" "$(launch boto3 100 BENCH)"

# API calls of exactly one launch of each, as the server counted them.
calls() { # tool count
    local key="CALLS$1$2"
    $(launch "$1" "$2" "$key") >/dev/null
    curl -sf "$endpoint/_counts/$key"
}
python3 - bench/results/aws.json \
    "$(calls cronos 5)" "$(calls boto3 5)" "$(calls cronos 100)" "$(calls boto3 100)" <<'PY'
import json, statistics, sys
results = json.load(open(sys.argv[1]))["results"]
medians = {r["command"]: statistics.median(r["times"]) * 1000 for r in results}
calls = [json.loads(text) for text in sys.argv[2:]]
print("\n| Secrets | cronos-secrets run | boto3 script | boto3 / cronos | API calls: cronos-secrets | API calls: boto3 |")
print("|---:|---:|---:|---:|---|---|")
for size, (ours, theirs) in zip((5, 100), ((calls[0], calls[1]), (calls[2], calls[3]))):
    mine = medians[f"cronos-secrets run, {size} secrets"]
    boto = medians[f"boto3 script, {size} secrets"]
    describe = lambda counted: ", ".join(f"{n} {action}" for action, n in sorted(counted.items()))
    print(f"| {size} | {mine:.1f} ms | {boto:.1f} ms | {boto / mine:.1f}x | {describe(ours)} | {describe(theirs)} |")
PY
