# A small reproducible image: a "hello" program, the data it reads, and an Env.
# Attributes: image (docker-archive .tar, one layer per store path),
# imageGz (.tar.gz, buildLayeredImage's default), imageZst (.tar.zst),
# single (one layer for the whole closure, as buildImage) and stream (a
# streamLayeredImage-style script). `greeting` changes the inputs.
{ greeting ? "Hello, world", system ? builtins.currentSystem }:
let
  lib = import ./lib.nix { inherit system; };

  greetingData = lib.mkPackage {
    name = "greeting-data-1.0";
    pname = "greeting-data";
    version = "1.0";
    meta = { description = "The greeting hello prints"; license = "MIT"; };
    script = ''
      mkdir -p $out/share/greeting
      echo ${builtins.toJSON greeting} > $out/share/greeting/text
    '';
  };

  hello = lib.mkPackage {
    name = "hello-2.12.1";
    pname = "hello";
    version = "2.12.1";
    deps = [ greetingData ];
    meta = { description = "Prints a friendly greeting"; license = "GPL-3.0-or-later"; homepage = "https://www.gnu.org/software/hello/"; };
    script = ''
      mkdir -p $out/bin $out/share/doc/hello
      printf '#!/bin/sh\ncat ${greetingData}/share/greeting/text\n' > $out/bin/hello
      chmod 0555 $out/bin/hello
      echo "hello prints a greeting" > $out/share/doc/hello/README
      ln -s hello $out/bin/hi
    '';
  };

  config = {
    Cmd = [ "${hello}/bin/hello" ];
    Env = [ "PATH=${hello}/bin" "LANG=C.UTF-8" ];
    WorkingDir = "/";
  };
  args = { name = "hello"; tag = "1.0"; contents = hello; inherit config; };
in
{
  inherit hello greetingData;
  image = lib.mkImage args;
  imageGz = lib.mkImage (args // { compress = "gzip"; });
  imageZst = lib.mkImage (args // { compress = "zstd"; });
  single = lib.mkImage (args // { single = true; });
  stream = lib.mkStream args;
}
