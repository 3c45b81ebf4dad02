package action

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/nixdock/nixdock-action/recsig"
	"github.com/nixdock/nixdock-action/sign"
)

// signsRecords reports whether the build mode signs its record: keyless,
// with an OIDC token to be had (the job has id-token: write). Without
// one (a pull request from a fork) the record stays unsigned, and
// verify reports the builder as self-reported.
func (x *run) signsRecords() bool {
	return x.in.Keyless && x.r.Getenv("ACTIONS_ID_TOKEN_REQUEST_URL") != "" && x.r.Getenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN") != ""
}

// signRecord signs the record at path with the job's own OIDC identity
// (a Fulcio certificate) into recsig.Path(path), uploaded with it.
func (x *run) signRecord(ctx context.Context, path string) (string, error) {
	fulcio := x.r.Getenv(EnvFulcioURL)
	if fulcio == "" {
		fulcio = sign.DefaultFulcioURL
	}
	s, err := sign.KeylessSigner(ctx, sign.KeylessOptions{FulcioURL: fulcio, RekorURL: sign.DefaultRekorURL,
		Getenv: x.r.Getenv, Mask: x.r.Mask})
	if err != nil {
		return "", fmt.Errorf("signing the build record: %w", err)
	}
	return recsig.SignFile(path, s.SV, s.Cert)
}

// recordSigOptions are what a build record's signature must prove in the
// verify and publish modes: signed by a job of the builder workflow
// (EnvBuilderWorkflow) at its commit, in this run of this repository,
// through GitHub's OIDC issuer, chained to Sigstore's public Fulcio (or
// EnvFulcioRoots). nil when the builder workflow is not known: signatures
// are then not read.
func (x *run) recordSigOptions() (*recsig.Options, error) {
	ref := x.r.Getenv(EnvBuilderWorkflow)
	if ref == "" {
		return nil, nil
	}
	file, sha, ok := parseBuilderWorkflow(ref)
	if !ok {
		return nil, usage(fmt.Errorf("%s %q is not OWNER/REPO/.github/workflows/FILE@COMMIT", EnvBuilderWorkflow, ref))
	}
	repo, runID := x.r.Getenv("GITHUB_REPOSITORY"), x.r.Getenv("GITHUB_RUN_ID")
	if repo == "" || runID == "" {
		return nil, usage(errors.New("the runner does not say which repository and run this is (GITHUB_REPOSITORY, GITHUB_RUN_ID): record signatures cannot be bound to the run"))
	}
	o := &recsig.Options{
		IdentityRegexp:   builderIdentity(file),
		Issuer:           githubIssuer,
		SignerDigest:     sha,
		SourceRepository: githubServer + "/" + repo,
		RunURIPrefix:     githubServer + "/" + repo + "/actions/runs/" + runID + "/",
	}
	var err error
	if roots := x.r.Getenv(EnvFulcioRoots); roots != "" {
		data, rerr := os.ReadFile(roots)
		if rerr != nil {
			return nil, usage(fmt.Errorf("%s: %w", EnvFulcioRoots, rerr))
		}
		o.Roots, o.Intermediates, err = recsig.LoadTrust(data)
		if err != nil {
			return nil, usage(fmt.Errorf("%s %s: %w", EnvFulcioRoots, roots, err))
		}
		return o, nil
	}
	if o.Roots, o.Intermediates, err = recsig.PublicGood(); err != nil {
		return nil, err
	}
	return o, nil
}

// builderIdentity matches the certificate identity of a job of the workflow
// file OWNER/REPO/.github/workflows/FILE at any ref: the commit is checked
// apart (the Build Signer Digest). GitHub's owner and repository names are
// case-insensitive, the file's path is not.
func builderIdentity(file string) *regexp.Regexp {
	owner, rest, _ := strings.Cut(file, "/")
	repo, path, _ := strings.Cut(rest, "/")
	return regexp.MustCompile("^" + regexp.QuoteMeta(githubServer+"/") + "(?i:" + regexp.QuoteMeta(owner+"/"+repo) + ")" +
		regexp.QuoteMeta("/"+path+"@") + `\S+$`)
}
