#!/usr/bin/env bash
# Finds or provides a Pulumi CLI the Automation API can use, and prints its folder on the last line.
#
# Order: an existing CLI (PULUMI_CLI_DIR, PATH, ~/.pulumi/versions/<sdk>/bin) whose version is at least the
# SDK's; else the official installer; else (machines that reach only a Go module proxy) a build from the
# Go modules with its version stamped. The dynamic-provider plugin shipped in @pulumi/pulumi is placed
# beside the CLI, because the local target's dynamic providers need it and the CLI cannot download it here.
#
# Run by `npm test` / `npm run bench` of @platform/infra (pre-scripts), by the root `prestart`/`pretest`
# (scripts/ensure-machine.sh) and by `npm run pulumi-cli -w @platform/infra`; by npm install in quick mode
# (PULUMI_CLI_QUICK=1: an existing CLI is linked and the plugin refreshed beside it, nothing is built). Fast (a `pulumi version`) when the CLI is already there.
# Environment: PULUMI_CLI_ROOT (folder above bin/) or PULUMI_CLI_DIR (the bin folder itself) to choose
# where; PULUMI_CLI_BUILD_VERSION (default v3.274.1) for the build; PULUMI_CLI_SKIP_OFFICIAL=1 to skip
# the download attempt; PULUMI_CLI_GOTOOLCHAIN (default auto) for the Go build.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
package_dir="$(cd "$here/.." && pwd)"
cli_version="${PULUMI_CLI_BUILD_VERSION:-v3.274.1}"

log() { echo "[pulumi-cli] $*" >&2; }

# Resolve @pulumi/pulumi the way Node does from this package (hoisted or not).
sdk_dir="$(cd "$package_dir" && node -p "require('path').dirname(require.resolve('@pulumi/pulumi/package.json'))" 2>/dev/null || true)"
if [[ -n "$sdk_dir" && -f "$sdk_dir/package.json" ]]; then
  sdk_version="$(node -p "require('$sdk_dir/package.json').version")"
else
  log "warning: @pulumi/pulumi is not installed (run npm install); assuming SDK 3.248.0"
  sdk_version="3.248.0"
fi
if [[ -n "${PULUMI_CLI_DIR:-}" ]]; then
  target_dir="$PULUMI_CLI_DIR"
elif [[ -n "${PULUMI_CLI_ROOT:-}" ]]; then
  target_dir="$PULUMI_CLI_ROOT/bin"
else
  target_dir="$HOME/.pulumi/versions/$sdk_version/bin"
fi

# version_ok <pulumi binary>: true when it prints a version >= the SDK's.
version_ok() {
  local v
  v="$("$1" version 2>/dev/null | tr -d 'v\r\n' || true)"
  [[ -n "$v" ]] || return 1
  node -e '
    const [a, b] = process.argv.slice(1).map((s) => s.split(/[.-]/).slice(0, 3).map(Number));
    for (let i = 0; i < 3; i++) { if (a[i] !== b[i]) process.exit(a[i] > b[i] ? 0 : 1); }
  ' "$v" "$sdk_version"
}

place_plugin() {
  local plugin="${sdk_dir:-/nonexistent}/pulumi-resource-pulumi-nodejs"
  if [[ -f "$plugin" ]]; then
    cmp -s "$plugin" "$1/pulumi-resource-pulumi-nodejs" 2>/dev/null || install -m 0755 "$plugin" "$1/pulumi-resource-pulumi-nodejs"
  else
    log "warning: $plugin not found (run npm install); dynamic providers will not work"
  fi
}

done_with() {
  place_plugin "$1"
  log "using $1/pulumi ($("$1/pulumi" version))"
  echo "$1"
  exit 0
}

export PULUMI_SKIP_UPDATE_CHECK=true

# Temporary files and folders of this run, removed however it ends (also on failure or Ctrl-C).
temps=()
cleanup() { if ((${#temps[@]})); then rm -rf "${temps[@]}"; fi; }
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ -x "$target_dir/pulumi" ]] && version_ok "$target_dir/pulumi"; then done_with "$target_dir"; fi
if on_path="$(command -v pulumi 2>/dev/null)" && version_ok "$on_path"; then
  mkdir -p "$target_dir"
  if [[ "$(dirname "$on_path")" != "$target_dir" ]]; then ln -sf "$on_path" "$target_dir/pulumi"; fi
  done_with "$target_dir"
fi

# Quick mode (npm install's postinstall): only what takes a second. Providing a CLI can take many minutes
# (a Go build), which `npm test` and `npm start` do when needed.
if [[ "${PULUMI_CLI_QUICK:-}" == "1" ]]; then
  log "no usable pulumi CLI yet (>= $sdk_version): npm test / npm start provide one, or run \`npm run pulumi-cli -w @platform/infra\`"
  exit 0
fi

mkdir -p "$target_dir"

# One provisioning at a time (tests of several packages may start at once): wait for the other, then
# use what it produced.
if command -v flock >/dev/null; then
  exec 9>"$target_dir/.ensure.lock"
  flock 9
  if [[ -x "$target_dir/pulumi" ]] && version_ok "$target_dir/pulumi"; then done_with "$target_dir"; fi
fi

# The official installer; fails fast where only package registries are reachable.
if [[ "${PULUMI_CLI_SKIP_OFFICIAL:-}" != "1" ]] && command -v curl >/dev/null; then
  log "trying the official installer"
  if installer="$(curl -fsSL --connect-timeout 5 --max-time 30 https://get.pulumi.com 2>/dev/null)"; then
    root="$(mktemp -d)"
    temps+=("$root")
    if printf '%s' "$installer" | sh -s -- --version "${cli_version#v}" --install-root "$root" --no-edit-path >&2 &&
      cp "$root/bin/"* "$target_dir/" && version_ok "$target_dir/pulumi"; then
      done_with "$target_dir"
    fi
  fi
  log "official installer not reachable"
fi

if ! command -v go >/dev/null; then
  log "error: no usable pulumi CLI, the installer is unreachable and Go is not installed to build one"
  exit 1
fi

# `go install pkg@version` refuses pulumi's pkg module (its go.mod has replace lines), so build it from a
# throwaway main module that requires pkg and sdk at one version.
log "building pulumi $cli_version from Go modules (a cold build takes 10-25 minutes on 2 cores)"
work="$(mktemp -d)"
temps+=("$work" "$target_dir/pulumi.tmp")
cd "$work"
cat > go.mod <<GOMOD
module local/pulumi-cli-build

go 1.24
GOMOD
cat > tools.go <<'GOSRC'
//go:build tools

package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
GOSRC
export GOFLAGS="${GOFLAGS:-} -mod=mod"
# pkg's go.mod asks for a recent Go (1.26.6 for v3.274.1). With GOTOOLCHAIN=auto an older local Go fetches
# that toolchain through the module proxy, the one thing machines like these reach; a machine-wide
# GOTOOLCHAIN=local would make the build fail instead.
export GOTOOLCHAIN="${PULUMI_CLI_GOTOOLCHAIN:-auto}"
if ! go get "github.com/pulumi/pulumi/pkg/v3@$cli_version" "github.com/pulumi/pulumi/sdk/v3@$cli_version" >&2; then
  log "error: could not get pulumi $cli_version's Go modules (pkg/v3 and sdk/v3) from $(go env GOPROXY)"
  exit 1
fi
# Release builds: static (CGO_ENABLED=0), these tags, the version stamped (else `pulumi version` prints
# nothing and the Automation API rejects the CLI). Built beside the target, then renamed: atomic.
if ! CGO_ENABLED=0 go build -tags osusergo,grpcnotrace \
  -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$cli_version" \
  -o "$target_dir/pulumi.tmp" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi >&2; then
  log "error: the Go build of pulumi $cli_version failed (output above)"
  exit 1
fi
mv "$target_dir/pulumi.tmp" "$target_dir/pulumi"
version_ok "$target_dir/pulumi" || { log "error: built CLI reports an unusable version"; exit 1; }
done_with "$target_dir"
