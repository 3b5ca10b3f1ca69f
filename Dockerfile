# syntax=docker/dockerfile:1
# SecureAI Guardian image: `guardian serve` by default, `guardian worker` (or any other verb) as the command.
# Build and start are the scripts in deploy/container/, which `npm run test:container` also runs on a host.
# Runs as uid 10001 with a read-only root file system; DATA_DIR (/data) is the only path it writes.
ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
# The npm the project is tested with (the base image's npm 10 ignores package.json's allowScripts).
RUN npm install -g npm@11.19.1
COPY . .
# npm ci (whose `prepare` builds dist/, the PGlite template and the web app), npm prune --omit=dev, and a copy
# of the runtime files to /out.
RUN sh deploy/container/install.sh /out

FROM ${NODE_IMAGE} AS runtime
# Debian's ffmpeg/ffprobe, which FFMPEG_PATH/FFPROBE_PATH name (the static builds of @ffmpeg-installer stay in
# node_modules as a production dependency, unused here). util-linux (prlimit, for the media tools' memory cap)
# is already in the base image.
RUN apt-get update \
  && apt-get install -y --no-install-recommends ffmpeg \
  && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 guardian \
  && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home \
    --shell /usr/sbin/nologin guardian \
  && install -d -o 10001 -g 10001 -m 0700 /data
# Owned by root and not writable by the app user, even where the root file system is left writable.
COPY --from=build /out /app
ENV NODE_ENV=production \
  DATA_DIR=/data \
  HOST=0.0.0.0 \
  PORT=8080 \
  FFMPEG_PATH=/usr/bin/ffmpeg \
  FFPROBE_PATH=/usr/bin/ffprobe
WORKDIR /app
USER 10001:10001
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "/app/deploy/container/healthcheck.mjs"]
ENTRYPOINT ["/app/deploy/container/start.sh"]
CMD ["serve"]
