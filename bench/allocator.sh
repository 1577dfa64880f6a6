#!/usr/bin/env bash
# Allocator of the static binary (issue 21): the static musl release binary (the one the image
# ships) built with each candidate global allocator, then for each its size, its mmap/munmap
# calls in one launch and its launch time side by side with `env -i … true` in one hyperfine
# run. The launch is launch.sh's: the env backend, the guide's five secrets in a 50-line env
# file, the program `true`; no server, no network.
#
#   bash bench/allocator.sh          # builds, measures, writes bench/results/allocator.{md,json}
#   BUILD=0 bash bench/allocator.sh  # measures the binaries a previous run copied aside
#
# Builds with one job (CARGO_BUILD_JOBS, default 1): the machine is shared. The shipped
# allocator is built last, so target/x86_64-unknown-linux-musl/release/ ends as the image's.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "needs hyperfine (apt-get install hyperfine)" >&2; exit 1; }
command -v strace >/dev/null || { echo "needs strace (apt-get install strace)" >&2; exit 1; }

# name, then the cargo features that select it (Cargo.toml: the bench-alloc-* features).
candidates=(
    "musl malloc|bench-alloc-musl"
    "jemalloc|bench-alloc-jemalloc"
    "mimalloc (shipped)|"
)
target=x86_64-unknown-linux-musl
aside="$PWD/target/allocator-bench"
mkdir -p "$aside" bench/results
bin_of() { echo "$aside/cronos-secrets-$(echo "${1%% *}" | tr -cd 'a-z0-9')"; }

if [ "${BUILD:-1}" != 0 ]; then
    for candidate in "${candidates[@]}"; do
        name=${candidate%%|*} features=${candidate#*|}
        echo "building: $name" >&2
        CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-1} cargo build --release --locked --quiet \
            --target "$target" ${features:+--features "$features"}
        cp "target/$target/release/cronos-secrets" "$(bin_of "$name")"
    done
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. bench/lib/launch_env.sh
write_launch_env "$work/bench.env"
# The direct baseline gets the same 50 variables, so the difference is the launcher alone.
mapfile -t vars < "$work/bench.env"
direct=(env -i PATH=/usr/bin:/bin "${vars[@]}" true)
cd "$work"

# One line per command: name, size, mmap calls, munmap calls, peak RSS (KiB). The counts are
# the whole command's (`env`, the launcher, then `true` after the exec): the direct start's
# row is what `env` and `true` cost on their own.
counts() {
    strace -f -c -e trace=mmap,munmap -o strace.txt "$@" >/dev/null
    awk '$NF == "mmap" { m = $4 } $NF == "munmap" { u = $4 } END { printf "%d\t%d", m, u }' strace.txt
}
rss() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }
{
    printf 'env -i (direct)\t-\t%s\t%s\n' "$(counts "${direct[@]}")" "$(rss "${direct[@]}")"
    for candidate in "${candidates[@]}"; do
        name=${candidate%%|*} bin=$(bin_of "$name")
        launch=(env -i PATH=/usr/bin:/bin "$bin" run --env-file bench.env -- true)
        printf '%s\t%s\t%s\t%s\n' "$name" "$(stat -c %s "$bin")" "$(counts "${launch[@]}")" "$(rss "${launch[@]}")"
    done
} > counts.tsv

commands=(-n "env -i (direct)" "${direct[*]}")
for candidate in "${candidates[@]}"; do
    name=${candidate%%|*}
    commands+=(-n "$name" "env -i PATH=/usr/bin:/bin $(bin_of "$name") run --env-file bench.env -- true")
done
hyperfine --warmup 20 --runs "${RUNS:-300}" -N --export-json "$OLDPWD/bench/results/allocator.json" \
    "${commands[@]}" >&2

python3 - "$OLDPWD/bench/results/allocator.json" counts.tsv > "$OLDPWD/bench/results/allocator.md" <<'PY'
import json, statistics, sys
results = json.load(open(sys.argv[1]))["results"]
medians = {r["command"]: statistics.median(r["times"]) * 1000 for r in results}
# CPU time (user + system, mean) moves less than wall time when other work shares the cores.
cpu = {r["command"]: (r["user"] + r["system"]) * 1000 for r in results}
base = medians["env -i (direct)"]
print("| Allocator | Binary size | mmap / munmap per launch | Peak RSS | Median launch | Over env(1) | Ratio | CPU per launch |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for line in open(sys.argv[2]):
    name, size, mmap, munmap, rss = line.rstrip("\n").split("\t")
    size = f"{int(size):,} bytes" if size != "-" else "–"
    median = medians[name]
    over = f"+{median - base:.2f} ms" if name != "env -i (direct)" else "–"
    print(f"| {name} | {size} | {mmap} / {munmap} | {int(rss) / 1024:.1f} MiB | {median:.2f} ms | {over} | ×{median / base:.2f} | {cpu[name]:.2f} ms |")
PY
cat "$OLDPWD/bench/results/allocator.md"
