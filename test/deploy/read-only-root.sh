#!/bin/sh
# Runs the image's start step (deploy/container/start.sh ARGS) as a container would: every mount of this
# (private) mount namespace read-only, /tmp included, except DATA_DIR. Run inside `unshare -m` as root.
# Exit 70 before starting anything when the layout is not what it must be.
set -eu
: "${APP_DIR:?}" "${DATA_DIR:?}"
awk '{ print $5 }' /proc/self/mountinfo | sort -u | while read -r mountpoint; do
  case "$mountpoint" in /proc | /proc/* | /sys | /sys/* | /dev | /dev/*) continue ;; esac
  mount -o remount,bind,ro "$mountpoint" 2>/dev/null || echo "read-only-root: could not remount $mountpoint" >&2
done
# A bind mount starts with the flags of the mount it comes from: made writable again, alone.
mount --bind "$DATA_DIR" "$DATA_DIR"
mount -o remount,bind,rw "$DATA_DIR"
for probe in "$APP_DIR/.read-only-probe" /tmp/.read-only-probe; do
  if touch "$probe" 2>/dev/null; then
    rm -f "$probe"
    echo "read-only-root: $probe could be written" >&2
    exit 70
  fi
done
touch "$DATA_DIR/.writable-probe" || { echo "read-only-root: DATA_DIR is not writable" >&2; exit 70; }
rm "$DATA_DIR/.writable-probe"
exec "$APP_DIR/deploy/container/start.sh" "$@"
