package cli

import (
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"sync"

	"github.com/nixdock/nixdock-action/internal/escape"
)

// UI is the one place commands write through: reports to Out, progress and
// errors to Err. Tests capture both.
type UI struct {
	Out io.Writer
	Err io.Writer
	// Cmd takes the workflow commands nixdock issues on purpose (log
	// groups, annotations): the raw stdout. In Actions, Out and Err are
	// guarded so that no other line is read as a command.
	Cmd io.Writer
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
	ui := &UI{Out: out, Err: err, Cmd: out, Actions: os.Getenv("GITHUB_ACTIONS") == "true"}
	if ui.Actions {
		// The runner reads commands on both streams, Nix's log included:
		// only Cmd may start a line with "::".
		ui.Out, ui.Err = escape.NewLineGuard(out), escape.NewLineGuard(err)
	}
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
	msg := fmt.Sprintf(format, safe(args)...)
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
	fmt.Fprintf(u.Err, format+"\n", safe(args)...)
}

// Printf writes a report line to Out with its arguments escaped as in
// Infof: references, digests, builder ids and verdicts come from
// registries and attestations.
func (u *UI) Printf(format string, args ...any) { fprintf(u.Out, format, args...) }

// fprintf is fmt.Fprintf with the arguments escaped (see safe).
func fprintf(w io.Writer, format string, args ...any) {
	fmt.Fprintf(w, format, safe(args)...)
}

// Errorf prints an error as one line on stderr.
func (u *UI) Errorf(format string, args ...any) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.endProgress()
	fmt.Fprintf(u.Err, "nixdock: error: "+format+"\n", safe(args)...)
}

// safe escapes the arguments of a message: strings and Stringers (names,
// paths, references) become one line each; errors keep their lines (a Nix
// error quotes several) with each line escaped. The format is nixdock's.
func safe(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case string:
			out[i] = escape.Text(v)
		case error:
			out[i] = escape.Lines(v.Error())
		case fmt.Stringer:
			out[i] = escape.Text(v.String())
		default:
			if rv := reflect.ValueOf(a); rv.Kind() == reflect.String {
				out[i] = escape.Text(rv.String()) // named string types
			} else {
				out[i] = a
			}
		}
	}
	return out
}

// Mask hides secret (each line) from the Actions log from here on; a
// no-op outside Actions.
func (u *UI) Mask(secret string) {
	if !u.Actions {
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, line := range strings.Split(strings.ReplaceAll(secret, "\r", "\n"), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			fmt.Fprintln(u.Cmd, escape.Command("add-mask", nil, line))
		}
	}
}

// Group starts an Actions log group (a no-op elsewhere); call the returned
// function to end it.
func (u *UI) Group(title string) func() {
	if !u.Actions {
		return func() {}
	}
	fmt.Fprintln(u.Cmd, escape.Command("group", nil, escape.Text(title)))
	return func() { fmt.Fprintln(u.Cmd, escape.Command("endgroup", nil, "")) }
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

// printResult writes a command's result line (a pushed reference, a key
// file) to stdout. A script reads it from there, so a failed write (a
// closed pipe, a full disk) is the command's failure, never exit 0.
func (a *app) printResult(line string) error {
	if _, err := fmt.Fprintln(a.ui.Out, line); err != nil {
		return failure(fmt.Errorf("writing the result to stdout: %w", err))
	}
	return nil
}
