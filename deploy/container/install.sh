#!/bin/sh
# Build step of the container image (the Dockerfile's build stage runs exactly this; so does
# `npm run test:container` on the host). Usage: install.sh OUT_DIR
#   1. npm ci: installs every dependency and runs `prepare` (dist/, the PGlite template, the web app);
#   2. npm prune --omit=dev: drops the build-only packages;
#   3. copies the runtime files (and only those) to OUT_DIR, which the image's runtime stage copies whole.
set -eu
out=${1:?usage: install.sh OUT_DIR}
cd "$(dirname "$0")/../.."

# npm 11 applies package.json's allowScripts (which packages' install scripts may run; some refused ones download
# files at install time); npm 10 ignores it, so the image would not be built the way the host test builds it.
npm_major=$(npm --version | cut -d. -f1)
if [ "$npm_major" -lt 11 ]; then
  echo "install.sh: npm $(npm --version) found, npm 11 or later needed (allowScripts)" >&2
  exit 1
fi

npm ci --no-audit --no-fund
npm prune --omit=dev --no-audit --no-fund

# What the running app reads: the launcher, compiled code and web app, production dependencies, the
# install-time database template, the default calibration, the user guides it serves, and the start step.
mkdir -p "$out/deploy/container"
cp -a package.json bin dist node_modules .pglite-template calibration docs "$out/"
cp -a deploy/container/start.sh deploy/container/healthcheck.mjs "$out/deploy/container/"
echo "install.sh: runtime files in $out ($(du -sh "$out" | cut -f1))"
