package hostile

import (
	"os"
	"os/exec"
	"testing"
)

// TinyDisk mounts a tmpfs of size bytes on a new directory for the test
// and returns it: a disk that fills up. It needs root (CI runs as root);
// elsewhere the test is skipped, unless NIXDOCK_REQUIRE_TOOLS=1 makes that
// a failure.
func TinyDisk(t testing.TB, size string) string {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput()
	if err != nil {
		if os.Getenv("NIXDOCK_REQUIRE_TOOLS") == "1" {
			t.Fatalf("mounting a tmpfs (needs root): %v: %s", err, out)
		}
		t.Skipf("mounting a tmpfs needs root: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	return dir
}

// ZstdZeros is a zstd frame of n zero bytes (n > 0) made of RLE blocks of
// 128 KiB: 4 bytes per block, so 6 GiB take 192 KB and no time to make.
func ZstdZeros(n int64) []byte {
	const block = 128 << 10
	out := []byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, 7 << 3} // magic, no content size, 128 KiB window
	for n > 0 {
		size := min(n, block)
		n -= size
		hdr := uint32(1<<1) | uint32(size)<<3 // RLE block
		if n == 0 {
			hdr |= 1 // the last block
		}
		out = append(out, byte(hdr), byte(hdr>>8), byte(hdr>>16), 0)
	}
	return out
}
