#!/usr/bin/env bash
# The Debian packages the tests need beyond what the machine comes with: Chromium, for
# the docs site's browser test. Installs only what is missing, so a developer's machine
# that has it already pays nothing. Run as root (CI is); fails loudly otherwise.
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v strace >/dev/null || missing+=(strace)   # week 1's chapter traces a write
[ -x /usr/bin/time ] || missing+=(time)             # week 1's chapter measures peak memory
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi
echo "system packages: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
