// Command genimage writes a large, deterministic, Nix-shaped docker-archive
// for benchmarks and tests. See package gen for the flags.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/nixdock/nixdock-action/internal/gen"
)

func main() {
	o := gen.Defaults()
	size := flag.String("size", "1G", "total size of the files (K, M, G suffixes)")
	flag.IntVar(&o.Paths, "paths", o.Paths, "number of store paths")
	flag.IntVar(&o.Layers, "layers", o.Layers, "number of layers")
	flag.Float64Var(&o.Compressible, "compressible", o.Compressible, "share of compressible bytes (0..1)")
	flag.StringVar(&o.Seed, "seed", o.Seed, "seed of all generated data")
	flag.IntVar(&o.DifferFile, "differ-file", o.DifferFile, "store path number whose build-info file differs (-1: none)")
	out := flag.String("out", "", "archive to write (required)")
	list := flag.String("list", "", "also write a JSON summary of store paths and layers to FILE")
	flag.Parse()
	n, err := parseSize(*size)
	if err != nil || *out == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: genimage -out FILE [-size 1G] [-paths N] [-layers N] [-differ-file I] [-list FILE]")
		os.Exit(2)
	}
	o.Size = n
	sum, err := gen.WriteFile(*out, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "genimage:", err)
		os.Exit(3)
	}
	if *list != "" {
		data, _ := json.MarshalIndent(sum, "", "  ")
		if err := os.WriteFile(*list, append(data, '\n'), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "genimage:", err)
			os.Exit(3)
		}
	}
	fmt.Fprintf(os.Stderr, "genimage: wrote %s: %d bytes, %d layers, %d store paths, config %s\n",
		*out, sum.ArchiveSize, len(sum.Layers), len(sum.Paths), sum.ConfigDigest)
}

// parseSize reads 1G, 512M, 64K or a plain byte count.
func parseSize(s string) (int64, error) {
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "G"):
		mult, s = 1<<30, strings.TrimSuffix(s, "G")
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, strings.TrimSuffix(s, "M")
	case strings.HasSuffix(s, "K"):
		mult, s = 1<<10, strings.TrimSuffix(s, "K")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("size %q: want a number with an optional K, M or G", s)
	}
	return n * mult, nil
}
