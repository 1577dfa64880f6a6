#!/bin/sh
# Local development without the launcher in front of every command: load the resolved
# variables into this shell once, then run whatever you like (here the stand-in app).
# The values live only in this shell's memory; nothing is written to disk.
#
# Two lines, not `eval "$(cronos-secrets … export …)"`: a command substitution inside eval's
# argument hides the launcher's exit status (eval of an empty string succeeds), so a missing
# command or an unreadable secret would start the app with every secret empty. An assignment
# takes the substitution's status, and `|| exit` stops the script whatever `set -e` says.
set -eu
cd "$(dirname "$0")/../.."
vars=$(cronos-secrets --env-file examples/local/.env.development export --format shell) || exit 1
eval "$vars"
exec examples/local/app.sh
