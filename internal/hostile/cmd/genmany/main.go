// Command genmany writes the hostile archives of the memory benchmark: a
// docker-archive (.tar.gz) whose one layer holds N empty files, every one
// with mtime M, or a config with N labels.
//
//	go run ./internal/hostile/cmd/genmany -entries 1000000 -mtime 1 -out /tmp/a.tar.gz
//	go run ./internal/hostile/cmd/genmany -entries 1000000 -mtime 2 -out /tmp/b.tar.gz
//	go run ./internal/hostile/cmd/genmany -labels 2000000 -out /tmp/labels.tar.gz
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/nixdock/nixdock-action/internal/hostile"
)

func main() {
	entries := flag.Int("entries", 1000000, "files in the layer")
	labels := flag.Int("labels", 0, "labels in the config (instead of entries)")
	mtime := flag.Int64("mtime", 1, "mtime of every file")
	out := flag.String("out", "", "output .tar.gz")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "genmany: -out is required")
		os.Exit(2)
	}
	var err error
	if *labels > 0 {
		err = hostile.WriteLabelsArchive(*out, *labels, *mtime)
	} else {
		err = hostile.WriteManyArchive(*out, *entries, *mtime)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "genmany:", err)
		os.Exit(1)
	}
}
