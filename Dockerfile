# syntax=docker/dockerfile:1
# slurm-exporter container image: a build stage compiles the TypeScript with the dev dependencies, the runtime
# stage has Node 24, the production dependencies, dist/ and bin/ only, and runs as user 65534.
#
#   docker build -t slurm-exporter:0.1.0 --build-arg VERSION=0.1.0 --build-arg REVISION=$(git rev-parse HEAD) \
#     --build-arg CREATED=$(date -u +%Y-%m-%dT%H:%M:%SZ) --build-arg SOURCE_URL=<your repository URL> .
#   docker run --read-only --tmpfs /tmp -p 9341:9341 -e SLURM_JWT slurm-exporter:0.1.0 --slurm.url http://slurmctl:6820
#   docker run --rm -e SLURM_JWT slurm-exporter:0.1.0 doctor --slurm.url http://slurmctl:6820
#
# Install, run, read-only root filesystem, signals: docs/operations.md (section "Container").
# test/e2e/packaging.test.ts replays the npm and node steps of both stages outside Docker.

ARG NODE_IMAGE=node:24-bookworm-slim

# ---- build: dev dependencies, TypeScript → dist/ -------------------------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: the `node` devDependency would download a second Node binary (the image has Node 24), and
# `prepare` would compile before the sources are here.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN node node_modules/typescript/bin/tsc -p tsconfig.build.json

# ---- runtime: production dependencies, dist/, bin/ -----------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ARG NODE_IMAGE
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
ARG SOURCE_URL=""
LABEL org.opencontainers.image.title="slurm-exporter" \
      org.opencontainers.image.description="Prometheus exporter for Slurm: slurmrestd v0.0.38 to v0.0.44, served from memory, HA-ready" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="${SOURCE_URL}" \
      org.opencontainers.image.base.name="${NODE_IMAGE}"

# tini as PID 1: forwards SIGTERM/SIGINT/SIGHUP to the exporter and reaps zombies. The exporter handles those
# signals itself (drain and exit 0; reload on SIGHUP), so `docker run --init` would do as well.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/slurm-exporter
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# Production dependencies only; --ignore-scripts: none of them needs an install script, and `prepare` (tsc) is
# a dev tool. The npm cache is dropped so the image holds no copy of the tarballs.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force
COPY --from=build /src/dist ./dist
COPY bin ./bin

# Files stay root-owned and read-only to the exporter's user: nothing is written outside /tmp, so the container
# runs with a read-only root filesystem (docker run --read-only --tmpfs /tmp; Kubernetes readOnlyRootFilesystem).
USER 65534:65534
EXPOSE 9341

# /health with Node itself (no curl in the image). Kubernetes ignores HEALTHCHECK: use the chart's probes.
# Another port, TLS (--web.config.file): set SLURM_EXPORTER_HEALTH_URL, e.g. https://127.0.0.1:9443/health
# (the check does not verify the exporter's own certificate).
ENV SLURM_EXPORTER_HEALTH_URL=http://127.0.0.1:9341/health
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["node", "-e", "const u=new URL(process.env.SLURM_EXPORTER_HEALTH_URL);require(u.protocol==='https:'?'node:https':'node:http').get(u,{rejectUnauthorized:false,timeout:4000},(r)=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1)).on('timeout',()=>process.exit(1))"]

ENTRYPOINT ["/usr/bin/tini", "--", "/opt/slurm-exporter/bin/slurm-exporter"]
CMD []
