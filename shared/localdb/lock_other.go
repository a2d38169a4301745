//go:build !unix

package localdb

// lockDir is a no-op where advisory file locks are not available: do not
// point two engines at one directory there.
func lockDir(string) (func() error, error) { return func() error { return nil }, nil }
