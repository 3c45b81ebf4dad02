package image_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/nixdock/nixdock-action/image"
)

// renameSecondLayer makes the manifest's second layer a copy of its first
// under another name (a different file with the same bytes).
func renameSecondLayer(t *testing.T, ms []member) []member {
	var man []map[string]any
	if err := json.Unmarshal(ms[1].data, &man); err != nil {
		t.Fatal(err)
	}
	layers := man[0]["Layers"].([]any)
	layers[1] = "copy/layer.tar"
	data, _ := json.Marshal(man)
	out := append([]member{}, ms...)
	out[1] = member{name: "manifest.json", data: data}
	return append(out, member{name: "copy/layer.tar", data: ms[2].data})
}

// TestDuplicateDiffID: two manifest layers with one diff_id are served from
// one file, so another file under the same diff_id must hold the same bytes.
func TestDuplicateDiffID(t *testing.T) {
	l1 := layerTar(t, "nix/store/aaaa-one/file", "one\n")
	evil := layerTar(t, "nix/store/aaaa-one/file", "EVIL\n")
	id := "sha256:" + sha(l1)
	tampered := archiveOf(t, [][]byte{evil, l1}, []string{id, id})
	src := writeTemp(t, "dup.tar", tarOf(t, tampered))
	_, err := openAndDescribe(src)
	if !errors.Is(err, image.ErrBadArchive) {
		t.Fatalf("tampered duplicate: got %v, want ErrBadArchive", err)
	}
	for _, want := range []string{src, sha(evil) + "/layer.tar", sha(l1) + "/layer.tar", "same diff_id"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}

	// The same file named twice, and a different file with the same bytes,
	// are both fine.
	same := archiveOf(t, [][]byte{l1, l1}, nil)
	for name, ms := range map[string][]member{"same.tar": same, "copy.tar": renameSecondLayer(t, same)} {
		d, err := openAndDescribe(writeTemp(t, name, tarOf(t, ms)))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(d.Layers) != 2 || d.Layers[0].DiffID != id || d.Layers[1].DiffID != id {
			t.Errorf("%s: layers %+v, want two with diff_id %s", name, d.Layers, id)
		}
	}
}
