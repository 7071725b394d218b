//go:build !windows

package platform

// DefaultUserEnv is nil outside Windows: there is no registry.
func DefaultUserEnv() UserEnvStore { return nil }
