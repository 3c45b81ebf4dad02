// Package acttest runs the Action and the reusable workflow under a real
// workflow engine, nektos/act, on the host and offline: the pull-request
// check of .github/workflows/nixdock.yml, with GitHub's own actions replaced
// by local stand-ins (testdata/standins) that do the same work without the
// network. It has tests only.
package acttest
