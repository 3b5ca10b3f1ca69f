#!/bin/sh
# Makes the secret files compose.yaml mounts, with random values that agree with each other (the password in
# database_url is postgres_password, and so on). Never overwrites a file that exists.
# Usage: make-secrets.sh [--self-signed HOSTNAME] [DIR]   (DIR defaults to ./secrets beside compose.yaml)
#   --self-signed: also a self-signed TLS certificate for HOSTNAME (tests only; bring a real one otherwise).
#
# Permissions: DIR is 0700 (no other host user reaches the files); the files are 0644 because Compose mounts
# a file secret with its host owner and mode, and each image reads its secrets as its own user (guardian
# 10001, postgres 999, redis 999, ...). Each container sees only the secrets compose.yaml gives it.
set -eu
self_signed=''
if [ "${1:-}" = "--self-signed" ]; then
  self_signed=${2:?--self-signed needs a host name}
  shift 2
fi
dir=${1:-"$(dirname "$0")/../../secrets"}
command -v openssl >/dev/null || { echo "make-secrets.sh: needs openssl" >&2; exit 1; }
umask 022
mkdir -p "$dir/tls"
chmod 0700 "$dir"

random() { openssl rand -hex "$1"; }
# write NAME VALUE: the file NAME holds VALUE (no trailing newline needed: the app trims it), unless it exists.
write() {
  if [ -e "$dir/$1" ]; then echo "kept    $dir/$1"; return; fi
  printf '%s\n' "$2" >"$dir/$1"
  echo "created $dir/$1"
}
# value NAME: the value in file NAME (made now or earlier), so derived files agree with it.
value() { head -n 1 "$dir/$1"; }

write postgres_password "$(random 24)"
write database_url "postgres://guardian:$(value postgres_password)@postgres:5432/guardian"
write redis_password "$(random 24)"
# BullMQ runs Lua scripts and blocking commands: the default user keeps all commands, behind the password.
write redis_acl "user default on >$(value redis_password) ~* &* +@all"
write redis_url "redis://:$(value redis_password)@redis:6379"
write master_key "$(random 32)"
if [ ! -e "$dir/log_signing_key.pem" ]; then
  openssl genpkey -algorithm ed25519 -out "$dir/log_signing_key.pem"
  chmod 0644 "$dir/log_signing_key.pem"
  echo "created $dir/log_signing_key.pem"
else
  echo "kept    $dir/log_signing_key.pem"
fi
write minio_root_user "admin-$(random 6)"
write minio_root_password "$(random 24)"
write s3_access_key_id "guardian-$(random 6)"
write s3_secret_access_key "$(random 24)"

if [ -n "$self_signed" ] && [ ! -e "$dir/tls/fullchain.pem" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
    -subj "/CN=$self_signed" -addext "subjectAltName=DNS:$self_signed" \
    -keyout "$dir/tls/privkey.pem" -out "$dir/tls/fullchain.pem" 2>/dev/null
  chmod 0644 "$dir/tls/privkey.pem"
  echo "created $dir/tls/fullchain.pem and privkey.pem (self-signed for $self_signed)"
fi
[ -e "$dir/tls/fullchain.pem" ] || echo "missing $dir/tls/fullchain.pem and privkey.pem: put your certificate there"
