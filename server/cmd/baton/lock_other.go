//go:build !unix

package main

// lockDataDir does nothing where flock does not exist.
func lockDataDir(string) (func(), error) { return func() {}, nil }
