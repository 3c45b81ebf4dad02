# Writes a script that streams a docker-archive of the closure to stdout.
paths=$(grep '^/nix/store/' closure | grep -v '\.drv$' | sort -u | tr '\n' ' ')
cat > "$out" <<SCRIPT
#!/bin/sh
# Streams the docker-archive of $imageName:$imageTag to stdout.
set -eu
PATH=/usr/bin:/bin
work=\$(mktemp -d)
trap 'rm -rf "\$work"' EXIT
layers=""; diffids=""; history=""
for p in $paths; do
  tar -C / $tarFlags -cf "\$work/layer.tar" "\${p#/}"
  sum=\$(sha256sum "\$work/layer.tar" | cut -d' ' -f1)
  mkdir -p "\$work/img/\$sum"
  mv "\$work/layer.tar" "\$work/img/\$sum/layer.tar"
  layers="\$layers\${layers:+,}\"\$sum/layer.tar\""
  diffids="\$diffids\${diffids:+,}\"sha256:\$sum\""
  history="\$history\${history:+,}{\"created\":\"1970-01-01T00:00:01Z\",\"comment\":\"store path \${p#/nix/store/}\"}"
done
printf '{"architecture":"amd64","config":%s,"created":"%s","history":[%s],"os":"linux","rootfs":{"diff_ids":[%s],"type":"layers"}}' '$configJSON' '$created' "\$history" "\$diffids" > "\$work/config.json"
csum=\$(sha256sum "\$work/config.json" | cut -d' ' -f1)
mv "\$work/config.json" "\$work/img/\$csum.json"
printf '[{"Config":"%s.json","RepoTags":["%s:%s"],"Layers":[%s]}]' "\$csum" '$imageName' '$imageTag' "\$layers" > "\$work/img/manifest.json"
cd "\$work/img" && LC_ALL=C tar $tarFlags -cf - *
SCRIPT
chmod +x "$out"
