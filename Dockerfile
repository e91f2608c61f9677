# syntax=docker/dockerfile:1
# meshgate container image, built from the npm package tarball (the path test/cli/package.test.ts
# proves on every CI run: `npm pack`, then `npm install ./meshgate-*.tgz` into an empty folder).
#
#   docker build -t meshgate .
#   docker run --rm -p 8080:8080 -v "$PWD/policies:/etc/meshgate:ro" meshgate
#
# Policies are read from /etc/meshgate (mount a ConfigMap or a directory there); the admin port
# 9901 serves /ready, /healthz, /metrics and must stay off the public network.

ARG NODE_IMAGE=node:20-bookworm-slim

# Stage 1: build with dev dependencies, then pack. prepack empties dist/, prepare compiles it.
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json LICENSE README.md ./
COPY bin ./bin
COPY scripts ./scripts
COPY src ./src
COPY policies ./policies
RUN mkdir /pkg && npm pack --pack-destination /pkg && mv /pkg/meshgate-*.tgz /pkg/meshgate.tgz

# Stage 2: runtime with production dependencies only, installed from the tarball.
FROM ${NODE_IMAGE} AS runtime
# tini is PID 1: it forwards SIGTERM to node and reaps zombies. node itself also handles SIGTERM
# (drain, exit 0), so `command: ["meshgate", "serve", ...]` without tini is correct too.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    PATH=/app/node_modules/.bin:$PATH
WORKDIR /app
COPY --from=build /pkg/meshgate.tgz /tmp/meshgate.tgz
RUN npm install --omit=dev --no-package-lock --no-audit --no-fund /tmp/meshgate.tgz \
 && rm /tmp/meshgate.tgz \
 && npm cache clean --force \
 && mkdir -p /etc/meshgate \
 && cp /app/node_modules/meshgate/policies/*.yaml /etc/meshgate/
# The demo policies are a placeholder: mount your own over /etc/meshgate.
USER node
EXPOSE 8080 9901
# No curl in the slim image: node asks the admin port itself.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9901/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The gateway's own bin, never npx: npx as PID 1 exits on SIGTERM without signalling the gateway.
ENTRYPOINT ["/usr/bin/tini", "--", "meshgate"]
CMD ["serve", "--policies", "/etc/meshgate", "--host", "0.0.0.0", "--port", "8080", "--admin-port", "9901"]
