#!/usr/bin/env bash
# openlun on a fresh Debian, as root: Node.js ≥ 20 and npm, the dependencies (npm ci), a 1 GiB sparse
# LUN at /var/lib/openlun/lun0.img, then the target in the foreground on every address, port 3260.
#   sudo scripts/install.sh
# OPENLUN_PORTAL and OPENLUN_LUN override the portal (0.0.0.0:3260) and the LUN file.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."

NODE_MAJOR_MIN=20
PORTAL="${OPENLUN_PORTAL:-0.0.0.0:3260}"
LUN="${OPENLUN_LUN:-/var/lib/openlun/lun0.img}"
IQN="iqn.2026-11.org.openlun:default"

die() {
  echo "install: $*" >&2
  exit 1
}

node_major() {
  node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0
}

# The major version of the nodejs package apt would install, or 0 when there is none.
apt_nodejs_major() {
  local candidate
  candidate=$(apt-cache policy nodejs 2>/dev/null | awk '/Candidate:/ {print $2}')
  if [[ -z "$candidate" || "$candidate" == "(none)" ]]; then
    echo 0
  else
    # "18.20.4+dfsg-1~deb12u3" or "1:20.19.2-1": drop an epoch, keep the major.
    echo "${candidate#*:}" | cut -d. -f1
  fi
}

[[ $(id -u) -eq 0 ]] || die "run as root (it installs packages and creates /var/lib/openlun)"

if ! command -v node >/dev/null 2>&1 || (($(node_major) < NODE_MAJOR_MIN)); then
  have=$(command -v node >/dev/null 2>&1 && node --version || echo "none")
  apt-get update
  major=$(apt_nodejs_major)
  if ((major < NODE_MAJOR_MIN)); then
    die "openlun needs Node.js >= ${NODE_MAJOR_MIN}; installed: ${have}; this system's apt offers nodejs ${major} (Debian 12 ships 18, which is too old). Install Node.js ${NODE_MAJOR_MIN} or later (Debian 13's nodejs, or a nodejs package from a repository you trust) and run this again."
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm
fi
if ! command -v npm >/dev/null 2>&1; then
  # Node from elsewhere usually brings its own npm; Debian's npm only fits Debian's nodejs.
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends npm \
    || die "Node.js $(node --version) has no npm, and apt cannot install one that fits it"
fi

if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
fi

if [[ ! -e "$LUN" ]]; then
  mkdir -p "$(dirname "$LUN")"
  truncate -s 1G "$LUN"
  echo "install: created ${LUN} (1 GiB, sparse)"
fi

exec bin/openlun target --portal "$PORTAL" --iqn "$IQN" --lun "$LUN"
