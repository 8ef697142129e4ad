#!/usr/bin/env bash
# Installs what a fresh machine lacks for running (`start`) or testing (`test`) the product:
# redis-server (the local target's Redis), haproxy (its load balancers), supervisor (supervisord, which runs
# and restarts its processes), chromium and openssl (tests only) and the Pulumi CLI.
# Idempotent and quick when everything is there; run by the root `prestart` and `pretest` scripts.
set -euo pipefail
purpose="${1:-start}"
cd "$(dirname "${BASH_SOURCE[0]}")/.."

missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v haproxy >/dev/null || [[ -x /usr/sbin/haproxy ]] || missing+=(haproxy)
command -v supervisord >/dev/null || missing+=(supervisor)
if [[ "$purpose" == "test" ]]; then
  command -v chromium >/dev/null || missing+=(chromium)
  # The voting app's Redis TLS test makes its certificates with openssl.
  command -v openssl >/dev/null || missing+=(openssl)
fi

if ((${#missing[@]})); then
  if [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null; then
    echo "[setup] installing ${missing[*]} with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "[setup] error: missing ${missing[*]}; install them (Debian/Ubuntu: sudo apt-get install -y ${missing[*]})" >&2
    exit 1
  fi
fi

bash packages/infra/scripts/ensure-pulumi-cli.sh >/dev/null
