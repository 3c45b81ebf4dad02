package verify_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/nixdock/nixdock-action/record"

	"github.com/nixdock/nixdock-action/image"
	"github.com/nixdock/nixdock-action/internal/golden"
	"github.com/nixdock/nixdock-action/internal/testimage"
	"github.com/nixdock/nixdock-action/verify"
)

// Synthetic store paths: a base, an app with one file per cause, and a
// checksum of the app's file (a consequence).
const (
	basePath = "/nix/store/0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a-base-1.0"
	appPath  = "/nix/store/1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b-app-1.0"
	sumPath  = "/nix/store/2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c-app-sum-1.0"
	imgPath  = "/nix/store/3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d-app.tar"
	imgDrv   = "/nix/store/4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f-app.tar.drv"
	appDrv   = "/nix/store/5g5g5g5g5g5g5g5g5g5g5g5g5g5g5g5g-app-1.0.drv"
	sumDrv   = "/nix/store/6h6h6h6h6h6h6h6h6h6h6h6h6h6h6h6h-app-sum-1.0.drv"
	baseDrv  = "/nix/store/7i7i7i7i7i7i7i7i7i7i7i7i7i7i7i7i-base-1.0.drv"
)

// tentry is one entry of a synthetic layer (internal/testimage).
type tentry = testimage.Entry

var (
	dir  = testimage.Dir
	file = testimage.File
)

func tarOf(t testing.TB, entries []tentry) []byte { return testimage.Layer(t, entries...) }

func layerOf(t testing.TB, entries []tentry) v1.Layer { return testimage.V1Layer(t, entries...) }

func sum(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// appLayer is the app's layer as builder a (b=false) or b (b=true) made it.
func appLayer(b bool) []tentry {
	pick := func(x, y string) string {
		if b {
			return y
		}
		return x
	}
	mode, uid := int64(0o555), 0
	if b {
		mode, uid = 0o755, 1000
	}
	return []tentry{
		dir(appPath), dir(appPath + "/bin"),
		{Name: appPath + "/bin/app", Body: "#!/bin/sh\necho app\n", Type: tar.TypeReg, Mode: mode},
		dir(appPath + "/etc"),
		{Name: appPath + "/etc/owned", Body: "x\n", Type: tar.TypeReg, Mode: 0o444, UID: uid},
		dir(appPath + "/share"), dir(appPath + "/share/app"),
		file(appPath+"/share/app/build-info", pick("built at 2024-05-01 10:00:00 UTC\n", "built at 2024-05-01 10:07:13 UTC\n")),
		file(appPath+"/share/app/debug", pick("object compiled in /build/cc.Ab3dE6gH/main.o\n", "object compiled in /build/cc.q9Xz2LmP/main.o\n")),
		file(appPath+"/share/app/files.txt", pick("alpha\nbravo\ncharlie\ndelta\n", "charlie\nalpha\ndelta\nbravo\n")),
		file(appPath+"/share/app/seed", pick("0aa22b1e3d7da0efdff761cc73a1cc5d", "4ecd20a77968d3a239bac9c28833abe8")),
	}
}

func sumLayer(b bool) []tentry {
	info := "built at 2024-05-01 10:00:00 UTC\n"
	if b {
		info = "built at 2024-05-01 10:07:13 UTC\n"
	}
	return []tentry{dir(sumPath), dir(sumPath + "/share"),
		file(sumPath+"/share/app.sha256", sum(info)+"  "+appPath+"/share/app/build-info\n")}
}

// syntheticImage is the image of builder a or b.
func syntheticImage(t testing.TB, b bool) *image.Image {
	t.Helper()
	base := layerOf(t, []tentry{dir(basePath), dir(basePath + "/etc"), file(basePath+"/etc/passwd", "root:x:0:0::/:/bin/sh\n")})
	img, err := mutate.AppendLayers(empty.Image, base, layerOf(t, appLayer(b)), layerOf(t, sumLayer(b)))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Created = v1.Time{Time: time.Unix(1, 0).UTC()}
	if b {
		cfg.Created = v1.Time{Time: time.Date(2024, 5, 1, 10, 7, 13, 0, time.UTC)}
	}
	cfg.Architecture, cfg.OS = "amd64", "linux"
	cfg.Config.Env = []string{"PATH=" + appPath + "/bin"}
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		t.Fatal(err)
	}
	src := "a.tar"
	if b {
		src = "b.tar"
	}
	return &image.Image{Image: img, Form: image.FormArchive, Source: src}
}

func fakeDigest(s string) string { return "sha256:" + sum(s) }

// syntheticRecord is builder a's or b's record of the synthetic image.
func syntheticRecord(id string, drv string) *record.Record {
	layers := []image.Layer{}
	for i := 0; i < 3; i++ {
		d := fakeDigest(fmt.Sprint(i))
		if i > 0 {
			d = fakeDigest(id + strconv.Itoa(i))
		}
		layers = append(layers, image.Layer{DiffID: d, Digest: d, MediaType: "application/vnd.oci.image.layer.v1.tar"})
	}
	return &record.Record{
		Schema: record.Schema, Nixdock: "test", NixVersion: "2.8.0", System: "x86_64-linux",
		Builder:     record.Builder{ID: id, OS: "linux", Arch: "amd64", Cores: 2},
		Installable: record.Installable{File: "default.nix", Attr: "image"},
		DrvPath:     drv, OutPath: imgPath,
		Image: image.Digests{Form: "docker-archive", ManifestDigest: fakeDigest("m" + id), ConfigDigest: fakeDigest("c" + id),
			Compressor: image.Compressor{Name: "gzip"}, Layers: layers, MediaType: "application/vnd.oci.image.manifest.v1+json"},
		Closure: []record.PathInfo{
			{Path: basePath, NarHash: fakeDigest("base"), References: []string{}, Deriver: baseDrv},
			{Path: appPath, NarHash: fakeDigest("app" + id), References: []string{basePath}, Deriver: appDrv},
			{Path: sumPath, NarHash: fakeDigest("sum" + id), References: []string{appPath}, Deriver: sumDrv},
		},
		Derivations: map[string]record.Derivation{},
		Origin:      newOrigin("host-" + id),
	}
}

// registrations counts the synthetic builds, so that each record is a build
// of its own (agree refuses two records of one build).
var registrations atomic.Int64

func newOrigin(host string) *record.Origin {
	return &record.Origin{How: record.OriginBuilt, Host: host, RegistrationTime: 1700000000 + registrations.Add(1),
		StartedAt: "2026-01-01T00:00:00Z", FinishedAt: "2026-01-01T00:01:00Z"}
}

// recordFor is builder id's record of the synthetic image a (or b, when
// b): the config digest and diff_ids are the image's own, as a builder
// would have recorded them.
func recordFor(t testing.TB, id, drv string, b bool) *record.Record {
	t.Helper()
	return describing(t, syntheticRecord(id, drv), syntheticImage(t, b))
}

// describing is r with the config digest and diff_ids of img.
func describing(t testing.TB, r *record.Record, img *image.Image) *record.Record {
	t.Helper()
	cfg, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	r.Image.ConfigDigest = cfg.String()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	layers := make([]image.Layer, len(cf.RootFS.DiffIDs))
	for i, d := range cf.RootFS.DiffIDs {
		layers[i] = image.Layer{DiffID: d.String(), Digest: fakeDigest(r.Builder.ID + strconv.Itoa(i)), MediaType: "application/vnd.oci.image.layer.v1.tar"}
		if i < len(r.Image.Layers) {
			layers[i].Digest = r.Image.Layers[i].Digest
		}
	}
	r.Image.Layers = layers
	return r
}

// inputRecords are two records whose image derivations differ because the
// app's script changed.
func inputRecords() (*record.Record, *record.Record) {
	a, b := syntheticRecord("builder-a", imgDrv), syntheticRecord("builder-b", "/nix/store/8j8j8j8j8j8j8j8j8j8j8j8j8j8j8j8j-app.tar.drv")
	appOutB := "/nix/store/9k9k9k9k9k9k9k9k9k9k9k9k9k9k9k9k-app-1.0"
	appDrvB := "/nix/store/alalalalalalalalalalalalalalalal-app-1.0.drv"
	drv := func(name, out, script string, inputs map[string][]string, env map[string]string) record.Derivation {
		e := map[string]string{"name": name, "out": out, "builder": "/bin/sh", "system": "x86_64-linux"}
		for k, v := range env {
			e[k] = v
		}
		return record.Derivation{Name: name, System: "x86_64-linux", Builder: "/bin/sh", Args: []string{"-c", script},
			Outputs: map[string]string{"out": out}, InputDrvs: inputs, InputSrcs: []string{}, Env: e}
	}
	base := drv("base-1.0", basePath, "mkdir $out", map[string][]string{}, nil)
	a.Derivations = map[string]record.Derivation{
		baseDrv: base,
		appDrv:  drv("app-1.0", appPath, "echo hello > $out", map[string][]string{baseDrv: {"out"}}, map[string]string{"GREETING": "hello"}),
		imgDrv:  drv("app.tar", imgPath, "mkimage", map[string][]string{appDrv: {"out"}}, map[string]string{"contents": appPath}),
	}
	b.Derivations = map[string]record.Derivation{
		baseDrv: base,
		appDrvB: drv("app-1.0", appOutB, "echo bonjour > $out", map[string][]string{baseDrv: {"out"}}, map[string]string{"GREETING": "bonjour"}),
		b.DrvPath: drv("app.tar", "/nix/store/bmbmbmbmbmbmbmbmbmbmbmbmbmbmbmbm-app.tar", "mkimage",
			map[string][]string{appDrvB: {"out"}}, map[string]string{"contents": appOutB}),
	}
	return a, b
}

func syntheticReports(t *testing.T) map[string]*verify.Report {
	ctx := context.Background()
	a, b := recordFor(t, "builder-a", imgDrv, false), recordFor(t, "builder-b", imgDrv, true)
	differs, err := verify.Records(ctx, []*record.Record{a, b},
		verify.Options{Images: []*image.Image{syntheticImage(t, false), syntheticImage(t, true)}})
	if err != nil {
		t.Fatal(err)
	}
	ia, ib := inputRecords()
	inputs, err := verify.Records(ctx, []*record.Record{ia, ib}, verify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	same, err := verify.Records(ctx, []*record.Record{a, recordFor(t, "builder-a", imgDrv, false)}, verify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return map[string]*verify.Report{"differs": differs, "inputs": inputs, "same": same}
}

func TestGolden(t *testing.T) {
	if *update {
		writeFuzzCorpus(t)
	}
	for name, rep := range syntheticReports(t) {
		for _, format := range []string{"txt", "json", "md"} {
			t.Run(name+"."+format, func(t *testing.T) {
				var buf bytes.Buffer
				var err error
				switch format {
				case "txt":
					err = rep.WriteText(&buf, verify.TextOptions{})
				case "json":
					err = rep.WriteJSON(&buf)
				case "md":
					err = rep.WriteMarkdown(&buf)
				}
				if err != nil {
					t.Fatal(err)
				}
				golden.Check(t, filepath.Join("testdata", name+"."+format+".golden"), buf.Bytes(), *update)
			})
		}
	}
}

// TestSyntheticCauses checks each planted cause against its file.
func TestSyntheticCauses(t *testing.T) {
	rep := syntheticReports(t)["differs"]
	byPath := map[string]verify.Culprit{}
	for _, c := range rep.Culprits {
		byPath[c.StorePath] = c
	}
	app, sumC, img := byPath[appPath], byPath[sumPath], byPath[imgPath]
	want := []string{verify.CauseTimestamp, verify.CauseRandom, verify.CauseOrder, verify.CauseBuildPath, verify.CauseMode, verify.CauseOwner}
	if strings.Join(app.Causes, ",") != strings.Join(want, ",") || app.DrvPath != appDrv || len(app.Files) != 6 {
		t.Errorf("app culprit: %+v", app)
	}
	if sumC.ConsequenceOf != appPath || sumC.DrvPath != sumDrv {
		t.Errorf("sum culprit should be a consequence of the app: %+v", sumC)
	}
	if !contains(img.Causes, verify.CauseConfig) || img.DrvPath != imgDrv || !strings.Contains(img.Evidence, `"now"`) {
		t.Errorf("image culprit should be the config's created date: %+v", img)
	}
	if len(rep.Culprits) != 3 || rep.Culprits[2].StorePath != sumPath {
		t.Errorf("want app and image (roots) then the sum (consequence): %+v", rep.Culprits)
	}
	// Deterministic: the same comparison gives the same bytes.
	var x, y bytes.Buffer
	rep.WriteJSON(&x)
	syntheticReports(t)["differs"].WriteJSON(&y)
	if !bytes.Equal(x.Bytes(), y.Bytes()) {
		t.Error("two runs gave different JSON")
	}
}

// writeFuzzCorpus writes the seed corpus of the fuzz tests from the
// synthetic images and records (TestGolden -update).
func writeFuzzCorpus(t *testing.T) {
	seeds := map[string][2][]byte{
		"FuzzTarDiff/app":          {tarOf(t, appLayer(false)), tarOf(t, appLayer(true))},
		"FuzzTarDiff/sum":          {tarOf(t, sumLayer(false)), tarOf(t, sumLayer(true))},
		"FuzzTarDiff/reordered":    {tarOf(t, appLayer(false)), tarOf(t, reversed(appLayer(false)))},
		"FuzzTarDiff/missing":      {tarOf(t, appLayer(false)), tarOf(t, appLayer(false)[:4])},
		"FuzzTarDiff/empty-vs-app": {nil, tarOf(t, appLayer(true))},
	}
	ia, ib := inputRecords()
	a, b := syntheticRecord("builder-a", imgDrv), syntheticRecord("builder-b", imgDrv)
	for name, pair := range map[string][2]*record.Record{"differs": {a, b}, "inputs": {ia, ib}, "same": {a, a}} {
		ja, _ := pair[0].Marshal()
		jb, _ := pair[1].Marshal()
		seeds["FuzzReportRecords/"+name] = [2][]byte{ja, jb}
	}
	for name, s := range seeds {
		path := filepath.Join("testdata", "fuzz", name)
		os.MkdirAll(filepath.Dir(path), 0o755)
		data := fmt.Sprintf("go test fuzz v1\n[]byte(%s)\n[]byte(%s)\n", strconv.Quote(string(s[0])), strconv.Quote(string(s[1])))
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func reversed(es []tentry) []tentry {
	out := make([]tentry, len(es))
	for i, e := range es {
		out[len(es)-1-i] = e
	}
	return out
}

// TestHintStore checks that hints name a store that exists here, unless
// NoStoreInHints says it will be gone.
func TestHintStore(t *testing.T) {
	store := t.TempDir()
	for _, omit := range []bool{false, true} {
		a, b := recordFor(t, "builder-a", imgDrv, false), recordFor(t, "builder-b", imgDrv, true)
		a.Store, b.Store = store, store
		rep, err := verify.Records(context.Background(), []*record.Record{a, b}, verify.Options{
			Images:         []*image.Image{syntheticImage(t, false), syntheticImage(t, true)},
			NoStoreInHints: omit,
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Culprits) == 0 {
			t.Fatal("no culprits")
		}
		for _, c := range rep.Culprits {
			if named := strings.Contains(c.Hint, " --store "+store); named == omit {
				t.Errorf("NoStoreInHints=%v: hint %q", omit, c.Hint)
			}
		}
	}
}
