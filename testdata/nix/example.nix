# The bundled example: a realistic, runnable image, built without nixpkgs.
# `hello` is a C program (example/hello.c) compiled in the Nix sandbox with the
# host's gcc (through --option sandbox-paths '/bin /usr /lib /lib64'), linked
# statically so that the image needs no libc; it prints a greeting read from
# the greeting-data package, its version, and stages its output in /tmp. The
# image runs it as user `hello` (uid 1000), with a root layer (as dockerTools'
# copyToRoot) holding /bin/hello, /etc/passwd, /etc/group and /tmp (1777).
# `nixdock lint` reports nothing on it.
#
#   nix-build --option substituters '' --option sandbox-paths '/bin /usr /lib /lib64' \
#     testdata/nix/example.nix -A image
#
# Attributes: image (docker-archive .tar), imageGz (.tar.gz), hello,
# greetingData, root.
let
  lib = import ./lib.nix { };
  tarFlags = "--sort=name --mtime=@1 --owner=0 --group=0 --numeric-owner --hard-dereference --format=gnu";
  version = "1.0";

  greetingData = lib.mkPackage {
    name = "greeting-data-${version}";
    pname = "greeting-data";
    inherit version;
    meta = { description = "The greeting the example's hello prints"; license = "CC0-1.0"; };
    script = ''
      mkdir -p $out/share/greeting
      echo Hello > $out/share/greeting/text
    '';
  };

  # Reproducible: the build directory is mapped to "." (nixdock reproduce
  # --vary-build-dir changes it), the build id is a hash of the contents,
  # and the seed gcc uses for generated symbol names is fixed; no __DATE__,
  # no debug information (-s).
  hello = lib.mkPackage {
    name = "hello-${version}";
    pname = "hello";
    inherit version;
    deps = [ greetingData ];
    meta = { description = "Prints a greeting read from a data package"; license = "MIT"; };
    script = ''
      cp ${./example/hello.c} hello.c
      mkdir -p $out/bin
      gcc -static -O2 -s -Wall -frandom-seed=hello \
        -ffile-prefix-map=$PWD=. -Wl,--build-id=sha1 \
        -DGREETING_FILE='"${greetingData}/share/greeting/text"' -DVERSION='"${version}"' \
        -o $out/bin/hello hello.c
      chmod 0555 $out/bin/hello
    '';
  };

  # The files at the image root.
  root = lib.mkPackage {
    name = "hello-root-${version}";
    pname = "hello-root";
    inherit version;
    deps = [ hello ];
    meta = { description = "The example image's root files: /bin, /etc/passwd, /etc/group, /tmp"; license = "MIT"; };
    script = ''
      mkdir -p $out/bin $out/etc $out/tmp
      ln -s ${hello}/bin/hello $out/bin/hello
      printf 'root:x:0:0:root:/root:/bin/hello\nhello:x:1000:1000:hello:/tmp:/bin/hello\n' > $out/etc/passwd
      printf 'root:x:0:\nhello:x:1000:\n' > $out/etc/group
    '';
  };

  # withRoot adds a layer with the files of `root` at the image root, as
  # lint.nix does (lint-root.sh; /tmp gets mode 1777). fromImage and
  # copyToRoot name the inputs for nix/sbom-meta.nix's walk.
  withRoot = { name, image, root }:
    derivation
      {
        inherit name;
        system = lib.system;
        builder = "/bin/sh";
        PATH = "/usr/bin:/bin";
        inherit image root tarFlags;
        rootTarFlags = tarFlags;
        historyCreated = "1970-01-01T00:00:01Z";
        args = [ "-eu" "-c" (builtins.readFile ./lint-root.sh) ];
      } // { fromImage = image; copyToRoot = root; };

  image = withRoot {
    name = "hello-${version}.tar";
    inherit root;
    image = lib.mkImage {
      name = "hello";
      tag = version;
      contents = hello;
      created = "1970-01-01T00:00:01Z";
      config = {
        Entrypoint = [ "/bin/hello" ];
        Cmd = [ "world" ];
        User = "hello:hello";
        Env = [ "PATH=/bin" "LANG=C.UTF-8" ];
        WorkingDir = "/";
        Labels = {
          "org.opencontainers.image.title" = "hello";
          "org.opencontainers.image.version" = version;
        };
      };
    };
  };

  imageGz = derivation {
    name = "hello-${version}.tar.gz";
    system = lib.system;
    builder = "/bin/sh";
    PATH = "/usr/bin:/bin";
    inherit image;
    args = [ "-eu" "-c" "gzip -9n < $image > $out" ];
  } // { fromImage = image; };
in
{
  inherit image imageGz hello greetingData root;
}
