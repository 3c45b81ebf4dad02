#!/usr/bin/env bash
# install.sh DEST: installs the nixdock binary of this action's release as
# DEST (a file path), or says that this ref has no release.
#
# A release commit carries release/checksums.txt (written by the release
# workflow): its first line names the version ("# nixdock vX.Y.Z ..."), the
# others are "SHA256  nixdock-OS-ARCH" lines. The ref a user pins thus
# fixes the bytes of the binary: install.sh downloads the binary for this
# runner, checks it against that file, and keeps it in the runner's tool
# cache. A mismatch is refused with one error. Without the file (a branch
# or a commit that is not a release), or without a binary for this runner,
# it prints "build=true" to stdout, for action.yml to build from source;
# otherwise "build=false".
#
# Environment: GITHUB_ACTION_PATH (the action's files), RUNNER_OS,
# RUNNER_ARCH, RUNNER_TOOL_CACHE, RUNNER_TEMP; NIXDOCK_RELEASE_URL, the
# base URL of the release downloads (default: the GitHub releases of
# nixdock/nixdock-action; the checksum decides what is accepted either way).
set -euo pipefail
dest=${1:?usage: install.sh DEST}
sums=${GITHUB_ACTION_PATH:?}/release/checksums.txt
# stdout is the step's GITHUB_OUTPUT: messages and the error annotation go
# to stderr, where the runner reads workflow commands too.
fail() { echo "::error title=nixdock install::$*" >&2; exit 1; }
note() { echo "$*" >&2; }

if [ ! -f "$sums" ]; then
  note "nixdock: this ref of the action is not a release (no release/checksums.txt): building from source"
  echo "build=true"; exit 0
fi
version=$(sed -n '1s/^# nixdock \(v[0-9][0-9]*\.[0-9][0-9]*\.[0-9][0-9]*\)\([: ].*\)\{0,1\}$/\1/p' "$sums")
[ -n "$version" ] || fail "release/checksums.txt does not start with '# nixdock vX.Y.Z'"

case "${RUNNER_OS:-}" in Linux) os=linux ;; macOS) os=darwin ;; *) os="" ;; esac
case "${RUNNER_ARCH:-}" in X64) arch=amd64 ;; ARM64) arch=arm64 ;; *) arch="" ;; esac
asset="nixdock-$os-$arch"
want=$(awk -v a="$asset" '$2 == a && $1 ~ /^[0-9a-f]+$/ && length($1) == 64 { print $1 }' "$sums")
if [ -z "$os" ] || [ -z "$arch" ] || [ -z "$want" ]; then
  note "nixdock: release $version has no binary for ${RUNNER_OS:-?}/${RUNNER_ARCH:-?}: building from source"
  echo "build=true"; exit 0
fi

sha256() { if command -v sha256sum >/dev/null; then sha256sum "$1"; else shasum -a 256 "$1"; fi | cut -d' ' -f1; }
cache=${RUNNER_TOOL_CACHE:-${RUNNER_TEMP:?}/tool-cache}/nixdock/${version#v}/$arch
if [ -f "$cache/nixdock" ] && [ "$(sha256 "$cache/nixdock")" = "$want" ]; then
  note "nixdock $version: from the tool cache ($cache)"
else
  url="${NIXDOCK_RELEASE_URL:-https://github.com/nixdock/nixdock-action/releases/download}/$version/$asset"
  tmp=$(mktemp "${RUNNER_TEMP:-/tmp}/nixdock-download.XXXXXX")
  trap 'rm -f "$tmp"' EXIT
  curl -fsSL --retry 2 --retry-delay 1 --proto '=https,http' -o "$tmp" "$url" || fail "downloading $url failed"
  got=$(sha256 "$tmp")
  [ "$got" = "$want" ] || fail "$asset of $version from $url has sha256 $got, but release/checksums.txt at this ref says $want: refusing to run it"
  mkdir -p "$cache"
  install -m 0755 "$tmp" "$cache/nixdock"
  note "nixdock $version: downloaded $asset, sha256 $got checked against release/checksums.txt"
fi
mkdir -p "$(dirname "$dest")"
install -m 0755 "$cache/nixdock" "$dest"
echo "build=false"
