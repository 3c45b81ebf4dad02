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
	} {
		if got := Name(in); got != want {
			t.Errorf("Name(%q) = %q, want %q", in, got, want)
		}
	}
}
