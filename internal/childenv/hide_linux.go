package childenv

import "syscall"

// HideOwn makes this process's /proc files (its environ, memory, open
// files) unreadable to other processes of the same user, and its memory
// closed to their ptrace: the kernel treats a non-dumpable process as
// root's. Its own secrets (a token, a cosign password, the OIDC request
// variables) then stay out of reach of code nixdock runs as the same user,
// such as an impure Nix evaluation reading /proc/PPID/environ. Programs it
// starts are dumpable again (execve resets it): their environment is
// built without the secrets (Environ).
func HideOwn() error {
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_DUMPABLE, 0, 0); errno != 0 {
		return errno
	}
	return nil
}
