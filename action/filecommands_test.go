package action

import "testing"

func TestParseFileCommands(t *testing.T) {
	got, err := ParseFileCommands("a<<EOF1\nx\ny\nEOF1\nb<<Z\n\nZ\n")
	if err != nil {
		t.Fatal(err)
	}
	if got["a"] != "x\ny" || got["b"] != "" || len(got) != 2 {
		t.Errorf("got %q", got)
	}
	for _, bad := range []string{"a=1\n", "a<<EOF\nx\n"} {
		if _, err := ParseFileCommands(bad); err == nil {
			t.Errorf("ParseFileCommands(%q) = nil error", bad)
		}
	}
}
