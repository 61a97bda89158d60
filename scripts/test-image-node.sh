#!/usr/bin/env bash
# The vitest suite again, on the Node the container image runs (node:NN-slim in the Dockerfile;
# scripts/setup-tools.sh node-image installs that major). The first run of `npm test` is on the
# Node running npm, the oldest one package.json supports in CI.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.tools/image-node/bin
if [ ! -x "$bin/node" ]; then
  echo "the image's Node is not installed: run \`npm run setup\` (scripts/setup-tools.sh node-image)" >&2
  exit 1
fi
export PATH="$PWD/$bin:$PATH"
echo "vitest on the image's Node $(node --version)"
JWTX_TEST_CLI=bundle exec node_modules/.bin/vitest run "$@"
