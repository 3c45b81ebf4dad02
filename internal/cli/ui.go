package cli

import (
	"fmt"
	"io"
	"os"
	"sync"
)

// UI is the one place commands write through: reports to Out, progress and
// errors to Err. Tests capture both.
type UI struct {
	Out io.Writer
	Err io.Writer
	// TTY is true when Err is a terminal: progress lines are redrawn in
	// place and colour is allowed.
	TTY bool
	// Actions is true inside GitHub Actions: long steps become log groups.
	Actions bool

	mu       sync.Mutex
	progress bool
}

// NewUI returns a UI writing to out and err.
func NewUI(out, err io.Writer) *UI {
	ui := &UI{Out: out, Err: err, Actions: os.Getenv("GITHUB_ACTIONS") == "true"}
	if f, ok := err.(*os.File); ok {
		if fi, e := f.Stat(); e == nil && fi.Mode()&os.ModeCharDevice != 0 && os.Getenv("TERM") != "dumb" {
			ui.TTY = true
		}
	}
	return ui
}

// Progress shows a step of long work: redrawn on one line on a terminal,
// one line each otherwise.
func (u *UI) Progress(format string, args ...any) {
	u.mu.Lock()
	defer u.mu.Unlock()
	msg := fmt.Sprintf(format, args...)
	if u.TTY {
		fmt.Fprintf(u.Err, "\r\033[K%s", msg)
		u.progress = true
		return
	}
	fmt.Fprintf(u.Err, "nixdock: %s\n", msg)
}

// endProgress finishes a redrawn progress line.
func (u *UI) endProgress() {
	if u.progress {
		fmt.Fprint(u.Err, "\r\033[K")
		u.progress = false
	}
}

// Infof prints a message for people on stderr.
func (u *UI) Infof(format string, args ...any) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.endProgress()
	fmt.Fprintf(u.Err, format+"\n", args...)
}

// Errorf prints an error as one line on stderr.
func (u *UI) Errorf(format string, args ...any) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.endProgress()
	fmt.Fprintf(u.Err, "nixdock: error: "+format+"\n", args...)
}

// Group starts an Actions log group (a no-op elsewhere); call the returned
// function to end it.
func (u *UI) Group(title string) func() {
	if !u.Actions {
		return func() {}
	}
	fmt.Fprintf(u.Out, "::group::%s\n", title)
	return func() { fmt.Fprintln(u.Out, "::endgroup::") }
}

// logWriter is where Nix's own log goes: stderr, after any progress line.
func (u *UI) logWriter() io.Writer { return &uiLog{u} }

type uiLog struct{ u *UI }

func (l *uiLog) Write(p []byte) (int, error) {
	l.u.mu.Lock()
	defer l.u.mu.Unlock()
	l.u.endProgress()
	return l.u.Err.Write(p)
}
