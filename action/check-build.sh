#!/usr/bin/env bash
# check-build.sh NAME DIR RECORD-SHA256 IMAGE-SHA256: checks a downloaded
# build artifact against the hashes its builder passed through job outputs
# (build-hashes.sh), so that nothing else in the run can stand in for it.
# An empty IMAGE-SHA256 means the builder uploaded no image: then there
# must be none.
set -euo pipefail
name=${1:?usage: check-build.sh NAME DIR RECORD-SHA256 IMAGE-SHA256}
dir=${2:?} want_record=${3:-} want_image=${4:-}
fail() { echo "::error title=nixdock: $name::$*"; exit 1; }
case "$want_record" in
  [0-9a-f]*) [ ${#want_record} = 64 ] || fail "the builder passed no record hash ('$want_record'): did it finish?" ;;
  *) fail "the builder passed no record hash: did it finish?" ;;
esac
got=$("$(dirname "$0")/build-hashes.sh" "$dir" 2>/dev/null) || fail "the download in $dir has no record.json"
got_record=$(printf '%s\n' "$got" | sed -n 's/^record-sha256=//p')
got_image=$(printf '%s\n' "$got" | sed -n 's/^image-sha256=//p')
[ "$got_record" = "$want_record" ] || fail "record.json has sha256 $got_record, the builder wrote $want_record"
[ "$got_image" = "$want_image" ] || fail "the image has sha256 ${got_image:-(none)}, the builder wrote ${want_image:-(none)}"
echo "$name: record sha256 $got_record and image sha256 ${got_image:-(none)} are the builder's"
