package nix

import (
	"context"
	"fmt"
	"time"

	"github.com/nixdock/nixdock-action/record"
)

// Origin finds how outPath came to be in the store. A path Nix substituted
// is rebuilt here and compared with the downloaded copy; a difference is an
// error, since the cache's image is then not what this builder builds.
func (n *Runner) Origin(ctx context.Context, drv, outPath string, started time.Time) (*record.Origin, error) {
	infos, err := n.PathInfo(ctx, false, outPath)
	if err != nil {
		return nil, fmt.Errorf("querying how %s came to be: %w", outPath, err)
	}
	if len(infos) != 1 {
		return nil, fmt.Errorf("querying how %s came to be: nix path-info returned %d paths", outPath, len(infos))
	}
	o := &record.Origin{How: record.OriginBuilt, RegistrationTime: infos[0].RegistrationTime, Host: record.HostFingerprint(),
		StartedAt: started.UTC().Format(time.RFC3339)}
	if !infos[0].Ultimate {
		res, err := n.Check(ctx, drv)
		if err != nil {
			return nil, fmt.Errorf("%s was substituted from a cache, not built here, and rebuilding it to check failed: %w", outPath, err)
		}
		if !res.Deterministic {
			return nil, fmt.Errorf("%s was substituted from a cache, and rebuilding it here gave other bytes: the cache's image is not what this builder builds (%s)", outPath, res.Message)
		}
		o.How = record.OriginRebuilt
	}
	o.FinishedAt = time.Now().UTC().Format(time.RFC3339)
	return o, nil
}
