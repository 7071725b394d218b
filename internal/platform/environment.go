package platform

import (
	"os"
	"sort"
	"strings"
)

// Environment is the process environment as deep code sees it. Code below
// the CLI never calls os.Getenv directly, so every OS branch can be tested
// on any machine with a MapEnvironment (rustup's "Process" idea).
type Environment interface {
	Getenv(key string) string
	LookupEnv(key string) (string, bool)
	Environ() []string
}

// OSEnvironment is the real environment of this process.
type OSEnvironment struct{}

func (OSEnvironment) Getenv(key string) string            { return os.Getenv(key) }
func (OSEnvironment) LookupEnv(key string) (string, bool) { return os.LookupEnv(key) }
func (OSEnvironment) Environ() []string                   { return os.Environ() }

// MapEnvironment is a fixed environment for tests and for building child
// process environments.
type MapEnvironment map[string]string

func (m MapEnvironment) Getenv(key string) string { return m[key] }

func (m MapEnvironment) LookupEnv(key string) (string, bool) {
	v, ok := m[key]
	return v, ok
}

func (m MapEnvironment) Environ() []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// EnvironmentFrom parses KEY=VALUE pairs (as os.Environ returns them).
func EnvironmentFrom(pairs []string) MapEnvironment {
	m := MapEnvironment{}
	for _, kv := range pairs {
		if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
			m[k] = v
		}
	}
	return m
}
