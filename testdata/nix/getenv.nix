# What impure evaluation sees of the caller's environment: nixdock's tests
# evaluate `env` with secrets set and check that Nix reads none of them.
let
  names = [
    "INPUT_GITHUB-TOKEN" "INPUT_COSIGN-PASSWORD" "GITHUB_TOKEN" "COSIGN_PASSWORD"
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN" "ACTIONS_ID_TOKEN_REQUEST_URL" "NPM_TOKEN" "NIXDOCK_TEST_PLAIN"
  ];
in
{
  env = builtins.listToAttrs (map (n: { name = n; value = builtins.getEnv n; }) names);
}
