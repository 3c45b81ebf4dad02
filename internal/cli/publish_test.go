package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nixdock/nixdock-action/build"
	"github.com/nixdock/nixdock-action/internal/nixtest"
	"github.com/nixdock/nixdock-action/record"
	"github.com/nixdock/nixdock-action/sign"
)

// pubResult is one nixdock run.
type pubResult struct {
	code        int
	out, errOut string
}

// pubRun runs nixdock with args, stdin empty.
func pubRun(t *testing.T, args ...string) pubResult {
	t.Helper()
	code, out, errOut := runCLI(t, args...)
	return pubResult{code, out, errOut}
}

func (r pubResult) lastLine() string {
	lines := strings.Split(strings.TrimSpace(r.out), "\n")
	return lines[len(lines)-1]
}

// realRegistry is a docker-registry process this test starts and kills.
type realRegistry struct {
	t    *testing.T
	bin  string
	dir  string
	addr string
	cmd  *exec.Cmd
}

func startRealRegistry(t *testing.T) *realRegistry {
	bin := nixtest.RequireTool(t, "docker-registry")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	r := &realRegistry{t: t, bin: bin, dir: t.TempDir(), addr: addr}
	cfg := fmt.Sprintf("version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s/data\nhttp:\n  addr: %s\nlog:\n  level: error\n", r.dir, addr)
	if err := os.WriteFile(filepath.Join(r.dir, "config.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	r.start()
	t.Cleanup(r.kill)
	return r
}

func (r *realRegistry) start() {
	r.cmd = exec.Command(r.bin, "serve", filepath.Join(r.dir, "config.yml"))
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		if c, err := net.Dial("tcp", r.addr); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.t.Fatalf("docker-registry did not start on %s", r.addr)
}

// kill kills the registry process (SIGKILL: no graceful shutdown).
func (r *realRegistry) kill() {
	if r.cmd != nil && r.cmd.Process != nil {
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
		r.cmd = nil
	}
}

// buildTwice builds the testdata image in the machine's store and in a
// chroot store (two independent builders) and writes both records.
func buildTwice(t *testing.T, dir string) (image string, records []string) {
	t.Helper()
	nixtest.Require(t)
	a := nixtest.Build(t, "", "hello.nix", "image")
	b := nixtest.Build(t, nixtest.NewStore(t), "hello.nix", "image")
	for i, res := range []*build.Result{a, b} {
		p := filepath.Join(dir, fmt.Sprintf("record-%d.json", i))
		if err := record.Write(p, res.Record); err != nil {
			t.Fatal(err)
		}
		records = append(records, p)
	}
	if a.Record.Image.ManifestDigest != b.Record.Image.ManifestDigest {
		t.Fatalf("the testdata image is not reproducible: %s vs %s", a.Record.Image.ManifestDigest, b.Record.Image.ManifestDigest)
	}
	return a.Record.OutPath, records
}

const testPassword = "correct horse battery staple 42"

// TestPublishSignVerify is the release path against the real registry:
// push the testdata image built by two builders, sign it with a generated
// key, attach the SBOM (SPDX, then CycloneDX), reproducibility and
// provenance attestations, and verify with nixdock and with the real cosign
// CLIs (v2 and v3). The key password must appear nowhere.
func TestPublishSignVerify(t *testing.T) {
	reg := nixtest.Registry(t)
	dir := t.TempDir()
	img, records := buildTwice(t, dir)
	t.Setenv(sign.PasswordEnv, testPassword)
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	var all []pubResult

	key := filepath.Join(dir, "keys", "cosign")
	all = append(all, pubRun(t, "keygen", "--output-key-prefix", key))
	repo := fmt.Sprintf("%s/nixdock-test/publish-%d", reg, time.Now().UnixNano())
	push := pubRun(t, "push", img, repo+":v1", "--record", records[0])
	all = append(all, push)
	if push.code != 0 {
		t.Fatalf("push: exit %d", push.code)
	}
	ref := push.lastLine()
	rec, _ := record.Read(records[0])
	if want := repo + "@" + rec.Image.ManifestDigest; ref != want {
		t.Fatalf("pushed %s, want the record's digest %s", ref, want)
	}

	spdx, cdx := filepath.Join("..", "..", "sign", "testdata", "sbom.spdx.json"), filepath.Join("..", "..", "sign", "testdata", "sbom.cdx.json")
	signArgs := []string{"sign", ref, "--key", key + ".key", "--provenance", "--records", records[0], records[1]}
	for _, sbom := range []string{spdx, cdx} {
		r := pubRun(t, append(signArgs, "--attest-sbom", sbom)...)
		all = append(all, r)
		if r.code != 0 {
			t.Fatalf("sign: exit %d", r.code)
		}
	}

	v := pubRun(t, "verify-signature", ref, "--key", key+".pub", "--insecure-ignore-tlog", "--json")
	all = append(all, v)
	if v.code != 0 {
		t.Fatalf("verify-signature: exit %d", v.code)
	}
	var got struct {
		PolicyMet      bool     `json:"policyMet"`
		Signatures     int      `json:"signatures"`
		PredicateTypes []string `json:"predicateTypes"`
		Reproducible   struct {
			AgreedBuilders int    `json:"agreedBuilders"`
			DrvPath        string `json:"drvPath"`
		} `json:"reproducible"`
	}
	if err := json.Unmarshal([]byte(v.out), &got); err != nil {
		t.Fatal(err)
	}
	want := []string{sign.PredicateCycloneDX, sign.PredicateReproducible, sign.PredicateSLSA1, sign.PredicateSPDX}
	if !got.PolicyMet || got.Signatures != 1 || strings.Join(got.PredicateTypes, " ") != strings.Join(want, " ") ||
		got.Reproducible.AgreedBuilders != 2 || got.Reproducible.DrvPath != rec.DrvPath {
		t.Errorf("verification: %+v (want one signature and each attestation once)", got)
	}
	// A stricter policy than the evidence: exit 1.
	if r := pubRun(t, "verify-signature", ref, "--key", key+".pub", "--insecure-ignore-tlog", "--min-builders", "3"); r.code != 1 || !strings.Contains(r.out, "policy requires 3") {
		t.Errorf("--min-builders 3: exit %d", r.code)
	}
	// Another key: exit 3.
	other := filepath.Join(dir, "other")
	pubRun(t, "keygen", "--output-key-prefix", other)
	if r := pubRun(t, "verify-signature", ref, "--key", other+".pub", "--insecure-ignore-tlog"); r.code != 3 || !strings.Contains(r.errOut, "no valid signature") {
		t.Errorf("wrong key: exit %d", r.code)
	}

	cosignBothLayouts(t, ref, key+".pub")

	assertNoPassword(t, all, dir)
}

// cosignVerify runs the stock cosign CLI against what nixdock attached;
// `cosign verify` must print sigType, the type of what it verified.
func cosignVerify(t *testing.T, tool, ref, pub, sigType string, extra ...string) {
	bin := nixtest.RequireTool(t, tool)
	run := func(args ...string) string {
		args = append(append(args[:1:1], extra...), args[1:]...)
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "COSIGN_PASSWORD=", "TUF_ROOT="+t.TempDir())
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("%s %s: %v\n%s", tool, strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	out := run("verify", "--key", pub, "--insecure-ignore-tlog", ref)
	if !strings.Contains(out, ref[strings.Index(ref, "@")+1:]) || !strings.Contains(out, sigType) {
		t.Errorf("%s verify printed no %q payload for the digest:\n%s", tool, sigType, out)
	}
	for _, typ := range []string{"spdxjson", "cyclonedx", sign.PredicateReproducible, "slsaprovenance1"} {
		out := run("verify-attestation", "--key", pub, "--insecure-ignore-tlog", "--type", typ, ref)
		if !strings.Contains(out, "payloadType") {
			t.Errorf("%s verify-attestation --type %s printed no envelope:\n%s", tool, typ, out)
		}
	}
}

// assertNoPassword: the key password is in no output and no file written.
func assertNoPassword(t *testing.T, runs []pubResult, dir string) {
	t.Helper()
	for _, r := range runs {
		if strings.Contains(r.out+r.errOut, testPassword) {
			t.Fatalf("the key password was printed:\n%s%s", r.out, r.errOut)
		}
	}
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if bytes.Contains(data, []byte(testPassword)) {
			t.Errorf("the key password is in %s", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestSignRefusesUnverified: records that do not prove the digest stop
// signing (exit 3, nothing attached), unless --allow-unverified, which the
// attestation then records and verify-signature reports as policy not met.
func TestSignRefusesUnverified(t *testing.T) {
	reg := nixtest.Registry(t)
	dir := t.TempDir()
	img, records := buildTwice(t, dir)
	t.Setenv(sign.PasswordEnv, testPassword)
	key := filepath.Join(dir, "cosign")
	pubRun(t, "keygen", "--output-key-prefix", key)
	repo := fmt.Sprintf("%s/nixdock-test/unverified-%d", reg, time.Now().UnixNano())
	// zstd layers: a digest the gzip records did not agree on.
	push := pubRun(t, "push", img, repo+":zstd", "--compression", "zstd")
	if push.code != 0 {
		t.Fatalf("push: exit %d", push.code)
	}
	ref := push.lastLine()

	r := pubRun(t, "sign", ref, "--key", key+".key", "--records", records[0], records[1])
	if r.code != 3 || !strings.Contains(r.errOut, "refusing to sign") || !strings.Contains(r.errOut, "no builder that counts produced") {
		t.Fatalf("unverified digest: exit %d, stderr %q", r.code, r.errOut)
	}
	if v := pubRun(t, "verify-signature", ref, "--key", key+".pub", "--insecure-ignore-tlog"); v.code != 3 {
		t.Fatalf("something was signed after the refusal: verify exit %d", v.code)
	}
	if r := pubRun(t, "sign", ref, "--key", key+".key", "--records", records[0]+","+records[1], "--allow-unverified"); r.code != 0 {
		t.Fatalf("--allow-unverified: exit %d", r.code)
	}
	v := pubRun(t, "verify-signature", ref, "--key", key+".pub", "--insecure-ignore-tlog")
	if v.code != 1 || !strings.Contains(v.out, `verdict is "unverified"`) {
		t.Fatalf("verify of an unverified signing: exit %d\n%s", v.code, v.out)
	}
	// A tag is not signed: usage error.
	if r := pubRun(t, "sign", repo+":zstd", "--key", key+".key", "--allow-unverified"); r.code != 2 {
		t.Errorf("signing a tag: exit %d", r.code)
	}
	// Without COSIGN_PASSWORD: a clear failure.
	os.Unsetenv(sign.PasswordEnv)
	if r := pubRun(t, "sign", ref, "--key", key+".key", "--allow-unverified"); r.code != 3 || !strings.Contains(r.errOut, "COSIGN_PASSWORD") {
		t.Errorf("no password: exit %d %q", r.code, r.errOut)
	}
}
