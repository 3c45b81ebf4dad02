package childenv

import (
	"slices"
	"testing"
)

func TestScrub(t *testing.T) {
	env := []string{
		"PATH=/bin", "HOME=/root", "NIX_PATH=nixpkgs=/x", "TMPDIR=/tmp", "GITHUB_REPOSITORY=o/r",
		"INPUT_GITHUB-TOKEN=ghs_x", "INPUT_COSIGN-PASSWORD=pw", "INPUT_MODE=build",
		"GITHUB_TOKEN=ghs_y", "GH_TOKEN=z", "ACTIONS_ID_TOKEN_REQUEST_URL=https://x", "ACTIONS_ID_TOKEN_REQUEST_TOKEN=t",
		"ACTIONS_RUNTIME_TOKEN=r", "COSIGN_PASSWORD=p", "COSIGN_KEY=k", "NPM_TOKEN=n", "DB_PASSWORD=d",
		"cachix_auth_token=c", "SIGSTORE_ID_TOKEN=s", "AWS_SECRET_ACCESS_KEY=a",
	}
	got := Scrub(env, []string{"NPM_TOKEN"})
	want := []string{"PATH=/bin", "HOME=/root", "NIX_PATH=nixpkgs=/x", "TMPDIR=/tmp", "GITHUB_REPOSITORY=o/r", "NPM_TOKEN=n"}
	if !slices.Equal(got, want) {
		t.Errorf("Scrub = %q, want %q", got, want)
	}
}

func TestCheckName(t *testing.T) {
	for _, ok := range []string{"NPM_TOKEN", "INPUT_GITHUB-TOKEN", "x"} {
		if err := CheckName(ok); err != nil {
			t.Errorf("CheckName(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "A=B", "1X", "a b"} {
		if CheckName(bad) == nil {
			t.Errorf("CheckName(%q) accepted it", bad)
		}
	}
}
