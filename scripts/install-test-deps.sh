#!/usr/bin/env bash
# Installs what the test suite needs, only when something is missing (idempotent, quiet when done).
# Debian packages: the real initiators (libiscsi-bin: iscsi-test-cu, iscsi-inq, iscsi-perf; QEMU's
# iscsi:// block driver), tgt as the reference target, lvm2 for the storage manager's tests.
# Then npm ci when node_modules is missing or older than package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."

# qemu-system-x86 + debootstrap + e2fsprogs: the Debian test guest (e2e/guest) with open-iscsi and device-mapper.
PACKAGES=(libiscsi-bin qemu-utils qemu-block-extra tgt lvm2 qemu-system-x86 debootstrap e2fsprogs chromium)
# npm ci compiles better-sqlite3 and node-pty with node-gyp
PACKAGES+=(g++ make python3)

missing=()
for pkg in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  if [[ "$status" != "install ok installed" ]]; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} > 0)); then
  echo "install-test-deps: installing ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    echo "install-test-deps: need root to apt-get install ${missing[*]}" >&2
    exit 1
  fi
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

# npm writes node_modules/.package-lock.json on every install; it is older than package-lock.json
# exactly when someone changed the dependencies since.
if [[ ! -d node_modules || ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "install-test-deps: npm ci"
  npm ci --no-audit --no-fund
fi
