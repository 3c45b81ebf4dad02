# Images that are deliberately not reproducible, one cause each, for the
# verifier's tests. Every attribute is an image whose `app` package (or config)
# differs between two builds:
#   date       a build timestamp written into a file (dateStream: the same
#              as a stream script)
#   random     random bytes written into a file
#   order      a file list in directory (creation) order
#   buildPath  a temporary build directory name embedded in a file
#   createdNow the image config's created = "now"
#   dirOrder   a file list in readdir order of the build directory: the same
#              on one filesystem, different under reproduce --disorderfs
#   consequence  the date package plus a package that embeds its checksum
#                and one that copies its file (no reference, no store path in
#                the bytes, only a build-time input): the checksum and copy
#                packages are consequences, the date one the culprit
{ system ? builtins.currentSystem }:
let
  lib = import ./lib.nix { inherit system; };

  base = lib.mkPackage {
    name = "base-files-1.0";
    script = ''
      mkdir -p $out/etc
      echo "root:x:0:0:root:/root:/bin/sh" > $out/etc/passwd
    '';
  };

  app = name: script: lib.mkPackage {
    name = "${name}-1.0";
    deps = [ base ];
    script = ''
      mkdir -p $out/bin $out/share/${name}
      printf '#!/bin/sh\necho ${name}\n' > $out/bin/${name}
      chmod 0555 $out/bin/${name}
      cat ${base}/etc/passwd > /dev/null
      echo ${base} > $out/share/${name}/base
    '' + script;
  };

  image = name: pkg: extra: lib.mkImage ({
    inherit name;
    contents = pkg;
    config = { Cmd = [ "${pkg}/bin/${name}" ]; Env = [ "PATH=${pkg}/bin" ]; };
  } // extra);

  date = app "stamp" ''
    date -u '+built at %Y-%m-%d %H:%M:%S.%N UTC' > $out/share/stamp/build-info
  '';
  random = app "salt" ''
    od -An -tx1 -N16 /dev/urandom | tr -d ' \n' > $out/share/salt/seed
  '';
  order = app "listing" ''
    # Files created in a random order on a tmpfs (the sandbox's /dev/shm, or
    # /tmp without a sandbox), listed in directory order, as a build tool that
    # globs without sorting does. tmpfs returns creation order.
    dir=$(mktemp -d /dev/shm/files.XXXXXX 2>/dev/null || mktemp -d)
    for f in $(printf '%s\n' alpha bravo charlie delta echo foxtrot golf hotel | shuf); do
      echo "$f" > $dir/$f
    done
    ls -U $dir > $out/share/listing/files.txt
    rm -rf $dir
  '';
  buildPath = app "compiler" ''
    tmp=$(mktemp -d "$PWD/cc.XXXXXXXX")
    echo "object compiled in $tmp/main.o" > $out/share/compiler/debug-info
  '';
  # Lists its build directory in readdir order: reproducible on one
  # filesystem, but not when the order changes (reproduce --disorderfs).
  dirOrder = app "dirlist" ''
    mkdir files
    for f in alpha bravo charlie delta echo foxtrot golf hotel india juliet; do
      echo "$f" > files/$f
    done
    ls -U files > $out/share/dirlist/files.txt
  '';
  checksum = lib.mkPackage {
    name = "stamp-checksum-1.0";
    deps = [ date ];
    script = ''
      mkdir -p $out/share
      sha256sum ${date}/share/stamp/build-info > $out/share/stamp.sha256
    '';
  };
  # Copies the date package's file, as cp -r ${stamp}/share/stamp $out/...
  # does: it differs only because the date package does.
  copied = lib.mkPackage {
    name = "stamp-copy-1.0";
    script = ''
      mkdir -p $out/share
      cp -r ${date}/share/stamp $out/share/
    '';
  };
  both = lib.mkPackage {
    name = "stamp-bundle-1.0";
    deps = [ date checksum copied ];
    script = ''
      mkdir -p $out/bin $out/share
      printf '#!/bin/sh\ncat ${checksum}/share/stamp.sha256\n' > $out/bin/stamp-bundle
      chmod 0555 $out/bin/stamp-bundle
      echo ${copied} > $out/share/stamp-copy-path
    '';
  };
in
{
  date = image "stamp" date { };
  # The date package as a stream script (streamLayeredImage-style).
  dateStream = lib.mkStream {
    name = "stamp";
    contents = date;
    config = { Cmd = [ "${date}/bin/stamp" ]; };
  };
  random = image "salt" random { };
  order = image "listing" order { };
  buildPath = image "compiler" buildPath { };
  createdNow = image "hello-now" base { created = "now"; config = { Env = [ "PATH=/bin" ]; }; };
  consequence = image "stamp-bundle" both { };
  dirOrder = image "dirlist" dirOrder { };
  packages = { inherit date random order buildPath dirOrder checksum copied both base; };
}
