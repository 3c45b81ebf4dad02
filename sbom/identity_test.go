package sbom

import (
	"context"
	"encoding/json"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/nixdock/nixdock-action/image"
	"github.com/nixdock/nixdock-action/internal/nixtest"
	"github.com/nixdock/nixdock-action/internal/schematest"
)

// TestImagePURLEveryMode: the image purl is pkg:oci/<last path element>
// @<manifest digest>[?repository_url=REGISTRY/PATH] from a record (the
// archive's RepoTags, or the derivation's imageName), with --name, and
// from a registry by tag and by digest; and it is what ImagePURL gives
// for the same reference, which attestation subjects use.
func TestImagePURLEveryMode(t *testing.T) {
	res := nixtest.Build(t, "", "hello.nix", "image")
	dg := res.Record.Image.ManifestDigest
	purlOf := func(d *Document, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return d.Subject.purl()
	}
	local := "pkg:oci/hello@" + dg
	if got := purlOf(FromRecord(res.Record, Options{Image: res.Image})); got != local {
		t.Errorf("record with its image (RepoTags hello:1.0): %s, want %s", got, local)
	}
	if got := purlOf(FromRecord(res.Record, Options{})); got != local {
		t.Errorf("record alone (imageName hello): %s, want %s", got, local)
	}
	for ref, want := range map[string]string{
		"ghcr.io/me/Hello:v1":  "pkg:oci/hello@" + dg + "?repository_url=ghcr.io%2Fme%2Fhello",
		"127.0.0.1:5055/hello": "pkg:oci/hello@" + dg + "?repository_url=127.0.0.1:5055%2Fhello",
	} {
		got := purlOf(FromRecord(res.Record, Options{Name: ref}))
		if same, err := ImagePURL(ref, dg); got != want || same != got || err != nil {
			t.Errorf("--name %s: %s (ImagePURL %s, %v), want %s", ref, got, same, err, want)
		}
	}
	if _, err := FromRecord(res.Record, Options{Name: "Not A Reference"}); err == nil || !strings.Contains(err.Error(), "Not A Reference") {
		t.Errorf("a bad name: %v", err)
	}

	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	tagged, err := name.ParseReference(host + "/team/hello:1.0")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tagged, res.Image); err != nil {
		t.Fatal(err)
	}
	pushed, err := remote.Get(tagged)
	if err != nil {
		t.Fatal(err)
	}
	want := "pkg:oci/hello@" + pushed.Digest.String() + "?repository_url=" + host + "%2Fteam%2Fhello"
	for _, ref := range []string{tagged.String(), host + "/team/hello@" + pushed.Digest.String()} {
		img, err := image.Open(context.Background(), ref, image.Options{})
		if err != nil {
			t.Fatal(err)
		}
		got := purlOf(FromImage(context.Background(), img, Options{}))
		img.Close()
		if same, _ := ImagePURL(ref, pushed.Digest.String()); got != want || same != want {
			t.Errorf("sbom %s: %s (ImagePURL %s), want %s", ref, got, same, want)
		}
	}
}

// TestExampleIdentity builds the demo's example and checks, with
// --buildtime, that build inputs stay out of the run-time graph (hello
// does not depend on its source hello.c), that the files outside the
// store are a component (/etc/passwd, /etc/group, the /bin/hello symlink,
// referring to hello) that the image-only SBOM has too, and that neither
// the store path they were copied from nor the base image the root layer
// was added to is "not in the image".
func TestExampleIdentity(t *testing.T) {
	res := nixtest.Build(t, "", "example.nix", "image")
	rec, err := FromRecord(res.Record, Options{Image: res.Image, BuildTime: true})
	if err != nil {
		t.Fatal(err)
	}
	img, err := FromImage(context.Background(), res.Image, Options{})
	if err != nil {
		t.Fatal(err)
	}
	hello := componentNamed(t, rec, "hello")
	src := ""
	for _, p := range hello.BuildDependsOn {
		if strings.HasSuffix(p, "-hello.c") {
			src = p
		}
	}
	if src == "" {
		t.Fatalf("hello's build inputs %v lack hello.c", hello.BuildDependsOn)
	}
	for _, dep := range hello.DependsOn {
		if dep == src {
			t.Errorf("hello depends at run time on its source %s", src)
		}
	}
	var bom struct {
		Dependencies []struct {
			Ref       string   `json:"ref"`
			DependsOn []string `json:"dependsOn"`
		} `json:"dependencies"`
		Formulation []struct {
			Workflows []struct {
				Inputs []struct {
					Resource struct{ Ref string } `json:"resource"`
				} `json:"inputs"`
				Outputs []struct {
					Resource struct{ Ref string } `json:"resource"`
				} `json:"outputs"`
			} `json:"workflows"`
		} `json:"formulation"`
	}
	cdxBytes := encode(t, rec, CycloneDXJSON, false)
	if err := json.Unmarshal(cdxBytes, &bom); err != nil {
		t.Fatal(err)
	}
	for _, dep := range bom.Dependencies {
		if dep.Ref == hello.Path && strings.Contains(strings.Join(dep.DependsOn, " "), src) {
			t.Errorf("CycloneDX: hello dependsOn its source: %v", dep.DependsOn)
		}
	}
	built := false
	for _, f := range bom.Formulation {
		for _, w := range f.Workflows {
			if len(w.Outputs) == 1 && w.Outputs[0].Resource.Ref == hello.Path {
				for _, in := range w.Inputs {
					built = built || in.Resource.Ref == src
				}
			}
		}
	}
	if !built {
		t.Error("CycloneDX formulation: no build of hello from hello.c")
	}
	spdx := string(encode(t, rec, SPDXJSON, false))
	if !hasSPDXRelationship(t, []byte(spdx), "SPDXRef-nix-"+componentNamed(t, rec, "hello.c").Hash, "BUILD_DEPENDENCY_OF", "SPDXRef-nix-"+hello.Hash) {
		t.Error("SPDX: no hello.c BUILD_DEPENDENCY_OF hello")
	}

	for name, d := range map[string]*Document{"record": rec, "image": img} {
		rf := d.RootFiles
		if rf == nil {
			t.Fatalf("%s: no root files component", name)
		}
		byPath := map[string]RootFile{}
		for _, f := range rf.Files {
			byPath[f.Path] = f
		}
		if byPath["/etc/passwd"].Type != "file" || byPath["/etc/group"].Type != "file" || byPath["/bin/hello"].Target != hello.Path+"/bin/hello" {
			t.Errorf("%s: root files %+v", name, rf.Files)
		}
		if strings.Join(rf.DependsOn, " ") != hello.Path {
			t.Errorf("%s: root files depend on %v, want hello", name, rf.DependsOn)
		}
	}
	if rec.RootFiles.SHA256 != img.RootFiles.SHA256 {
		t.Error("record and image list different root files")
	}
	root := componentNamed(t, rec, "hello-root")
	if !root.BuildOnly || root.CopiedToRoot != RootFilesName || strings.Join(rec.RootFiles.CopyOf, " ") != root.Path {
		t.Errorf("hello-root: build-only %v, copied to root %q, copy of %v", root.BuildOnly, root.CopiedToRoot, rec.RootFiles.CopyOf)
	}
	if base := componentNamed(t, rec, "hello.tar"); base.BaseImageLayers != len(rec.Subject.DiffIDs)-1 || !hasSPDXRelationship(t, []byte(spdx), "SPDXRef-image", "DESCENDANT_OF", "SPDXRef-nix-"+base.Hash) {
		t.Errorf("the base image hello.tar: %d of the image's layers (want %d), or no DESCENDANT_OF", base.BaseImageLayers, len(rec.Subject.DiffIDs)-1)
	}
	if !hasSPDXRelationship(t, []byte(spdx), "SPDXRef-nix-"+root.Hash, "GENERATES", "SPDXRef-root-files") {
		t.Error("SPDX: no hello-root GENERATES root-files")
	}
	if strings.Contains(spdx, root.Path+"; layers") || strings.Contains(spdx, "build-time only: not in the image\",\"SPDXID\":\"SPDXRef-nix-"+root.Hash) {
		t.Error("hello-root is labelled not in the image")
	}
	spdxSchema := schematest.SPDX(t)
	cdxSchema := schematest.CycloneDX(t)
	for _, d := range []*Document{rec, img} {
		b := encode(t, d, SPDXJSON, false)
		schematest.Validate(t, spdxSchema, "the SBOM", b)
		checkSPDXRelationships(t, b, d)
		schematest.Validate(t, cdxSchema, "the SBOM", encode(t, d, CycloneDXJSON, false))
	}
}

// TestOriginByEvidence: a package whose meta.position lies in a nixpkgs
// tree (one with pkgs/top-level/all-packages.nix) gets the nixpkgs
// namespace; the example's own packages get none.
func TestOriginByEvidence(t *testing.T) {
	nixtest.Require(t)
	dir := t.TempDir()
	tree := filepath.Join(dir, "fake-nixpkgs")
	for file, body := range map[string]string{
		"pkgs/top-level/all-packages.nix": "{ }\n",
		"pkgs/tools/greet/default.nix": `{ lib }: lib.mkPackage {
  name = "greet-1.0"; pname = "greet"; version = "1.0"; script = "mkdir $out";
  meta = { description = "greets"; position = "${toString ./default.nix}:1"; };
}
`,
	} {
		p := filepath.Join(tree, file)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// In the store, as a flake input or a channel would be.
	added, err := exec.Command("nix-store", "--add", tree).Output()
	if err != nil {
		t.Fatalf("nix-store --add: %v", err)
	}
	storeTree := strings.TrimSpace(string(added))
	expr := filepath.Join(dir, "top.nix")
	lib := nixtest.File("lib.nix")
	if err := os.WriteFile(expr, []byte(`let
  lib = import `+lib+` { };
  greet = import `+storeTree+`/pkgs/tools/greet/default.nix { inherit lib; };
  own = lib.mkPackage { name = "own-1.0"; pname = "own"; version = "1.0"; script = "mkdir $out"; meta.position = "`+expr+`:3"; };
in lib.mkPackage { name = "top"; script = "mkdir $out"; deps = [ greet own ]; }
`), 0o644); err != nil {
		t.Fatal(err)
	}
	helper := filepath.Join(nixtest.Root(), "nix", "sbom-meta.nix")
	out, err := exec.Command("nix-instantiate", "--eval", "--strict", "--json", helper,
		"--arg", "file", expr, "--arg", "allAttrs", "true", "--option", "substituters", "").CombinedOutput()
	if err != nil {
		t.Fatalf("sbom-meta.nix: %v\n%s", err, out)
	}
	m, err := ParseMeta(out)
	if err != nil {
		t.Fatal(err)
	}
	origins := map[string]string{}
	for _, e := range m {
		c := Component{Path: e.Outputs["out"], Name: e.PName, Version: e.Version}
		c.applyMeta(&e)
		origins[e.PName] = NixPURL(&c)
	}
	if !strings.HasPrefix(origins["greet"], "pkg:nix/nixpkgs/greet@1.0?") || !strings.HasPrefix(origins["own"], "pkg:nix/own@1.0?") {
		t.Errorf("purls %v: want nixpkgs for greet only", origins)
	}
}
