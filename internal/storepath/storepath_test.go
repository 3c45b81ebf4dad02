package storepath

import "testing"

func TestOf(t *testing.T) {
	const sp = "/nix/store/00000000000000000000000000000000-hello-1.0"
	for in, want := range map[string]string{
		sp:                sp,
		sp + "/bin/hello": sp,
		"nix/store/00000000000000000000000000000000-hello-1.0/x":   sp,
		"./nix/store/00000000000000000000000000000000-hello-1.0/x": sp,
		"/nix/store/short-name":                                    "",
		"/nix/store/":                                              "",
		"/etc/passwd":                                              "",
	} {
		if got := Of(in); got != want {
			t.Errorf("Of(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestName(t *testing.T) {
	for in, want := range map[string]string{
		"/nix/store/00000000000000000000000000000000-hello-1.0":     "hello-1.0",
		"/nix/store/00000000000000000000000000000000-hello-1.0.drv": "hello-1.0.drv",
		"/etc/passwd": "passwd",
		// Not a base-32 hash: no store path, so no hash to strip.
		"/nix/store/eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee-x": "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee-x",
	} {
		if got := Name(in); got != want {
			t.Errorf("Name(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIsBase(t *testing.T) {
	for in, want := range map[string]bool{
		"00000000000000000000000000000000-hello-1.0":     true,
		"cmk28bpfylacvxbixl73d2ckrikxsmqc-x":             true,
		"eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee-x":             false, // e is not base-32
		"0000000000000000000000000000000-x":              false, // 31 characters
		"00000000000000000000000000000000-":              false, // no name
		"00000000000000000000000000000000_hello":         false,
		".wh.00000000000000000000000000000000-hello-1.0": false,
		".links": false,
	} {
		if got := IsBase(in); got != want {
			t.Errorf("IsBase(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestSplit(t *testing.T) {
	const base = "00000000000000000000000000000000-hello-1.0"
	for in, want := range map[string][2]string{
		Dir + "/" + base:                {base, ""},
		Dir + "/" + base + "/bin/hello": {base, "bin/hello"},
		Dir:                             {"", ""},
		Dir + "/.links/abc":             {"", ""},
		"/etc/passwd":                   {"", ""},
		"/tmp/root" + Dir + "/" + base:  {"", ""},
		"nix/store/" + base + "/bin/x":  {"", ""}, // not absolute
	} {
		if b, r := Split(in); b != want[0] || r != want[1] {
			t.Errorf("Split(%q) = %q, %q, want %q", in, b, r, want)
		}
	}
}

func TestHash(t *testing.T) {
	const h = "00000000000000000000000000000000"
	for in, want := range map[string]string{
		Dir + "/" + h + "-hello-1.0": h,
		h + "-hello-1.0.drv":         h,
		Dir + "/short-x":             "",
		"/etc/passwd":                "",
	} {
		if got := Hash(in); got != want {
			t.Errorf("Hash(%q) = %q, want %q", in, got, want)
		}
	}
}
