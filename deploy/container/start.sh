#!/bin/sh
# Start step of the container image (its ENTRYPOINT; the host test runs the same file).
# Usage: start.sh [guardian verb and arguments]; default `serve`.
# DATA_DIR is the only path written; the rest of the file system may be read-only.
set -eu
cd "$(dirname "$0")/../.."
export DATA_DIR="${DATA_DIR:-/data}"
if ! [ -d "$DATA_DIR" ] || ! [ -w "$DATA_DIR" ]; then
  echo "start.sh: DATA_DIR=$DATA_DIR must be an existing directory this user ($(id -u)) can write" >&2
  exit 78
fi
# Files created in DATA_DIR (keys, database, blobs) are for this user only.
umask 077
[ "$#" -gt 0 ] || set -- serve
exec node bin/guardian.js "$@"
