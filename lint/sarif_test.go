package lint

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The schema check must be able to fail: a SARIF log with a bad level is
// rejected.
func TestSARIFSchemaRejectsBadLogs(t *testing.T) {
	s := compileSARIFSchema(t)
	res := runSynth(t, synthImage(t, `{"config":{"Environment":["A=1"],"Cmd":["/bin/app"]}}`,
		[]file{dir("bin/"), reg("bin/app", "\x7fELF", 0o555), {name: "tmp/", typ: '5', mode: 0o1777}}), Options{})
	var b bytes.Buffer
	if err := res.WriteSARIF(&b); err != nil {
		t.Fatal(err)
	}
	validate(t, s, b.Bytes())
	var doc map[string]any
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	r := doc["runs"].([]any)[0].(map[string]any)["results"].([]any)[0].(map[string]any)
	if r["ruleId"] != "config-unknown-key" {
		t.Fatalf("first result %v", r["ruleId"])
	}
	r["level"] = "fatal"
	bad, _ := json.Marshal(doc)
	v, _ := jsonschemaUnmarshal(bad)
	if err := s.Validate(v); err == nil {
		t.Fatal("a result with level \"fatal\" validated")
	}
}

func jsonschemaUnmarshal(b []byte) (any, error) { return jsonschema.UnmarshalJSON(bytes.NewReader(b)) }
