package reproduce_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/nixdock/nixdock-action/internal/nixtest"
	"github.com/nixdock/nixdock-action/record"
	"github.com/nixdock/nixdock-action/reproduce"
)

func run(t *testing.T, file, attr string, mod func(*reproduce.Options)) *reproduce.Result {
	t.Helper()
	nixtest.Require(t)
	opts := reproduce.Options{
		Installable: record.Installable{File: nixtest.File(file), Attr: attr},
		NixOptions:  nixtest.Options,
		Log:         testLog{t},
	}
	if mod != nil {
		mod(&opts)
	}
	res, err := reproduce.Run(context.Background(), opts)
	if err != nil {
		t.Fatalf("reproduce %s -A %s: %v", file, attr, err)
	}
	return res
}

func TestReproducibleImage(t *testing.T) {
	res := run(t, "hello.nix", "image", nil)
	rep := res.Report
	if !rep.Reproducible {
		t.Fatalf("hello image not reproducible: %s", rep.Verdict)
	}
	if res.Records[0].Image.ManifestDigest != res.Records[1].Image.ManifestDigest {
		t.Errorf("manifest digests differ: %s vs %s", res.Records[0].Image.ManifestDigest, res.Records[1].Image.ManifestDigest)
	}
	if res.Records[0].Store == res.Records[1].Store || res.Records[0].Store == "" {
		t.Errorf("builds not in two separate chroot stores: %q, %q", res.Records[0].Store, res.Records[1].Store)
	}
	info := rep.Reproduce
	// greeting-data, hello and the image were all built in both stores.
	if len(info.BuiltTwice) != 3 {
		t.Errorf("built twice = %v, want the 3 derivations of hello.nix", info.BuiltTwice)
	}
	if len(info.Substituted) != 0 {
		t.Errorf("substituted = %v, want none offline", info.Substituted)
	}
	if len(info.Variations) == 0 || info.Variations[0].Name != "cores" || info.Variations[0].A == info.Variations[0].B {
		t.Errorf("variations = %+v, want cores varied by default", info.Variations)
	}
	var buf bytes.Buffer
	if err := rep.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["schema"] != "nixdock.dev/report/v1" || doc["reproduce"] == nil || doc["reproducible"] != true {
		t.Errorf("JSON report lacks schema, reproducible or reproduce: %s", buf.String())
	}
}

func TestUnreproducibleImages(t *testing.T) {
	cases := []struct {
		attr, culprit, cause string
	}{
		{"date", "-stamp-1.0", "timestamp"},
		{"random", "-salt-1.0", "random"},
		{"order", "-listing-1.0", "order"},
		{"buildPath", "-compiler-1.0", "build-path"},
		{"createdNow", "-hello-now.tar", "config"},
		{"consequence", "-stamp-1.0", "timestamp"},
	}
	for _, c := range cases {
		t.Run(c.attr, func(t *testing.T) {
			res := run(t, "unreproducible.nix", c.attr, nil)
			rep := res.Report
			if rep.Reproducible {
				t.Fatalf("%s: reported reproducible", c.attr)
			}
			if len(rep.Culprits) == 0 {
				t.Fatalf("%s: no culprits: %s", c.attr, rep.Verdict)
			}
			root := rep.Culprits[0]
			if !strings.HasSuffix(root.StorePath, c.culprit) {
				t.Errorf("%s: first culprit %s, want *%s", c.attr, root.StorePath, c.culprit)
			}
			if !contains(root.Causes, c.cause) {
				t.Errorf("%s: causes %v, want %s", c.attr, root.Causes, c.cause)
			}
			if root.Confirmed == nil || !*root.Confirmed {
				t.Errorf("%s: root culprit not confirmed by Nix (%s)", c.attr, root.ConfirmedBy)
			}
			if strings.Contains(root.Hint, res.Report.Reproduce.Stores[0]) {
				t.Errorf("%s: hint %q names a store that was removed", c.attr, root.Hint)
			}
		})
	}
}

// The consequence image: stamp is the one root cause; stamp-checksum
// (embeds its path) and stamp-copy (copies its file: no reference, no
// path in the bytes) are its consequences, whatever Nix says of them.
func TestConsequenceIsNotConfirmedAsItsOwnCause(t *testing.T) {
	res := run(t, "unreproducible.nix", "consequence", nil)
	var found bool
	roots := 0
	for _, c := range res.Report.Culprits {
		if c.Root() {
			roots++
		}
		if strings.HasSuffix(c.StorePath, "-stamp-copy-1.0") && (c.Root() || !strings.HasSuffix(c.ConsequenceOf, "-stamp-1.0")) {
			t.Errorf("stamp-copy is not a consequence of stamp: %+v", c)
		}
		if strings.HasSuffix(c.StorePath, "-stamp-checksum-1.0") {
			found = true
			if c.ConsequenceOf == "" {
				t.Errorf("stamp-checksum is not marked a consequence")
			}
			if c.Confirmed == nil || *c.Confirmed {
				t.Errorf("stamp-checksum rebuilds identically on the same inputs; confirmed = %v", c.Confirmed)
			}
		}
	}
	if !found {
		t.Errorf("stamp-checksum missing from culprits: %+v", res.Report.Culprits)
	}
	if v := res.Report.Verdict; roots != 1 || len(res.Report.Culprits) != 3 || !strings.Contains(v, "-stamp-1.0 (timestamp); 2 consequence(s)") {
		t.Errorf("%d root causes among %d culprits, verdict %q; want stamp and 2 consequences", roots, len(res.Report.Culprits), v)
	}
}

func TestDisorderfsShufflesDirectoryOrder(t *testing.T) {
	nixtest.RequireTool(t, "disorderfs")
	plain := run(t, "unreproducible.nix", "dirOrder", nil)
	if !plain.Report.Reproducible {
		t.Fatalf("dirOrder differs without disorderfs: %s", plain.Report.Verdict)
	}
	shuffled := run(t, "unreproducible.nix", "dirOrder", func(o *reproduce.Options) {
		o.Disorderfs = true
		o.VaryBuildDir = true
	})
	if shuffled.Report.Reproducible {
		t.Fatalf("dirOrder reproducible under disorderfs: directory order was not shuffled")
	}
	c := shuffled.Report.Culprits[0]
	if !strings.HasSuffix(c.StorePath, "-dirlist-1.0") || !contains(c.Causes, "order") {
		t.Errorf("culprit %s %v, want dirlist-1.0 with cause order", c.StorePath, c.Causes)
	}
	names := map[string]bool{}
	for _, v := range shuffled.Report.Reproduce.Variations {
		names[v.Name] = true
	}
	if !names["directory order"] || !names["sandbox-build-dir"] {
		t.Errorf("variations %+v lack directory order or sandbox-build-dir", shuffled.Report.Reproduce.Variations)
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
