package lint

import "testing"

// TestSARIFLines: results point at the line of the Nix file that names what
// they are about, as a whole word, and at line 1 when nothing does.
func TestSARIFLines(t *testing.T) {
	nix := "{ pkgs }:\npkgs.dockerTools.buildLayeredImage {\n  name = \"app\";\n  contents = [ pkgs.tzdata-extra pkgs.tzdata ];\n  config.Environment = [ \"A=b\" ];\n  created = \"now\";\n}\n"
	cases := []struct {
		f    Finding
		want int
	}{
		{Finding{Location: Location{ConfigKey: "config.Environment"}}, 5},
		{Finding{Location: Location{ConfigKey: "created"}}, 6},
		{Finding{Location: Location{Path: "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-tzdata-2024a/share/zoneinfo/posix",
			StorePath: "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-tzdata-2024a"}}, 4},
		{Finding{Location: Location{ConfigKey: "config.User"}}, 1},
		{Finding{Location: Location{Path: "/etc/passwd"}}, 1},
	}
	for _, c := range cases {
		if got := lineOf(nix, sourceNeedles(c.f)); got != c.want {
			t.Errorf("%+v: line %d, want %d", c.f.Location, got, c.want)
		}
	}
	if got := lineOf("", []string{"created"}); got != 1 {
		t.Errorf("no text: line %d", got)
	}
}
