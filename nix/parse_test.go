package nix_test

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/nixdock/nixdock-action/nix"
	"github.com/nixdock/nixdock-action/record"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

const (
	greeting     = "/nix/store/2fcy4ix4c6ccqbl8iqj34nzky5z9zdj1-greeting-data-1.0"
	hello        = "/nix/store/cmk28bpfylacvxbixl73d2ckrikxsmqc-hello-2.12.1"
	helloDrv     = "/nix/store/zlcfn3qjrfpvnd0qyqbwrs8d66if5pn8-hello-2.12.1.drv"
	greetingDrv  = "/nix/store/pbh93wqmjmaabh10zc53krkbs0hzr3iv-greeting-data-1.0.drv"
	greetingHash = "sha256:c9156aeb3104720b2ab5b9c703361c36389bf8192586813138d806931cb41ae2"
	helloHash    = "sha256:257d7a2f522257273949e9ad60490826d3debcaf1ae6575ed5db385af420f4f8"
)

// TestParsePathInfoShapes: the list form (Nix 2.8 to 2.18), the object form
// keyed by store path (2.19+) and the v2 form with base names (2.33+,
// --json-format 2) give the same closure.
func TestParsePathInfoShapes(t *testing.T) {
	want := []record.PathInfo{
		{Path: greeting, NarHash: greetingHash, NarSize: 632, References: []string{}, Deriver: greetingDrv, Ultimate: true, RegistrationTime: 1795746440},
		{Path: hello, NarHash: helloHash, NarSize: 1480, References: []string{greeting}, Deriver: helloDrv, Ultimate: true, RegistrationTime: 1795746440},
	}
	for _, name := range []string{"path-info-2.8.json", "path-info-2.19.json", "path-info-2.33-v2.json"} {
		t.Run(name, func(t *testing.T) {
			got, err := nix.ParsePathInfo(fixture(t, name))
			if err != nil {
				t.Fatal(err)
			}
			w := want
			if name == "path-info-2.33-v2.json" {
				// The fixture leaves greeting-data without deriver and
				// ultimate, as a substituted path has them.
				w = append([]record.PathInfo{}, want...)
				w[0].Deriver, w[0].Ultimate, w[0].RegistrationTime = "", false, 0
			}
			if !reflect.DeepEqual(got, w) {
				t.Errorf("got\n %+v\nwant\n %+v", got, w)
			}
		})
	}
}

func TestParsePathInfoErrors(t *testing.T) {
	for name, data := range map[string]string{
		"invalid path": string(fixture(t, "path-info-invalid.json")),
		"no path":      `[{"narHash":"sha256:` + strings.Repeat("0", 64) + `"}]`,
		"bad hash":     `[{"path":"/nix/store/x","narHash":"md5:abc"}]`,
		"not json":     `nix: command not found`,
		"number":       `42`,
	} {
		if _, err := nix.ParsePathInfo([]byte(data)); err == nil {
			t.Errorf("%s: parsed without error", name)
		}
	}
	_, err := nix.ParsePathInfo(fixture(t, "path-info-invalid.json"))
	if err == nil || !strings.Contains(err.Error(), "ncdu-2.8.2") {
		t.Errorf("invalid path error %v does not name the path", err)
	}
}

// TestParseDerivationShapes: `nix show-derivation` (2.8), `nix derivation
// show` with {outputs, dynamicOutputs} inputs (2.18+), base-name paths
// (2.32, version 3) and the {derivations, version} wrapper with nested
// inputs (2.34, version 4) normalize alike.
func TestParseDerivationShapes(t *testing.T) {
	for _, tc := range []struct {
		file      string
		inputDrvs map[string][]string
		inputSrcs []string
	}{
		{"show-derivation-2.8.json", map[string][]string{greetingDrv: {"out"}}, []string{}},
		{"derivation-show-2.18.json", map[string][]string{
			greetingDrv: {"out"},
			"/nix/store/c015dhfh5l0lp6wxyvdn7bmwhbbr6hr9-dep2.drv": {"cat", "dog"},
		}, []string{"/nix/store/c015dhfh5l0lp6wxyvdn7bmwhbbr6hr9-dep1"}},
		{"derivation-show-2.32.json", map[string][]string{greetingDrv: {"out"}}, []string{"/nix/store/c015dhfh5l0lp6wxyvdn7bmwhbbr6hr9-dep1"}},
		{"derivation-show-2.34.json", map[string][]string{greetingDrv: {"out"}}, []string{"/nix/store/c015dhfh5l0lp6wxyvdn7bmwhbbr6hr9-dep1"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			drvs, err := nix.ParseDerivations(fixture(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if len(drvs) != 1 {
				t.Fatalf("%d derivations, want 1: %v", len(drvs), drvs)
			}
			d, ok := drvs[helloDrv]
			if !ok {
				t.Fatalf("no %s in %v", helloDrv, drvs)
			}
			if d.Name != "hello-2.12.1" || d.System != "x86_64-linux" || d.Builder != "/bin/sh" {
				t.Errorf("name %q system %q builder %q", d.Name, d.System, d.Builder)
			}
			if d.Outputs["out"] != hello {
				t.Errorf("outputs %v, want out = %s", d.Outputs, hello)
			}
			if !reflect.DeepEqual(d.InputDrvs, tc.inputDrvs) {
				t.Errorf("inputDrvs %v, want %v", d.InputDrvs, tc.inputDrvs)
			}
			if !reflect.DeepEqual(d.InputSrcs, tc.inputSrcs) {
				t.Errorf("inputSrcs %v, want %v", d.InputSrcs, tc.inputSrcs)
			}
		})
	}
}

// TestNix32AgainstNix: NormalizeHash of the forms Nix prints agree, and
// Nix's own base-32 (nix-hash --to-base32) of a real narHash decodes to it.
func TestNix32AgainstNix(t *testing.T) {
	hexHash := strings.TrimPrefix(greetingHash, "sha256:")
	for _, h := range []string{
		"sha256-yRVq6zEEcgsqtbnHAzYcNjib+BklhoExONgGkxy0GuI=",
		"sha256:1qhsnhf961nq70qq31i537w9nf1n3hv07ixrnlm0nwh467mnl5f9",
		greetingHash,
	} {
		got, err := nix.NormalizeHash(h)
		if err != nil || got != greetingHash {
			t.Errorf("NormalizeHash(%s) = %s, %v; want %s", h, got, err, greetingHash)
		}
	}
	raw, _ := hex.DecodeString(hexHash)
	if got := nix.EncodeNix32(raw); got != "1qhsnhf961nq70qq31i537w9nf1n3hv07ixrnlm0nwh467mnl5f9" {
		t.Errorf("EncodeNix32 = %s", got)
	}
	if _, err := exec.LookPath("nix-hash"); err != nil {
		if os.Getenv("NIXDOCK_REQUIRE_NIX") == "1" {
			t.Fatal("nix-hash is not installed")
		}
		t.Skip("nix-hash is not installed")
	}
	for i := 0; i < 20; i++ {
		b := make([]byte, 32)
		rand.Read(b)
		out, err := exec.Command("nix-hash", "--type", "sha256", "--to-base32", hex.EncodeToString(b)).Output()
		if err != nil {
			t.Fatal(err)
		}
		want := strings.TrimSpace(string(out))
		if got := nix.EncodeNix32(b); got != want {
			t.Fatalf("EncodeNix32(%x) = %s, nix-hash says %s", b, got, want)
		}
		dec, err := nix.DecodeNix32(want)
		if err != nil || hex.EncodeToString(dec) != hex.EncodeToString(b) {
			t.Fatalf("DecodeNix32(%s) = %x, %v; want %x", want, dec, err, b)
		}
	}
}

func TestNix32RoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 5, 16, 20, 32, 64} {
		b := make([]byte, n)
		rand.Read(b)
		s := nix.EncodeNix32(b)
		got, err := nix.DecodeNix32(s)
		if err != nil || !reflect.DeepEqual(got, b) && n > 0 {
			t.Errorf("%d bytes: %x -> %s -> %x, %v", n, b, s, got, err)
		}
	}
	for _, bad := range []string{"e", "sha256:" + strings.Repeat("z", 52), "sha256:" + strings.Repeat("e", 52), "sha256:" + strings.Repeat("0", 63), "sha256-!!"} {
		if _, err := nix.NormalizeHash(bad); err == nil {
			t.Errorf("NormalizeHash(%q) accepted", bad)
		}
	}
}
