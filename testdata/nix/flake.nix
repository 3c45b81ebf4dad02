# The test images as a flake, for the README's `installable: .#image`:
# self-contained (no inputs), so it evaluates offline. Pure evaluation has
# no builtins.currentSystem: each system passes its own.
{
  outputs = { self }:
    let
      forSystem = system: {
        inherit (import ./hello.nix { inherit system; }) image imageGz stream;
        inherit (import ./unreproducible.nix { inherit system; }) random;
        default = (import ./hello.nix { inherit system; }).image;
      };
    in
    {
      packages = builtins.listToAttrs (map (system: { name = system; value = forSystem system; })
        [ "x86_64-linux" "aarch64-linux" ]);
    };
}
