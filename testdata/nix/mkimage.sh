# Builds a docker-archive from the closure file written by
# exportReferencesGraph. Variables: closure, configJSON, created, compress,
# tarFlags, imageName, imageTag, out.
paths=$(grep '^/nix/store/' closure | grep -v '\.drv$' | sort -u)
work=$PWD/image
mkdir -p "$work"
layers=""
diffids=""
history=""
# single=1 puts the whole closure in one layer, as dockerTools.buildImage does.
if [ "${single:-}" = 1 ]; then groups=all; else groups=$paths; fi
for p in $groups; do
  if [ "$p" = all ]; then
    tar -C / $tarFlags -cf layer.tar $(for q in $paths; do echo "${q#/}"; done)
  else
    tar -C / $tarFlags -cf layer.tar "${p#/}"
  fi
  sum=$(sha256sum layer.tar | cut -d' ' -f1)
  mkdir -p "$work/$sum"
  mv layer.tar "$work/$sum/layer.tar"
  layers="$layers${layers:+,}\"$sum/layer.tar\""
  diffids="$diffids${diffids:+,}\"sha256:$sum\""
  history="$history${history:+,}{\"created\":\"1970-01-01T00:00:01Z\",\"comment\":\"store path ${p#/nix/store/}\"}"
done
if [ "$created" = now ]; then created=$(date -u +%Y-%m-%dT%H:%M:%S.%NZ); fi
printf '{"architecture":"amd64","config":%s,"created":"%s","history":[%s],"os":"linux","rootfs":{"diff_ids":[%s],"type":"layers"}}' \
  "$configJSON" "$created" "$history" "$diffids" > config.json
csum=$(sha256sum config.json | cut -d' ' -f1)
mv config.json "$work/$csum.json"
printf '[{"Config":"%s.json","RepoTags":["%s:%s"],"Layers":[%s]}]' "$csum" "$imageName" "$imageTag" "$layers" > "$work/manifest.json"
(cd "$work" && LC_ALL=C tar $tarFlags -cf ../image.tar *)
case "$compress" in
  none) mv image.tar "$out" ;;
  gzip) gzip -9n < image.tar > "$out" ;;
  zstd) zstd -q -19 --no-progress < image.tar > "$out" ;;
esac
