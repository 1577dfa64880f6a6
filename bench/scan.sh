#!/usr/bin/env bash
# `cronos-secrets scan` side by side with detect-secrets (PyPI) and ripsecrets (crates.io) —
# gitleaks is in none of PyPI, npm, crates.io or Debian bookworm, so it is not run — on:
#   repo   this repository's tracked files (git archive HEAD, scanned as a directory)
#   tree   20,000 generated files, ~200 MB, mixed kinds, 10 planted secrets
#   diff   a 5,000-line staged change over 50 files (each tool on the staged files, as a
#          pre-commit hook gets them; ours also with --staged, reading the index itself)
# and each tool's false positives and misses (by file and line) on tests/scan_corpus.
#
#   bash bench/scan.sh        # writes bench/results/scan-*.{md,json}, summary on stdout
#   ACCURACY_ONLY=1 BIN=target/debug/cronos-secrets bash bench/scan.sh   # the corpus table only
#                             # (accuracy does not depend on the build; no release build)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
command -v detect-secrets >/dev/null || python3 -m pip install --quiet detect-secrets
tools=${SCAN_BENCH_TOOLS:-/tmp/scan-bench-tools}
[ -x "$tools/bin/ripsecrets" ] || cargo install ripsecrets --locked --root "$tools"
ripsecrets="$tools/bin/ripsecrets"
if [ -z "${BIN:-}" ]; then
    cargo build --release --quiet
    BIN="$repo/target/release/cronos-secrets"
fi
bin=$(realpath "$BIN")
accuracy_only=${ACCURACY_ONLY:-}
runs=${RUNS:-3}
# detect-secrets on the 200 MB tree is cut off after this many seconds (reported as such).
limit=${DETECT_SECRETS_LIMIT:-300}

work=${SCAN_BENCH_DIR:-$(mktemp -d /tmp/scan-bench.XXXXXX)}
mkdir -p "$work"
mkdir -p bench/results
echo "inputs in $work" >&2

# Accuracy on the labelled corpus, by (file, line): a tool reporting the line counts as found.
accuracy() {
    local corpus="$work/corpus"
    rm -rf "$corpus" && cp -r tests/scan_corpus/files "$corpus"
    find "$corpus" -type f -exec sed -i 's/@@//g' {} +
    (cd "$corpus" && "$bin" scan . --format json 2>/dev/null > "$work/ours.json" || true)
    (cd "$corpus" && detect-secrets scan --all-files . > "$work/detect-secrets.json" || true)
    (cd "$corpus" && "$ripsecrets" . > "$work/ripsecrets.txt" 2>/dev/null || true)
    python3 - "$work" tests/scan_corpus/expected.tsv <<'PY' | tee bench/results/scan-accuracy.md
import json, re, sys
work, manifest = sys.argv[1], sys.argv[2]
expected = set()
for line in open(manifest):
    if line.startswith("#") or not line.strip():
        continue
    path, number, *_ = line.rstrip("\n").split("\t")
    expected.add((path, int(number)))
found = {
    "cronos-secrets": {(f["path"], f["line"]) for f in json.load(open(f"{work}/ours.json"))},
    "detect-secrets 1.5.0": {(path.removeprefix("./"), r["line_number"])
                       for path, results in json.load(open(f"{work}/detect-secrets.json"))["results"].items()
                       for r in results},
    "ripsecrets": set(),
}
for line in open(f"{work}/ripsecrets.txt", errors="replace"):
    m = re.match(r"^(?:\x1b\[[0-9;]*m)*(.+?)(?:\x1b\[[0-9;]*m)*:(?:\x1b\[[0-9;]*m)*(\d+)", line)
    if m:
        found["ripsecrets"].add((m.group(1).removeprefix("./"), int(m.group(2))))
print(f"| tool | findings expected | found | false positives | misses |")
print(f"|---|---|---|---|---|")
for tool, got in found.items():
    print(f"| {tool} | {len(expected)} | {len(got & expected)} | {len(got - expected)} | {len(expected - got)} |")
PY
}

if [ -n "$accuracy_only" ]; then
    accuracy
    exit 0
fi

command -v hyperfine >/dev/null || { echo "needs hyperfine (apt-get install hyperfine)" >&2; exit 1; }
[ -d "$work/tree" ] || python3 bench/scan_tree.py "$work"
rm -rf "$work/repo" && mkdir -p "$work/repo" && git archive HEAD | tar -x -C "$work/repo"

# Each tool's command per workload. detect-secrets and ripsecrets exit non-zero on findings;
# hyperfine -i keeps the timing.
bench() {
    local name=$1 dir=$2 runs=$3 warmup=$4; shift 4
    (cd "$dir" && hyperfine -i -N --warmup "$warmup" --runs "$runs" --export-json "$repo/bench/results/scan-$name.json" \
        --export-markdown "$repo/bench/results/scan-$name.md" "$@") >&2
}

bench repo "$work/repo" "$runs" 1 \
    -n cronos-secrets "$bin scan ." \
    -n ripsecrets "$ripsecrets ." \
    -n detect-secrets "detect-secrets scan --all-files ."

# One run each on the tree: ripsecrets alone takes over a minute per run here.
bench tree "$work/tree" 1 0 \
    -n cronos-secrets "$bin scan ." \
    -n ripsecrets "$ripsecrets ."
# detect-secrets takes minutes here: one run, cut off at $limit s.
bench tree-detect-secrets "$work/tree" 1 0 \
    -n detect-secrets "timeout $limit detect-secrets scan --all-files ."

staged=$(cd "$work/diff" && git diff --cached --name-only --diff-filter=ACM | tr '\n' ' ')
bench diff "$work/diff" "$runs" 1 \
    -n "cronos-secrets --staged" "$bin scan --staged" \
    -n "cronos-secrets FILES" "$bin scan $staged" \
    -n "ripsecrets FILES" "$ripsecrets $staged" \
    -n "detect-secrets-hook FILES" "detect-secrets-hook $staged"

accuracy
for name in repo tree tree-detect-secrets diff; do
    echo; echo "### $name"; cat "bench/results/scan-$name.md"
done
