#!/usr/bin/env bash
# openlun on a fresh Debian, as root: Node.js >= 20 and npm, openssl (the web UI's self-signed certificate), the
# dependencies (npm ci), then the appliance in the foreground: `openlun serve` (API + web UI on port 8443) which
# starts the target daemon (iSCSI on the portals configured in the UI). LUNs live as sparse files in the file
# pool under /var/lib/openlun until a volume group exists.
#   sudo scripts/install.sh
# OPENLUN_DATA_DIR and OPENLUN_LISTEN override the data directory (/var/lib/openlun) and the UI's address
# (0.0.0.0:8443).
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."

NODE_MAJOR_MIN=20
DATA_DIR="${OPENLUN_DATA_DIR:-/var/lib/openlun}"
LISTEN="${OPENLUN_LISTEN:-0.0.0.0:8443}"

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

if ! command -v openssl >/dev/null 2>&1; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends openssl
fi

# better-sqlite3 and node-pty are compiled from source by npm ci (no prebuilt binaries are fetched from outside the
# npm registry), so a fresh machine needs a C++ toolchain and python3 for node-gyp
if ! command -v g++ >/dev/null 2>&1 || ! command -v make >/dev/null 2>&1 || ! command -v python3 >/dev/null 2>&1; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends g++ make python3
fi

if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
fi

mkdir -p "$DATA_DIR"
chmod 0700 "$DATA_DIR"
echo "install: open https://$(hostname -f 2>/dev/null || hostname):${LISTEN##*:}/ to set the admin password"
exec bin/openlun serve --data-dir "$DATA_DIR" --listen "$LISTEN"
