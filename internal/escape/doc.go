// Package escape is the one place where text nixdock did not write (store
// paths, file names, label keys, builder ids, evidence, remote errors) is
// made safe for a human channel: a terminal or CI log line (Text, Lines,
// Quote, NewLineGuard), Markdown and HTML (Markdown, Code, HTML), GitHub
// workflow commands (Command, CommandData, CommandProperty) and shell
// commands a person may paste (Shell, ShellJoin).
//
// Every renderer uses it, so that one fix reaches every output. The rules:
//
//   - Text never contains a control character or a line break: C0, DEL and
//     C1 controls, Unicode format characters (bidi overrides, zero-width)
//     and line separators are shown as \x1b, \n, \u202e escapes, and invalid
//     UTF-8 as \xff. A line it starts never begins with ':' (the GitHub
//     runner reads "::command::" after leading white space), and "##[" (the
//     runner's older command prefix) is never left whole.
//   - Markdown and HTML never contain raw HTML ('<', '>', '&' are entities),
//     a table-breaking '|', Markdown emphasis or link syntax, or a working
//     @mention; inline code uses a fence longer than any backtick run.
//   - Shell quotes in the manner of shellescape: a word that is not plainly
//     safe is single-quoted, so pasting it runs nothing.
package escape
