package sbom

import (
	"flag"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/github/go-spdx/v2/spdxexp/spdxlicenses"
	"github.com/nixdock/nixdock-action/internal/golden"
)

var update = flag.Bool("update", false, "rewrite spdx-license-ids.txt from go-spdx's list")

// licenseListFile renders the license list as spdx-license-ids.txt holds it.
func licenseListFile() []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# SPDX license list %s, from github.com/github/go-spdx/v2 spdxexp/spdxlicenses\n", spdxlicenses.LicenseListVersion())
	section := func(title string, ids ...[]string) {
		var all []string
		for _, l := range ids {
			all = append(all, l...)
		}
		sort.Strings(all)
		b.WriteString("# " + title + "\n")
		for i, id := range all {
			if i == 0 || id != all[i-1] {
				b.WriteString(id + "\n")
			}
		}
	}
	section("licenses (deprecated ones too: they are valid in expressions)", spdxlicenses.GetLicenses(), spdxlicenses.GetDeprecated())
	section("exceptions", spdxlicenses.GetExceptions())
	return []byte(b.String())
}

// TestLicenseListCurrent keeps the embedded list equal to the one go-spdx
// embeds, so that updating that module updates nixdock's list.
func TestLicenseListCurrent(t *testing.T) {
	golden.Check(t, "spdx-license-ids.txt", licenseListFile(), *update)
	if spdxIDs["gpl-3.0-or-later"] != "GPL-3.0-or-later" || spdxExceptions["classpath-exception-2.0"] != "Classpath-exception-2.0" {
		t.Error("the embedded list does not parse")
	}
	if _, ok := spdxIDs["classpath-exception-2.0"]; ok {
		t.Error("an exception is listed as a license")
	}
}
