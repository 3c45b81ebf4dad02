package reproduce

import (
	"errors"
	"strings"
	"testing"
)

func TestStoreHint(t *testing.T) {
	nsErr := errors.New("nix build --store /tmp/x failed: error: setting up a private mount namespace: Operation not permitted")
	if h := storeHint(nsErr); !strings.Contains(h, "two runners") || !strings.Contains(h, "user namespaces") {
		t.Errorf("hint for a namespace failure = %q", h)
	}
	if h := storeHint(errors.New("builder for '/nix/store/x.drv' failed with exit code 1")); h != "" {
		t.Errorf("a plain build failure got a store hint: %q", h)
	}
}
