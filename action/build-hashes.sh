#!/usr/bin/env bash
# build-hashes.sh DIR: the hashes a builder passes to verify and publish
# through its job outputs (the trusted channel), as GITHUB_OUTPUT lines:
#
#   record-sha256=<sha256 of DIR/record.json>
#   image-sha256=<sha256 over DIR/image: "sha256  ./path" lines of every
#                 file, sorted bytewise>, or empty without an image
#
# check-build.sh recomputes them after the download. Only content and
# relative paths count: artifacts keep neither modes nor times.
set -euo pipefail
dir=${1:?usage: build-hashes.sh DIR}
[ -f "$dir/record.json" ] || { echo "build-hashes.sh: no record.json in $dir" >&2; exit 1; }
record=$(sha256sum < "$dir/record.json")
echo "record-sha256=${record%% *}"
image=""
if [ -d "$dir/image" ]; then
  image=$(cd "$dir/image" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum | sha256sum)
  image=${image%% *}
fi
echo "image-sha256=$image"
