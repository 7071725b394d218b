// Package composefile reads a stack's compose files with compose-go, the
// library Docker Compose itself uses, so cdb-setup sees exactly what
// `docker compose` will see: merged overlays, interpolation, paths.
package composefile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/sirupsen/logrus"
)

// Options say which files to read and with which variables.
type Options struct {
	// Repo is the repository root; Files are relative to it (forward slashes).
	Repo  string
	Files []string
	// Env holds the variables compose interpolates (${SECRETS_PATH},
	// ${STACK_NAME:-cdb}, ${POSTGRES_USER:-claire_user}). The caller decides
	// what goes in: never secret values.
	Env map[string]string
	// ProjectName overrides name: in the files (as `-p` does).
	ProjectName string
	// SkipValidation skips the check against the compose JSON schema. The
	// schema's messages are what a user with a malformed file needs, so
	// doctor and up's preflight validate; reading the secrets a file
	// declares does not need it (and the check is a third of the parse).
	SkipValidation bool
}

// Loaded is a merged compose model and the warnings compose would print
// (e.g. "The "GRAFANA_PASSWORD" variable is not set").
type Loaded struct {
	Project  *types.Project
	Warnings []string
}

// compose-go logs its warnings through logrus' global logger; loadMu keeps
// one Load at a time so each collects only its own.
var loadMu sync.Mutex

// Load reads and merges the compose files. Errors name the file (and line,
// where the YAML parser gives one) and what to do.
func Load(ctx context.Context, opts Options) (*Loaded, error) {
	if len(opts.Files) == 0 {
		return nil, errors.New("no compose files to read")
	}
	paths := make([]string, len(opts.Files))
	for i, f := range opts.Files {
		p := filepath.FromSlash(f)
		if !filepath.IsAbs(p) { // absolute: an overlay cdb-setup generated outside the repo
			p = filepath.Join(opts.Repo, p)
		}
		st, err := os.Stat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("compose file %s is missing: is --repo %s a clone of the CDB repository (or does cdb-setup.yaml list the right files)?", p, opts.Repo)
		case err != nil:
			return nil, fmt.Errorf("compose file %s: %w", p, err)
		case st.IsDir():
			return nil, fmt.Errorf("compose file %s is a folder, not a file", p)
		}
		paths[i] = p
	}
	env := make(map[string]string, len(opts.Env))
	for k, v := range opts.Env {
		env[k] = v
	}
	loadMu.Lock()
	defer loadMu.Unlock()
	collector := &warningCollector{}
	logger := logrus.StandardLogger()
	oldOut := logger.Out
	oldHooks := logger.ReplaceHooks(logrus.LevelHooks{})
	logger.SetOutput(io.Discard)
	logger.AddHook(collector)
	defer func() {
		logger.ReplaceHooks(oldHooks)
		logger.SetOutput(oldOut)
	}()
	project, err := loadProject(ctx, opts, paths, env, opts.SkipValidation)
	var crash *loaderPanic
	if errors.As(err, &crash) && opts.SkipValidation {
		// Without the schema, compose-go's decoder panics on some shapes
		// it does not expect (`services: 0A0`); the schema names what is
		// wrong in words, so read again with it.
		collector.msgs = nil
		project, err = loadProject(ctx, opts, paths, env, false)
	}
	if err != nil {
		return nil, explain(err, paths)
	}
	return &Loaded{Project: project, Warnings: collector.msgs}, nil
}

// loaderPanic is a panic inside compose-go, turned into an error: a
// malformed file must get a message, never crash cdb-setup.
type loaderPanic struct{ value any }

func (p *loaderPanic) Error() string {
	return fmt.Sprintf("compose cannot read these files (its loader failed: %v)", p.value)
}

func loadProject(ctx context.Context, opts Options, paths []string, env map[string]string, skipValidation bool) (project *types.Project, err error) {
	po, err := cli.NewProjectOptions(paths,
		// The project directory is the folder of the first file, as for
		// `docker compose -f`: relative paths and .env resolve from there.
		cli.WithWorkingDirectory(filepath.Dir(paths[0])),
		cli.WithEnv(mapToPairs(env)),
		cli.WithName(opts.ProjectName),
		cli.WithLoadOptions(func(o *loader.Options) {
			// We read the model, not run it: files a service mounts, env files
			// and build contexts may legitimately not exist yet.
			o.SkipConsistencyCheck = true
			o.SkipResolveEnvironment = true
			o.SkipValidation = skipValidation
		}),
		cli.WithDiscardEnvFile,
	)
	if err != nil {
		return nil, fmt.Errorf("compose files: %w", err)
	}
	defer func() {
		if r := recover(); r != nil {
			project, err = nil, &loaderPanic{value: r}
		}
	}()
	return po.LoadProject(ctx)
}

type warningCollector struct{ msgs []string }

func (c *warningCollector) Levels() []logrus.Level {
	return []logrus.Level{logrus.WarnLevel, logrus.ErrorLevel}
}

func (c *warningCollector) Fire(e *logrus.Entry) error {
	c.msgs = append(c.msgs, e.Message)
	return nil
}

// explain turns compose-go's errors into ones that name the file.
func explain(err error, paths []string) error {
	msg := err.Error()
	for _, p := range paths {
		if strings.Contains(msg, p) || strings.Contains(msg, filepath.Base(p)) {
			return fmt.Errorf("compose file is malformed: %s (fix the file, or check it with `docker compose -f %s config`)", msg, filepath.ToSlash(p))
		}
	}
	return fmt.Errorf("compose files are malformed: %s (files: %s)", msg, strings.Join(paths, ", "))
}

func mapToPairs(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	return out
}

// SecretTarget is where a service's secret is mounted in its container, as
// compose mounts it: /run/secrets/<source> by default, a relative target
// under /run/secrets, an absolute one as written.
func SecretTarget(ref types.ServiceSecretConfig) string {
	switch {
	case ref.Target == "":
		return "/run/secrets/" + ref.Source
	case !strings.HasPrefix(ref.Target, "/"):
		return "/run/secrets/" + ref.Target
	}
	return ref.Target
}
