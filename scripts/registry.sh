# Sourced by scripts/test and .ci/run: starts Debian's docker-registry
# (CNCF distribution) on 127.0.0.1:5000 unless one already answers, and
# exports NIXDOCK_TEST_REGISTRY for the tests.
start_registry() {
  NIXDOCK_TEST_REGISTRY=127.0.0.1:5000
  export NIXDOCK_TEST_REGISTRY
  if curl -fsS "http://$NIXDOCK_TEST_REGISTRY/v2/" >/dev/null 2>&1; then
    return
  fi
  dir=$(mktemp -d /tmp/nixdock-registry.XXXXXX)
  cat > "$dir/config.yml" <<CONF
version: 0.1
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:5000
log:
  level: error
CONF
  nohup docker-registry serve "$dir/config.yml" > "$dir/log" 2>&1 &
  i=0
  until curl -fsS "http://$NIXDOCK_TEST_REGISTRY/v2/" >/dev/null 2>&1; do
    i=$((i+1))
    if [ $i -gt 50 ]; then echo "registry did not start: $(cat "$dir/log")" >&2; return 1; fi
    sleep 0.1
  done
}
