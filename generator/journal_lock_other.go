//go:build !unix

package generator

// lockProject is a no-op where flock is not available: there, two gingen commands must not
// run in one project at once.
func lockProject(string) (func(), error) { return func() {}, nil }
