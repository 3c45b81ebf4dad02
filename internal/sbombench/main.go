// Command sbombench writes the image of the SBOM benchmark
// (scripts/bench-sbom): a docker-archive of N Nix-shaped store paths over L
// layers whose files refer to other store paths, so that there are
// dependency edges to find (internal/gen's images have none). Deterministic:
// the same flags give the same bytes.
//
//	go run ./internal/sbombench -paths 2000 -layers 100 -size 256M -out /tmp/sbom-bench.tar -truth /tmp/truth.json
//
// -truth writes the expected SBOM facts (store paths and their references)
// for checking what a tool found.
package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"sort"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/nixdock/nixdock-action/nix"
)

type storePath struct {
	Path       string   `json:"path"`
	References []string `json:"references"`
	pname      string
}

func main() {
	paths := flag.Int("paths", 2000, "store paths")
	layers := flag.Int("layers", 100, "layers")
	size := flag.Int64("size", 256<<20, "total bytes of file contents")
	out := flag.String("out", "", "docker-archive to write")
	truth := flag.String("truth", "", "write the store paths and references as JSON")
	flag.Parse()
	if *out == "" || *paths < 1 || *layers < 1 || *layers > *paths {
		fmt.Fprintln(os.Stderr, "usage: sbombench -out FILE [-paths N] [-layers L] [-size BYTES] [-truth FILE]")
		os.Exit(2)
	}
	sps := plan(*paths)
	if err := write(*out, sps, *layers, *size/int64(*paths)); err != nil {
		fmt.Fprintln(os.Stderr, "sbombench:", err)
		os.Exit(3)
	}
	if *truth != "" {
		data, _ := json.MarshalIndent(sps, "", " ")
		if err := os.WriteFile(*truth, data, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "sbombench:", err)
			os.Exit(3)
		}
	}
}

// plan names the store paths and gives each up to 3 references to others.
func plan(n int) []storePath {
	rng := rand.New(rand.NewChaCha8([32]byte{'s', 'b', 'o', 'm'}))
	sps := make([]storePath, n)
	for i := range sps {
		h := sha256.Sum256([]byte(fmt.Sprintf("sbom-bench-%d", i)))
		pname := fmt.Sprintf("pkg%04d", i)
		sps[i] = storePath{Path: nix.StoreDir + "/" + nix.EncodeNix32(h[:20]) + "-" + pname + "-1." + fmt.Sprint(i%10), pname: pname}
	}
	sort.Slice(sps, func(i, j int) bool { return sps[i].Path < sps[j].Path })
	for i := range sps {
		refs := map[string]bool{}
		for k := rng.IntN(4); k > 0; k-- {
			if j := rng.IntN(n); j != i {
				refs[sps[j].Path] = true
			}
		}
		sps[i].References = []string{}
		for r := range refs {
			sps[i].References = append(sps[i].References, r)
		}
		sort.Strings(sps[i].References)
	}
	return sps
}

func write(out string, sps []storePath, nlayers int, perPath int64) error {
	img := empty.Image
	per := (len(sps) + nlayers - 1) / nlayers
	for start := 0; start < len(sps); start += per {
		end := min(start+per, len(sps))
		data, err := layerTar(sps[start:end], perPath)
		if err != nil {
			return err
		}
		l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
		if err != nil {
			return err
		}
		if img, err = mutate.AppendLayers(img, l); err != nil {
			return err
		}
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cfg = cfg.DeepCopy()
	cfg.Architecture, cfg.OS = "amd64", "linux"
	cfg.Created = v1.Time{}
	if img, err = mutate.ConfigFile(img, cfg); err != nil {
		return err
	}
	tag, _ := name.NewTag("sbom-bench:latest")
	return tarball.WriteToFile(out, tag, img)
}

// layerTar writes the store paths in NAR order, as tar --sort=name does.
func layerTar(sps []storePath, perPath int64) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dir := func(n string) error {
		return tw.WriteHeader(&tar.Header{Name: n + "/", Typeflag: tar.TypeDir, Mode: 0o555, Format: tar.FormatGNU})
	}
	file := func(n string, mode int64, body []byte) error {
		if err := tw.WriteHeader(&tar.Header{Name: n, Typeflag: tar.TypeReg, Mode: mode, Size: int64(len(body)), Format: tar.FormatGNU}); err != nil {
			return err
		}
		_, err := tw.Write(body)
		return err
	}
	for _, sp := range sps {
		root := sp.Path[1:]
		script := "#!/bin/sh\n"
		for _, r := range sp.References {
			script += "export PATH=" + r + "/bin:$PATH\n"
		}
		script += "exec " + sp.Path + "/lib/run\n"
		rng := rand.New(rand.NewChaCha8(sha256.Sum256([]byte(sp.Path))))
		lib := make([]byte, perPath/2)
		for i := range lib {
			lib[i] = byte(rng.Uint32())
		}
		doc := bytes.Repeat([]byte(sp.pname+" documentation line\n"), int(perPath/2/int64(len(sp.pname)+20))+1)
		for _, step := range []func() error{
			func() error { return dir(root) },
			func() error { return dir(root + "/bin") },
			func() error { return file(root+"/bin/"+sp.pname, 0o555, []byte(script)) },
			func() error { return dir(root + "/lib") },
			func() error { return file(root+"/lib/lib"+sp.pname+".so", 0o444, lib) },
			func() error { return dir(root + "/share") },
			func() error { return dir(root + "/share/doc") },
			func() error { return file(root+"/share/doc/README", 0o444, doc) },
		} {
			if err := step(); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
