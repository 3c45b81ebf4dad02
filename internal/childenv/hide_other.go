//go:build !linux

package childenv

// HideOwn does nothing outside Linux: /proc/PID/environ is Linux's.
func HideOwn() error { return nil }
