{
  description = "A container image built with nixpkgs dockerTools, checked by nixdock";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.11";

  outputs = { self, nixpkgs }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" ];
      forAll = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
    in
    {
      packages = forAll (pkgs: rec {
        # One layer per store path (up to maxLayers), a fixed creation date
        # (the default, 1970-01-01): the same inputs give the same bytes.
        image = pkgs.dockerTools.buildLayeredImage {
          name = "hello";
          tag = "latest";
          contents = [ pkgs.hello pkgs.cacert ];
          config = {
            Cmd = [ "${pkgs.hello}/bin/hello" ];
            Env = [ "SSL_CERT_FILE=${pkgs.cacert}/etc/ssl/certs/ca-bundle.crt" ];
          };
          # created = "now";  # would make every build differ: nixdock says so
        };
        default = image;
      });
    };
}
