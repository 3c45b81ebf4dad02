# A build that takes two minutes: tests interrupt it while it runs.
let
  lib = import ./lib.nix { };
in
{
  slow = lib.mkPackage {
    name = "slow-1.0";
    script = ''
      echo started > started
      sleep 120
      mkdir $out
    '';
  };
}
