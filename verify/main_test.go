package verify_test

import (
	"flag"
	"os"
	"testing"

	"github.com/nixdock/nixdock-action/internal/nixtest"
)

var update = flag.Bool("update", false, "rewrite the golden files and the seed fuzz corpus")

var tempStores []string

// makeTempStore makes a chroot store that TestMain removes at the end.
func makeTempStore() (string, error) {
	dir, err := os.MkdirTemp("", "nixdock-verify-store-")
	if err == nil {
		tempStores = append(tempStores, dir)
	}
	return dir, err
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	for _, s := range shared.builds {
		s.Image.Close()
	}
	for _, dir := range tempStores {
		nixtest.RemoveStore(dir)
	}
	os.Exit(code)
}
