#!/usr/bin/env bash
# Installs what the tests drive from Debian's packages: the reverse proxies
# the deployment examples in deploy/ are tested with, nginx
# (cmd/connector/proxy_test.go runs the real binary behind it, with
# deploy/nginx.conf's proxy settings) and caddy (the same test validates
# deploy/Caddyfile); and headless Chromium, for the browser tests of the
# document view (internal/httpserver/browser_test.go: passage anchors,
# :target marking, text fragments). Needs root, or sudo without a password.
# Re-runs are no-ops once all are installed. No system service is started:
# the tests run their own nginx as the current user.
set -euo pipefail

missing=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v caddy >/dev/null 2>&1 || missing+=(caddy)
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || missing+=(chromium)
if [ ${#missing[@]} -eq 0 ]; then
  echo "test packages: nginx, caddy and chromium are installed"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "test packages: ${missing[*]} missing and apt-get is not available; install them with your package manager" >&2
  exit 1
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
  else
    echo "test packages: ${missing[*]} missing; run this script as root (or with sudo) to install them with apt-get" >&2
    exit 1
  fi
fi

# Keep the packages from starting system services (nginx would take port 80):
# policy-rc.d answering 101 tells invoke-rc.d not to start anything.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
  "${sudo[@]}" chmod 755 "$policy"
  trap '"${sudo[@]}" rm -f "$policy"' EXIT
fi

export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists when they are missing or a day old.
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -1)" ]; then
  "${sudo[@]}" apt-get update -qq
fi
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "test packages: installed ${missing[*]}"
