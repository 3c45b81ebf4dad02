# Appends a root layer to a docker-archive written by mkimage.sh, as
# dockerTools' copyToRoot/extraCommands layer does: the files of $root at the
# image root, tarred with $rootTarFlags. Variables: image (an uncompressed
# archive from lib.mkImage), root, rootTarFlags, tarFlags, historyCreated
# ("now" reads the clock), out.
mkdir img rootdir
tar -C img -xf "$image"
cp -a "$root"/. rootdir/
chmod -R u+w rootdir
if [ -d rootdir/tmp ]; then chmod 1777 rootdir/tmp; fi
tar -C rootdir $rootTarFlags -cf layer.tar .
sum=$(sha256sum layer.tar | cut -d' ' -f1)
mkdir "img/$sum"
mv layer.tar "img/$sum/layer.tar"
cd img
cfg=$(sed -n 's/.*"Config":"\([^"]*\)".*/\1/p' manifest.json)
hc=$historyCreated
if [ "$hc" = now ]; then hc=$(date -u +%Y-%m-%dT%H:%M:%S.%NZ); fi
sed -e "s|\],\"os\":\"linux\",\"rootfs\"|,{\"created\":\"$hc\",\"comment\":\"root layer\"}],\"os\":\"linux\",\"rootfs\"|" \
    -e "s|\],\"type\":\"layers\"}}|,\"sha256:$sum\"],\"type\":\"layers\"}}|" "$cfg" > ../config.json
rm "$cfg"
csum=$(sha256sum ../config.json | cut -d' ' -f1)
mv ../config.json "$csum.json"
sed -e "s|\"Config\":\"[^\"]*\"|\"Config\":\"$csum.json\"|" -e "s|\]}\]\$|,\"$sum/layer.tar\"]}]|" manifest.json > ../manifest.json
mv ../manifest.json manifest.json
LC_ALL=C tar $tarFlags -cf "$out" *
