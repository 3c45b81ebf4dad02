# Streams a docker-archive to stdout with the RepoTags of manifest.json
# replaced (scripts/bench-diff: diffoci's store keys images by tag).
# Usage: python3 scripts/retag-archive.py ARCHIVE NAME:TAG > out.tar
import io, json, sys, tarfile

src, tag = sys.argv[1], sys.argv[2]
with tarfile.open(src, "r|") as tin, tarfile.open(fileobj=sys.stdout.buffer, mode="w|", format=tarfile.GNU_FORMAT) as tout:
    for m in tin:
        if m.name == "manifest.json":
            data = json.load(tin.extractfile(m))
            data[0]["RepoTags"] = [tag]
            raw = json.dumps(data).encode()
            m.size = len(raw)
            tout.addfile(m, io.BytesIO(raw))
        elif m.isfile():
            tout.addfile(m, tin.extractfile(m))
        else:
            tout.addfile(m)
