package sign

import (
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
)

// TestPolicyBuilderIdentity: with an expected builder identity only the
// counted builders whose records that identity signed count, for the
// builders and for the hosts; unsigned builders never match.
func TestPolicyBuilderIdentity(t *testing.T) {
	const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	ref, err := name.NewDigest("example.com/app@" + digest)
	if err != nil {
		t.Fatal(err)
	}
	const build = "https://github.com/o/r/.github/workflows/nixdock-build.yml@refs/tags/v1"
	predicate := &Reproducible{Verdict: VerdictReproducible, MinBuilders: 2, AgreedBuilders: 3, AgreedHosts: 2,
		Digests: AgreedDigests{Manifest: digest}, Builders: []BuilderBrief{
			{ID: "a", Host: "h1", Counts: true, Identity: "signed by " + build, Signer: build},
			{ID: "b", Host: "h1", Counts: true, Identity: "signed by " + build, Signer: build},
			{ID: "c", Host: "h2", Counts: true, Identity: "self-reported"},
		}}
	for _, c := range []struct {
		name            string
		re              string
		builders, hosts int
		want            string
	}{
		{"no expectation", "", 3, 2, ""},
		{"the builder workflow", `^https://github\.com/o/r/\.github/workflows/nixdock-build\.yml@`, 2, 1, ""},
		{"the builder workflow on two hosts", `^https://github\.com/o/r/\.github/workflows/nixdock-build\.yml@`, 2, 2, "ran on 1 host(s), the policy requires 2"},
		{"the builder workflow, three builders", `^https://github\.com/o/r/\.github/workflows/nixdock-build\.yml@`, 3, 0, "2 independent builder(s) agreed with records signed by an identity matching"},
		{"another identity", `^https://github\.com/o/r/\.github/workflows/nixdock\.yml@`, 1, 0, "0 independent builder(s) agreed with records signed"},
		{"anything, unsigned never matches", `.*`, 3, 0, "2 independent builder(s) agreed with records signed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			opts := VerifyOptions{MinBuilders: c.builders, MinHosts: c.hosts}
			if c.re != "" {
				opts.BuilderIdentity = regexp.MustCompile(c.re)
			}
			v := &Verification{Reproducible: predicate}
			v.policy(ref, opts)
			switch got := strings.Join(v.Problems, "; "); {
			case c.want == "" && got != "":
				t.Errorf("problems %q, want none", got)
			case c.want != "" && !strings.Contains(got, c.want):
				t.Errorf("problems %q, want %q", got, c.want)
			}
		})
	}
}
