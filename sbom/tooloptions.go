package sbom

import (
	"fmt"
	"strconv"
	"time"
)

// ToolOptions are the options every SBOM nixdock writes shares: the tool
// that wrote it, the image's name and manifest digest, and the creation
// time from sde (SOURCE_DATE_EPOCH's seconds; "" leaves it unset).
func ToolOptions(tool, name, digest, sde string) (Options, error) {
	opts := Options{Tool: tool, Name: name, ManifestDigest: digest}
	if sde != "" {
		sec, err := strconv.ParseInt(sde, 10, 64)
		if err != nil {
			return opts, fmt.Errorf("SOURCE_DATE_EPOCH %q is not a number of seconds", sde)
		}
		opts.Created = time.Unix(sec, 0).UTC()
	}
	return opts, nil
}
