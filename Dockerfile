# scopewatch server-mode image: `docker build -t scopewatch .`, then
# `docker run scopewatch ingest|detect|api|migrate` with CLICKHOUSE_URL set (see docker-compose.yml).
#
# No BuildKit-only syntax (RUN --mount, heredocs): docker-compose v1 (Debian's package) builds
# with the classic builder.

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# Dependencies before sources so a source-only change reuses the cached `npm ci` layer.
COPY package.json package-lock.json ./
# --omit=optional skips @chdb/lib-linux-x64-gnu (~540 MB): the compiler only needs chdb's type
# declarations, which ship in the `chdb` package itself.
RUN npm ci --omit=optional --no-audit --no-fund
COPY . .
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    NODE_OPTIONS=--enable-source-maps \
    SCOPEWATCH_DATA_DIR=/app/data
WORKDIR /app
COPY package.json package-lock.json ./
# --omit=optional drops chdb's native library. That is safe only because storage/clickhouse.ts imports
# chdb lazily, on the embedded path taken when CLICKHOUSE_URL is unset: this image is for server
# mode and fails at start-up without CLICKHOUSE_URL (cannot load chdb) rather than at import time.
# --ignore-scripts: chdb's install script is a no-op and nothing else in production has one, so
# no third-party code runs at build time.
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund \
    && npm cache clean --force
COPY --from=build /app/dist ./dist
# Migrations are read at run time from <package root>/storage/migrations (common/paths.ts finds the
# root through package.json), so they travel next to dist/ rather than inside it.
COPY --from=build /app/storage/migrations ./storage/migrations
# The shipped rule packs are read the same way (app/rules.ts: <package root>/detectors/rules/packs).
COPY --from=build /app/detectors/rules/packs ./detectors/rules/packs
# Code and dependencies stay root-owned (read-only to the service); only the data dir is writable.
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 8080
# Exec form: node is PID 1 and receives SIGTERM itself, which common/shutdown.ts turns into a
# graceful stop (the consumer flushes its batch and commits offsets before exiting).
ENTRYPOINT ["node", "dist/bin/scopewatch.js"]
