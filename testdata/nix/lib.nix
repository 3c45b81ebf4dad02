# Self-contained image builders for tests: no nixpkgs. Builders run the host's
# /bin/sh, coreutils and GNU tar through the sandbox paths
# (--option sandbox-paths '/bin /usr /lib /lib64'), and write the
# docker-archive layout that nixpkgs dockerTools writes: one layer per store
# path (like buildLayeredImage), manifest.json, and a config with Env, history
# and a fixed created date.
# `system` defaults to the evaluating machine's; a flake passes its own
# (pure evaluation has no builtins.currentSystem).
{ system ? builtins.currentSystem }:
let
  path = "/usr/bin:/bin";

  # mkPackage runs a shell script that fills $out.
  mkPackage = { name, script, deps ? [ ], meta ? { }, pname ? null, version ? null }:
    derivation ({
      inherit name system;
      builder = "/bin/sh";
      args = [ "-eu" "-c" script ];
      PATH = path;
      deps = deps;
    } // (if pname == null then { } else { inherit pname; })
      // (if version == null then { } else { inherit version; }))
    // { inherit meta; };

  # The tar flags dockerTools uses for reproducible layers.
  tarFlags = "--sort=name --mtime=@1 --owner=0 --group=0 --numeric-owner --hard-dereference --format=gnu";

  # mkImage writes a docker-archive of the closure of `contents`, one layer per
  # store path, sorted. `created` is the image's creation date ("now" reads the
  # clock, as dockerTools does). `compress` is "none", "gzip" or "zstd".
  mkImage = { name, tag ? "latest", contents, config ? { }, created ? "1970-01-01T00:00:01Z", compress ? "none", single ? false }:
    let
      ext = { none = ".tar"; gzip = ".tar.gz"; zstd = ".tar.zst"; }.${compress};
      configJSON = builtins.toJSON config;
    in
    derivation {
      name = "${name}${ext}";
      inherit system;
      builder = "/bin/sh";
      PATH = path;
      exportReferencesGraph = [ "closure" contents ];
      inherit configJSON created compress tarFlags;
      single = if single then "1" else "0";
      imageName = name;
      imageTag = tag;
      args = [ "-eu" "-c" (builtins.readFile ./mkimage.sh) ];
    };

  # mkStream writes an executable script whose stdout is the docker-archive,
  # as streamLayeredImage does. The layers are built at run time from the
  # store paths, so the archive never exists as a file.
  mkStream = { name, tag ? "latest", contents, config ? { }, created ? "1970-01-01T00:00:01Z" }:
    derivation {
      name = "stream-${name}";
      inherit system;
      builder = "/bin/sh";
      PATH = path;
      exportReferencesGraph = [ "closure" contents ];
      configJSON = builtins.toJSON config;
      inherit created tarFlags;
      imageName = name;
      imageTag = tag;
      args = [ "-eu" "-c" (builtins.readFile ./mkstream.sh) ];
    };
in
{
  inherit mkPackage mkImage mkStream system;
}
