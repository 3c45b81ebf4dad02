package schematest

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Dir is where the schemas are kept.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "sbom", "testdata", "schema")
}

// Compile compiles the schema in file main of Dir, whose $id is id; the
// extra files are the schemas it refers to, next to it.
func Compile(t testing.TB, main, id string, extra ...string) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	base := id[:strings.LastIndexByte(id, '/')+1]
	for _, f := range append([]string{main}, extra...) {
		data, err := os.ReadFile(filepath.Join(Dir(), f))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		url := base + f
		if f == main {
			url = id
		}
		if err := c.AddResource(url, doc); err != nil {
			t.Fatal(err)
		}
	}
	s, err := c.Compile(id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// SPDX is the SPDX 2.3 schema.
func SPDX(t testing.TB) *jsonschema.Schema {
	return Compile(t, "spdx-schema-2.3.json", "http://spdx.org/rdf/terms/2.3")
}

// CycloneDX is the CycloneDX 1.6 schema.
func CycloneDX(t testing.TB) *jsonschema.Schema {
	return Compile(t, "bom-1.6.schema.json", "http://cyclonedx.org/schema/bom-1.6.schema.json",
		"spdx.schema.json", "jsf-0.82.schema.json")
}

// Validate fails t unless data is valid against s.
func Validate(t testing.TB, s *jsonschema.Schema, what string, data []byte) {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if err := s.Validate(inst); err != nil {
		t.Errorf("%s against its schema: %v", what, err)
	}
}
