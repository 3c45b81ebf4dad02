# Images for nixdock lint's tests: `clean` triggers no rule; each `bad*`
# image triggers a few (named beside it). Programs are stand-ins: files
# that start with an ELF header and carry the strings nixdock lint looks for
# (library names, resolver calls), since nixpkgs cannot be fetched here.
let
  lib = import ./lib.nix { };
  tarFlags = "--sort=name --mtime=@1 --owner=0 --group=0 --numeric-owner --hard-dereference --format=gnu";

  # withRoot adds a layer with the files of `root` at the image root, as
  # dockerTools' copyToRoot does. rootTarFlags set its mtimes and owners.
  withRoot = { image, root, rootTarFlags ? tarFlags, historyCreated ? "1970-01-01T00:00:01Z" }:
    derivation {
      name = "${image.name}-root.tar";
      system = lib.system;
      builder = "/bin/sh";
      PATH = "/usr/bin:/bin";
      inherit image root rootTarFlags tarFlags historyCreated;
      args = [ "-eu" "-c" (builtins.readFile ./lint-root.sh) ];
    };

  # elf writes a stand-in program: an ELF header and the given strings.
  elf = strings: ''printf '\177ELF\002\001\001\000\000\000\000\000\000\000\000\000%s\000' ${builtins.concatStringsSep " " (map (s: "'${s}'") strings)}'';

  # A TLS and networking glibc client, like curl.
  fetcher = lib.mkPackage {
    name = "fetcher-1.0";
    script = ''
      mkdir -p $out/bin $out/share/fetcher
      ${elf [ "libssl.so.3" "libc.so.6" "GLIBC_2.34" "getaddrinfo" "getpwnam" ]} > $out/bin/fetcher
      chmod 0555 $out/bin/fetcher
      echo "fetches URLs" > $out/share/fetcher/README
    '';
  };

  # A program with no runtime needs, and a data file that is not executable.
  app = lib.mkPackage {
    name = "app-1.0";
    script = ''
      mkdir -p $out/bin $out/share/app
      ${elf [ "static" ]} > $out/bin/app
      chmod 0555 $out/bin/app
      echo "app documentation" > $out/share/app/README
    '';
  };

  # A stand-in for glibcLocales.
  locales = lib.mkPackage {
    name = "glibc-locales-2.40";
    script = ''
      mkdir -p $out/lib/locale
      echo "en_US.UTF-8 locale data" > $out/lib/locale/locale-archive
    '';
  };

  # Everything a networked, TLS-using program needs at the image root.
  rootfs = lib.mkPackage {
    name = "rootfs-1.0";
    deps = [ fetcher locales ];
    script = ''
      mkdir -p $out/etc/ssl/certs $out/bin $out/tmp
      printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n' > $out/etc/passwd
      printf 'root:x:0:\napp:x:1000:\n' > $out/etc/group
      printf 'passwd: files\ngroup: files\nhosts: files dns\n' > $out/etc/nsswitch.conf
      printf 'http\t80/tcp\nhttps\t443/tcp\n' > $out/etc/services
      printf 'ip\t0\tIP\ntcp\t6\tTCP\n' > $out/etc/protocols
      echo "-----BEGIN CERTIFICATE-----" > $out/etc/ssl/certs/ca-bundle.crt
      ln -s ${fetcher}/bin/fetcher $out/bin/fetcher
      echo ${locales} > /dev/null
    '';
  };

  cleanContents = lib.mkPackage {
    name = "clean-contents";
    deps = [ fetcher locales ];
    script = ''
      mkdir -p $out
      echo ${fetcher} ${locales} > $out/paths
    '';
  };

  clean = withRoot {
    root = rootfs;
    image = lib.mkImage {
      name = "clean";
      contents = cleanContents;
      config = {
        # /bin/fetcher is a symlink into the store: resolved within the image.
        Entrypoint = [ "/bin/fetcher" ];
        Cmd = [ "https://example.org" ];
        User = "app:app";
        Env = [ "PATH=/bin" "LANG=en_US.UTF-8" "LOCALE_ARCHIVE=${locales}/lib/locale/locale-archive" "SSL_CERT_FILE=/etc/ssl/certs/ca-bundle.crt" ];
        ExposedPorts = { "8080/tcp" = { }; };
        Labels = { "org.opencontainers.image.base.name" = "docker.io/library/alpine@sha256:0000000000000000000000000000000000000000000000000000000000000000"; };
        WorkingDir = "/";
      };
    };
  };

  # badConfig: config-unknown-key, config-type, config-env, config-no-command.
  badConfig = lib.mkImage {
    name = "bad-config";
    contents = app;
    config = {
      Environment = [ "MODE=production" ];
      entrypoint = [ "${app}/bin/app" ];
      Cmd = "${app}/bin/app";
      Env = [ "PATH=${app}/bin" "DEBUG" "=empty" ];
      ExposedPorts = [ "8080/tcp" ];
      Labels = { version = 1; };
    };
  };

  # execMissing: config-exec-missing. execMode: config-exec-mode.
  execMissing = lib.mkImage {
    name = "exec-missing";
    contents = app;
    config = { Entrypoint = [ "/bin/app" ]; Env = [ "PATH=/bin" ]; };
  };
  execMode = lib.mkImage {
    name = "exec-mode";
    contents = app;
    config = { Cmd = [ "${app}/share/app/README" ]; };
  };

  # badRuntime: runtime-ca-certs, runtime-services, runtime-nsswitch,
  # runtime-passwd, runtime-locale, runtime-tmp, config-exec-interpreter.
  wrapper = lib.mkPackage {
    name = "fetch-wrapper-1.0";
    deps = [ fetcher ];
    script = ''
      mkdir -p $out/bin
      printf '#!/bin/bash\nexec ${fetcher}/bin/fetcher "$@"\n' > $out/bin/fetch
      chmod 0555 $out/bin/fetch
    '';
  };
  badRuntime = lib.mkImage {
    name = "bad-runtime";
    contents = wrapper;
    config = {
      Entrypoint = [ "${wrapper}/bin/fetch" ];
      User = "app";
      Env = [ "LANG=en_US.UTF-8" ];
    };
  };

  # badSize (one layer): size-duplicate, size-symlink-loop, size-single-layer.
  blob = "head -c 131072 /dev/zero | tr '\\000' 'x'";
  vendorA = lib.mkPackage {
    name = "vendor-a-1.0";
    script = "mkdir -p $out/share; ${blob} > $out/share/bundle.js";
  };
  vendorB = lib.mkPackage {
    name = "vendor-b-1.0";
    script = "mkdir -p $out/lib; ${blob} > $out/lib/bundle.js";
  };
  # tzdata's zoneinfo/posix -> . copied with symlinks dereferenced.
  tzdata = lib.mkPackage {
    name = "tzdata-2024a";
    script = ''
      z=$out/share/zoneinfo
      mkdir -p $z/Europe
      head -c 2048 /dev/zero | tr '\000' 'u' > $z/UTC
      head -c 3072 /dev/zero | tr '\000' 'b' > $z/Europe/Berlin
      d=$z
      for i in 1 2 3 4; do
        mkdir -p $d/posix/Europe
        cp $z/UTC $d/posix/UTC
        cp $z/Europe/Berlin $d/posix/Europe/Berlin
        d=$d/posix
      done
    '';
  };
  sizeContents = lib.mkPackage {
    name = "size-contents";
    deps = [ app vendorA vendorB tzdata ];
    script = "mkdir -p $out; echo ${app} ${vendorA} ${vendorB} ${tzdata} > $out/paths";
  };
  badSize = lib.mkImage {
    name = "bad-size";
    contents = sizeContents;
    single = true;
    config = { Entrypoint = [ "${app}/bin/app" ]; };
  };

  # badHazard: hazard-created, hazard-history-date, hazard-mtime,
  # hazard-owner, hazard-unpinned-base.
  hazardRoot = lib.mkPackage {
    name = "hazard-root-1.0";
    script = ''
      mkdir -p $out/var/lib/app $out/tmp
      echo state > $out/var/lib/app/state
    '';
  };
  badHazard = withRoot {
    root = hazardRoot;
    rootTarFlags = "--sort=name --mtime=@1700000000 --owner=30001 --group=30000 --numeric-owner --format=gnu";
    historyCreated = "now";
    image = lib.mkImage {
      name = "bad-hazard";
      contents = app;
      created = "now";
      config = {
        Entrypoint = [ "${app}/bin/app" ];
        Labels = { "org.opencontainers.image.base.name" = "docker.io/library/alpine:3.19"; };
      };
    };
  };
in
{
  inherit clean badConfig execMissing execMode badRuntime badSize badHazard;
}
