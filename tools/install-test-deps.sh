#!/usr/bin/env bash
# Everything `npm test` needs beyond `npm ci`, installed when missing
# (idempotent, quiet when all is there): Debian's system tools
# (tools/install-system-deps.sh) and the older Nx lines the packed plugin is
# tested on, in npm's cache (tools/prepare-nx-versions.mjs), and Docker 26
# with buildx beside Debian 12's 20.10 (tools/install-modern-docker.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash tools/install-system-deps.sh
bash tools/install-modern-docker.sh
node tools/prepare-nx-versions.mjs
