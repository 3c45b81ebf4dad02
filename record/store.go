package record

// PathInfo is one store path of a closure, as Nix knows it.
type PathInfo struct {
	Path string `json:"path"`
	// NarHash is "sha256:<hex>", normalized from Nix's SRI or base-32 form.
	NarHash    string   `json:"narHash"`
	NarSize    int64    `json:"narSize"`
	References []string `json:"references"`
	Deriver    string   `json:"deriver,omitempty"`
	// Ultimate is true when this store built the path itself rather than
	// substituting it from a binary cache.
	Ultimate bool `json:"ultimate,omitempty"`
	// RegistrationTime is when the path became valid in the store (Unix
	// seconds). Records keep it only for the image (Origin).
	RegistrationTime int64 `json:"-"`
}

// Derivation is a .drv in the shape nixdock keeps in records: the inputs that
// determine the output path, normalized across Nix versions.
type Derivation struct {
	Name    string            `json:"name,omitempty"`
	System  string            `json:"system"`
	Builder string            `json:"builder"`
	Args    []string          `json:"args"`
	Outputs map[string]string `json:"outputs"`
	// InputDrvs maps each input .drv to the outputs used, sorted.
	InputDrvs map[string][]string `json:"inputDrvs"`
	InputSrcs []string            `json:"inputSrcs"`
	Env       map[string]string   `json:"env"`
}
