package sbom

import (
	"fmt"
	"strings"
	"unicode"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/spdx/tools-golang/spdx/v2/common"
)

// Party is who wrote an SBOM (its author, an NTIA minimum element) or
// supplies the image it describes: a person or an organization, with an
// optional e-mail address.
type Party struct {
	// Type is "Person" or "Organization", as SPDX writes them.
	Type  string `json:"type"`
	Name  string `json:"name"`
	Email string `json:"email,omitempty"`
}

// maxPartyName bounds a party's name (SPDX and CycloneDX set none; a
// name longer than this is a mistake, not a name).
const maxPartyName = 200

// ParseParty reads SPDX's creator form: "Person: NAME (EMAIL)",
// "Organization: NAME (EMAIL)", the e-mail address optional (also as
// "<EMAIL>"); without a type it is an organization. The name may not hold control characters or
// parentheses (SPDX could not tell them from the e-mail part), and the
// e-mail must look like an address.
func ParseParty(s string) (Party, error) {
	p := Party{Type: "Organization"}
	rest := strings.TrimSpace(s)
	if t, r, ok := cutPartyType(rest); ok {
		p.Type, rest = t, r
		if t2, _, twice := cutPartyType(rest); twice {
			return Party{}, fmt.Errorf("%q: both %s and %s; write one type", s, t, t2)
		}
	}
	for _, br := range []string{"()", "<>"} { // NAME (EMAIL), or git's NAME <EMAIL>
		if !strings.HasSuffix(rest, br[1:]) {
			continue
		}
		i := strings.LastIndex(rest, br[:1])
		if i < 0 {
			return Party{}, fmt.Errorf("%q: a %q without its %q; write NAME or NAME (EMAIL)", s, br[1:], br[:1])
		}
		email := strings.TrimSpace(rest[i+1 : len(rest)-1])
		if p.Email = cleanEmail(email); p.Email == "" {
			return Party{}, fmt.Errorf("%q: %q is no e-mail address", s, email)
		}
		rest = strings.TrimSpace(rest[:i])
		break
	}
	p.Name = rest
	switch {
	case p.Name == "":
		return Party{}, fmt.Errorf("%q: no name; write [Person: |Organization: ]NAME [(EMAIL)]", s)
	case len(p.Name) > maxPartyName:
		return Party{}, fmt.Errorf("%.40q...: a name of %d bytes (at most %d)", s, len(p.Name), maxPartyName)
	case strings.ContainsAny(p.Name, "()<>"):
		return Party{}, fmt.Errorf("%q: the name holds a parenthesis or angle bracket, which SPDX cannot tell from the e-mail part", s)
	case strings.IndexFunc(p.Name, unicode.IsControl) >= 0:
		return Party{}, fmt.Errorf("%q: the name holds a control character", s)
	}
	return p, nil
}

// text is the party as SPDX writes it after its type: "NAME (EMAIL)".
func (p *Party) text() string {
	if p.Email != "" {
		return p.Name + " (" + p.Email + ")"
	}
	return p.Name
}

func (p *Party) spdxCreator() common.Creator {
	return common.Creator{CreatorType: p.Type, Creator: p.text()}
}

func (p *Party) spdxSupplier() *common.Supplier {
	return &common.Supplier{SupplierType: p.Type, Supplier: p.text()}
}

func (p *Party) cdxContact() cdx.OrganizationalContact {
	return cdx.OrganizationalContact{Name: p.Name, Email: p.Email}
}

// cdxEntity is the party as an organizational entity (CycloneDX's
// supplier and manufacturer); a person is its own contact, an
// organization's e-mail address its contact's.
func (p *Party) cdxEntity() *cdx.OrganizationalEntity {
	e := &cdx.OrganizationalEntity{Name: p.Name}
	switch {
	case p.Type == "Person":
		e.Contact = &[]cdx.OrganizationalContact{p.cdxContact()}
	case p.Email != "":
		e.Contact = &[]cdx.OrganizationalContact{{Email: p.Email}}
	}
	return e
}

// cutPartyType cuts a leading "Person:" or "Organization:" (in any case,
// as people type it; SPDX writes them so) off s.
func cutPartyType(s string) (typ, rest string, ok bool) {
	for _, t := range []string{"Person", "Organization"} {
		if len(s) > len(t) && s[len(t)] == ':' && strings.EqualFold(s[:len(t)], t) {
			return t, strings.TrimSpace(s[len(t)+1:]), true
		}
	}
	return "", s, false
}
