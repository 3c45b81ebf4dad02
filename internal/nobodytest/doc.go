// Package nobodytest runs test processes as the unprivileged user nobody,
// for tests of what one process of a user can see of another's (root sees
// everything): it needs the tests to run as root, which CI does.
package nobodytest
