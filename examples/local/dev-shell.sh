#!/bin/sh
# Local development without the launcher in front of every command: load the resolved
# variables into this shell once, then run whatever you like (here the stand-in app).
# The values live only in this shell's memory; nothing is written to disk.
set -eu
cd "$(dirname "$0")/../.."
eval "$(cronos-secrets --env-file examples/local/.env.development export --format shell)"
exec examples/local/app.sh
