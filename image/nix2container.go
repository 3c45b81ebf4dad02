package image

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/nixdock/nixdock-action/internal/storepath"
)

// Nix2Container is the JSON file nix2container's buildImage writes (its
// types.Image): the image config and, for each layer, either the store
// paths its tar is made of or a blob file (layer-path). nix2container never
// writes those tars: its skopeo transport re-creates them when the image is
// copied, and so does nixdock (see n2ctar.go).
type Nix2Container struct {
	Version     *int                `json:"version"`
	ImageConfig ocispec.ImageConfig `json:"image-config"`
	Layers      *[]N2CLayer         `json:"layers"`
	Arch        string              `json:"arch"`
	Created     *time.Time          `json:"created"`
}

// N2CVersion is the only nix2container image version nixdock reads.
const N2CVersion = 1

// N2CLayer is one layer of a nix2container image.
type N2CLayer struct {
	Digest    string    `json:"digest"`
	Size      int64     `json:"size"`
	DiffIDs   string    `json:"diff_ids"` // one digest, despite the name
	Paths     []N2CPath `json:"paths,omitempty"`
	MediaType string    `json:"mediatype"`
	LayerPath string    `json:"layer-path,omitempty"`
	// History has no JSON tag upstream, so its key is "History".
	History ocispec.History `json:"History"`
}

// N2CPath is a store path of a layer and how it is placed in the tar.
type N2CPath struct {
	Path    string          `json:"path"`
	Options *N2CPathOptions `json:"options,omitempty"`
}

// N2CPathOptions are a path's rewrite, permissions and exclusion.
type N2CPathOptions struct {
	Rewrite           N2CRewrite `json:"rewrite"`
	Perms             []N2CPerm  `json:"perms,omitempty"`
	IgnoreDestination string     `json:"ignoreDestination,omitempty"`
}

// N2CRewrite replaces Regex by Repl in a source path to name it in the tar.
type N2CRewrite struct {
	Regex string `json:"regex"`
	Repl  string `json:"repl"`
}

// N2CPerm sets ownership and mode of the files whose source path matches
// Regex. Mode replaces the mode (octal); OrMode adds bits to it.
type N2CPerm struct {
	Regex  string `json:"regex"`
	Mode   string `json:"mode"`
	OrMode string `json:"orMode,omitempty"`
	UID    int    `json:"uid"`
	GID    int    `json:"gid"`
	Uname  string `json:"uname"`
	Gname  string `json:"gname"`
}

// UnmarshalJSON refuses fields nixdock does not know: a path option that
// changes the tar (a tar source, capabilities) would otherwise be ignored
// and every layer using it would fail its diff_id check with a less clear
// message.
func (p *N2CPath) UnmarshalJSON(data []byte) error {
	type plain N2CPath
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var v plain
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("path %s: %w (nixdock re-creates layers from path, rewrite, perms and ignoreDestination only)", bytes.TrimSpace(data[:min(len(data), 200)]), err)
	}
	*p = N2CPath(v)
	return nil
}

// maxN2CJSON bounds the JSON file read into memory.
const maxN2CJSON = 256 << 20

// ParseNix2Container parses nix2container's image JSON. It returns an error
// wrapping ErrNotImage when data is JSON of another shape, and ErrBadArchive
// when it is a nix2container image nixdock cannot read.
func ParseNix2Container(data []byte) (*Nix2Container, error) {
	var n Nix2Container
	if err := json.Unmarshal(data, &n); err != nil {
		if !json.Valid(data) {
			return nil, fmt.Errorf("%w: not JSON: %v", ErrNotImage, err)
		}
		return nil, fmt.Errorf("%w: %v", ErrBadArchive, err)
	}
	if n.Version == nil || n.Layers == nil {
		return nil, fmt.Errorf("%w: JSON without nix2container's \"version\" and \"layers\"", ErrNotImage)
	}
	if *n.Version != N2CVersion {
		return nil, fmt.Errorf("%w: nix2container image version %d, nixdock reads version %d", ErrBadArchive, *n.Version, N2CVersion)
	}
	for i, l := range *n.Layers {
		if _, err := v1.NewHash(l.DiffIDs); err != nil {
			return nil, fmt.Errorf("%w: layer %d: diff_ids %q: %v", ErrBadArchive, i, l.DiffIDs, err)
		}
		if l.LayerPath != "" && len(l.Paths) == 0 && l.Digest == "" {
			return nil, fmt.Errorf("%w: layer %d: layer-path without a digest", ErrBadArchive, i)
		}
	}
	return &n, nil
}

// ConfigBlob is the image config nix2container's transport serves for n
// (nix/image.go getV1Image upstream, marshalled the same way), so that its
// digest is the one nix2container pushes.
func (n *Nix2Container) ConfigBlob() ([]byte, error) {
	img := ocispec.Image{
		Platform: ocispec.Platform{OS: "linux", Architecture: n.Arch},
		Config:   n.ImageConfig,
		Created:  n.Created,
	}
	for _, l := range *n.Layers {
		img.RootFS.DiffIDs = append(img.RootFS.DiffIDs, digest.Digest(l.DiffIDs))
		img.RootFS.Type = "layers" // only when there is a layer, as upstream
		img.History = append(img.History, l.History)
	}
	return json.Marshal(img)
}

// openNix2container opens nix2container's JSON at src. Store paths and
// layer-path files are read under opts.StoreRoot.
func openNix2container(src string, opts Options) (*Image, error) {
	data, err := readSmallFile(src, maxN2CJSON)
	if err != nil {
		return nil, err
	}
	n, err := ParseNix2Container(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", src, err)
	}
	if opts.StoreRoot == "" {
		if err := storePathsOnly(n); err != nil {
			return nil, fmt.Errorf("%w %s: %v", ErrBadArchive, src, err)
		}
	}
	rawConfig, err := n.ConfigBlob()
	if err != nil {
		return nil, fmt.Errorf("%w %s: config: %v", ErrBadArchive, src, err)
	}
	core := &n2cCore{rawConfig: rawConfig, layers: map[v1.Hash]*n2cLayer{}}
	tarOpts := n2cTarOptions{StoreRoot: opts.StoreRoot}
	for i, l := range *n.Layers {
		diffID, _ := v1.NewHash(l.DiffIDs) // checked by ParseNix2Container
		if _, dup := core.layers[diffID]; dup {
			continue // both positions are served, and checked, from the first
		}
		nl := &n2cLayer{source: src, index: i, layer: l, diffID: diffID, opts: tarOpts}
		if err := nl.checkBlob(); err != nil {
			return nil, err
		}
		core.layers[diffID] = nl
	}
	img, err := partial.UncompressedToImage(core)
	if err != nil {
		return nil, fmt.Errorf("%w %s: %v", ErrBadArchive, src, err)
	}
	return &Image{Image: diffIDImage{img}, Form: FormNix2container, Source: src}, nil
}

func readSmallFile(name string, max int64) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", name, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%w %s: more than %d bytes of JSON", ErrBadArchive, name, max)
	}
	return data, nil
}

// n2cCore is the partial.UncompressedImageCore of a nix2container image.
type n2cCore struct {
	rawConfig []byte
	layers    map[v1.Hash]*n2cLayer
}

func (c *n2cCore) RawConfigFile() ([]byte, error) { return c.rawConfig, nil }
func (c *n2cCore) MediaType() (types.MediaType, error) {
	return types.OCIManifestSchema1, nil
}
func (c *n2cCore) LayerByDiffID(h v1.Hash) (partial.UncompressedLayer, error) {
	l, ok := c.layers[h]
	if !ok {
		return nil, fmt.Errorf("no layer with diff_id %s", h)
	}
	return l, nil
}

// n2cLayer is a layer re-created from store paths, or read from its
// layer-path blob.
type n2cLayer struct {
	source string
	index  int
	layer  N2CLayer
	diffID v1.Hash
	opts   n2cTarOptions
}

func (l *n2cLayer) DiffID() (v1.Hash, error)            { return l.diffID, nil }
func (l *n2cLayer) MediaType() (types.MediaType, error) { return types.OCILayer, nil }

// checkBlob checks, at open time, that a layer-path blob exists with the
// size the JSON records.
func (l *n2cLayer) checkBlob() error {
	if l.layer.LayerPath == "" {
		return nil
	}
	fi, err := os.Stat(l.opts.fsPath(l.layer.LayerPath))
	if err != nil {
		return fmt.Errorf("%w %s: layer %d: %v", ErrBadArchive, l.source, l.index, err)
	}
	if l.layer.Size > 0 && fi.Size() != l.layer.Size {
		return fmt.Errorf("%w %s: layer %d: %s is %d bytes, the JSON says %d",
			ErrBadArchive, l.source, l.index, l.layer.LayerPath, fi.Size(), l.layer.Size)
	}
	return nil
}

// Uncompressed streams the layer's tar and fails at its end when the bytes
// do not hash to the diff_id nix2container recorded: a change of
// nix2container's tar format, or a store path that is not the one it
// hashed, can never give wrong data silently.
func (l *n2cLayer) Uncompressed() (io.ReadCloser, error) {
	if l.layer.LayerPath != "" {
		return l.blob()
	}
	pr, pw := io.Pipe()
	go func() {
		err := writeN2CTar(pw, l.layer.Paths, l.opts)
		if err != nil {
			err = fmt.Errorf("%s: re-creating layer %d: %w", l.source, l.index, err)
		}
		pw.CloseWithError(err)
	}()
	return verifying(pr, l.diffID, func(got v1.Hash) error {
		return fmt.Errorf("%w %s: layer %d re-created from %s hashes to %s, but nix2container recorded diff_id %s "+
			"(the store path differs from the one nix2container hashed, or nix2container's tar format changed; "+
			"pushing this JSON with nix2container would fail with \"Digest did not match\")",
			ErrBadArchive, l.source, l.index, n2cPathList(l.layer.Paths), got, l.diffID)
	}), nil
}

// n2cPathList names a layer's store paths for an error: up to three, and
// how many more.
func n2cPathList(ps []N2CPath) string {
	var names []string
	for i, p := range ps {
		if i == 3 {
			names = append(names, fmt.Sprintf("and %d more", len(ps)-3))
			break
		}
		names = append(names, p.Path)
	}
	if len(names) == 0 {
		return "no store path"
	}
	return strings.Join(names, ", ")
}

// blob streams a layer-path file, decompressed when it is compressed.
func (l *n2cLayer) blob() (io.ReadCloser, error) {
	f, err := os.Open(l.opts.fsPath(l.layer.LayerPath))
	if err != nil {
		return nil, fmt.Errorf("%w %s: layer %d: %v", ErrBadArchive, l.source, l.index, err)
	}
	rc, err := decompressed(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%w %s: layer %d: %s: %v", ErrBadArchive, l.source, l.index, l.layer.LayerPath, err)
	}
	return verifying(&closeBoth{ReadCloser: rc, f: f}, l.diffID, func(got v1.Hash) error {
		return fmt.Errorf("%w %s: layer %d (%s) hashes to %s, but nix2container recorded diff_id %s",
			ErrBadArchive, l.source, l.index, l.layer.LayerPath, got, l.diffID)
	}), nil
}

// closeBoth closes a decompressor and the file under it.
type closeBoth struct {
	io.ReadCloser
	f *os.File
}

func (c *closeBoth) Close() error {
	err := c.ReadCloser.Close()
	if ferr := c.f.Close(); err == nil {
		err = ferr
	}
	return err
}

// storePathsOnly refuses a JSON that names anything but store paths:
// nix2container only ever names store paths, and a hostile JSON naming "/"
// or /etc must not make nixdock read the host. (With a StoreRoot, every path
// is read under that root.)
func storePathsOnly(n *Nix2Container) error {
	for i, l := range *n.Layers {
		if l.LayerPath != "" && !inStore(l.LayerPath) {
			return fmt.Errorf("layer %d: layer-path %s is not in /nix/store", i, l.LayerPath)
		}
		for _, p := range l.Paths {
			if !inStore(p.Path) {
				return fmt.Errorf("layer %d: path %s is not in /nix/store", i, p.Path)
			}
		}
	}
	return nil
}

// inStore reports whether p is a path below /nix/store, with no ".." that
// could climb out of it.
func inStore(p string) bool {
	return strings.HasPrefix(p, storepath.Dir+"/") && path.Clean(p) == p && !strings.Contains(p, "/../")
}
