package hook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
)

// URIRuleID is the gitleaks rule cdb-setup adds for connection URIs that
// carry a password (postgresql://user:pw@host): gitleaks' own rules know
// token formats, not a random password in a DSN.
const URIRuleID = "cdb-setup-uri-password"

// uriRule is the rule's TOML. The secret is the password part; references
// (${VAR}, $VAR, {{ .x }}), masks (***) and placeholders are allowed.
const uriRule = `[[rules]]
id = "` + URIRuleID + `"
description = "Connection URI with an embedded password (postgres, redis, amqp, mysql, mongodb, ...)"
regex = '''(?i)\b(?:postgres(?:ql)?|redis|rediss|amqps?|mysql|mariadb|mongodb(?:\+srv)?|mssql|sqlserver|clickhouse|nats)://[^:@/\s'"]*:([^@/\s'"]+)@'''
secretGroup = 1
keywords = ["postgres", "redis", "amqp", "mysql", "mariadb", "mongodb", "mssql", "sqlserver", "clickhouse", "nats"]
[[rules.allowlists]]
regexTarget = "secret"
regexes = ['''^(?:\$\{?[A-Za-z_][A-Za-z0-9_]*(?::?[-?][^}]*)?\}?|\{\{[^}]*\}\}|%s|%\([A-Za-z_]+\)s|\*+|x+|X+|\.\.\.|<[^>]*>|\[[^\]]*\]|password|pass|pw|secret|changeme)$''']
`

// ExtendingConfig is a gitleaks config that keeps every rule and allow-list
// of the repository's config (repoConfig, absolute; "" means gitleaks'
// defaults) and adds the URI rule. The repository's file is not touched.
func ExtendingConfig(repoConfig string) []byte {
	var b strings.Builder
	b.WriteString("# Written by cdb-setup for one commit check; removed afterwards.\n")
	b.WriteString("title = \"cdb-setup: the repository's gitleaks rules plus connection URIs with a password\"\n\n[extend]\n")
	if repoConfig == "" {
		b.WriteString("useDefault = true\n\n")
	} else {
		// A TOML literal string: backslashes of Windows paths stay as they are.
		b.WriteString("path = '''" + filepath.ToSlash(repoConfig) + "'''\n\n")
	}
	b.WriteString(uriRule)
	return []byte(b.String())
}

// Finding is a staged file holding the value of a secret.
type Finding struct {
	File   string `json:"file"`
	Secret string `json:"secret"`
}

// ScanOptions are the inputs of ScanStaged.
type ScanOptions struct {
	Repo string
	Env  platform.Environment
	// SecretsPath is the folder whose current values are looked for.
	SecretsPath string
	// Gitleaks is the gitleaks binary; "" finds it like `hook install`.
	Gitleaks string
	// Stdout and Stderr receive gitleaks' report and ours.
	Stdout, Stderr io.Writer
}

// GitleaksFinding is where gitleaks found a secret and by which rule; the
// match, the line and what gitleaks calls the secret are never kept.
type GitleaksFinding struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	RuleID string `json:"rule"`
}

// ScanResult says what the scan found; Blocked means the commit must stop.
type ScanResult struct {
	Findings []Finding `json:"findings,omitempty"`
	// GitleaksFailed is true when gitleaks reported a secret (or failed).
	GitleaksFailed bool `json:"gitleaks_failed"`
	// GitleaksFindings are read from gitleaks' JSON report.
	GitleaksFindings []GitleaksFinding `json:"gitleaks_findings,omitempty"`
	Skipped          []string          `json:"skipped,omitempty"`
}

func (r ScanResult) Blocked() bool { return len(r.Findings) > 0 || r.GitleaksFailed }

// ScanStaged checks the staged changes of opts.Repo: (a) every staged file's
// content for the current value of any secret in opts.SecretsPath, read now
// and compared in memory (nothing about the values is stored); (b) gitleaks
// with the repository's rules plus the URI rule.
func ScanStaged(ctx context.Context, opts ScanOptions) (ScanResult, error) {
	var res ScanResult
	out, err := run(ctx, opts.Env, opts.Repo, gitTimeout, "git", "rev-parse", "--show-toplevel")
	if err != nil {
		return res, gitError(err, opts.Repo, "hook scan")
	}
	top := filepath.Clean(filepath.FromSlash(strings.TrimSpace(string(out))))

	if opts.SecretsPath != "" {
		sv, err := ReadSecretValues(opts.SecretsPath)
		if err != nil {
			return res, err
		}
		res.Skipped = sv.Skipped
		if len(sv.Values) > 0 {
			f, err := scanValues(ctx, opts.Env, top, NewMatcher(sv.Values))
			if err != nil {
				return res, err
			}
			res.Findings = f
		}
	}
	failed, found, err := runGitleaks(ctx, opts, top)
	if err != nil {
		return res, err
	}
	res.GitleaksFailed, res.GitleaksFindings = failed, found
	return res, nil
}

// scanValues streams each staged blob (git's index, not the work tree)
// through m; memory stays bounded whatever the file's size.
func scanValues(ctx context.Context, env platform.Environment, top string, m *Matcher) ([]Finding, error) {
	out, err := run(ctx, env, top, gitTimeout, "git", "diff", "--cached", "--name-only", "-z", "--no-renames", "--diff-filter=ACMRT")
	if err != nil {
		return nil, fmt.Errorf("list the staged files: %w", err)
	}
	var findings []Finding
	for _, name := range strings.Split(string(out), "\x00") {
		if name == "" {
			continue
		}
		names, err := scanBlob(ctx, env, top, name, m)
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			findings = append(findings, Finding{File: name, Secret: n})
		}
	}
	return findings, nil
}

func scanBlob(ctx context.Context, env platform.Environment, top, name string, m *Matcher) ([]string, error) {
	git, err := lookPath(env, "git")
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, gitTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, git, "cat-file", "blob", ":"+name)
	cmd.Dir, cmd.Env = top, env.Environ()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("read the staged %s: %w", name, err)
	}
	names, scanErr := m.Scan(pipe)
	if scanErr != nil {
		_, _ = io.Copy(io.Discard, pipe)
	}
	waitErr := cmd.Wait()
	if scanErr != nil {
		return nil, fmt.Errorf("read the staged %s: %w", name, scanErr)
	}
	if waitErr != nil {
		// A gitlink (submodule) has no blob to show; anything else is an error.
		if strings.Contains(stderr.String(), "commit") {
			return nil, nil
		}
		return nil, fmt.Errorf("read the staged %s: %w: %s", name, waitErr, strings.TrimSpace(stderr.String()))
	}
	return names, nil
}

// runGitleaks runs gitleaks on the staged changes with the extending config.
// Its verbose output is not asked for: it prints the match and the line, and
// --redact masks only what a rule calls the secret, which for a rule whose
// first group is a name (CDB's mexc-api-key) is the name, not the value.
// Instead gitleaks writes its JSON report, from which only file, line and
// rule are read. failed is true when it reported a leak or could not run.
func runGitleaks(ctx context.Context, opts ScanOptions, top string) (failed bool, found []GitleaksFinding, err error) {
	env := opts.Env
	if opts.Gitleaks != "" && isExecutable(opts.Gitleaks) {
		m := platform.EnvironmentFrom(env.Environ())
		m["PATH"] = filepath.Dir(opts.Gitleaks) + string(filepath.ListSeparator) + m["PATH"]
		env = m
	}
	g, err := FindGitleaks(ctx, env, "")
	if err != nil {
		return true, nil, err
	}
	if !g.Found {
		return true, nil, errors.New("gitleaks was not found (not on PATH, not in the usual install folders), so this commit cannot be checked for secrets; install it (see `cdb-setup hook status`) and commit again")
	}
	repoCfg := ""
	if c := RepoGitleaksConfig(top); c != "" {
		repoCfg = filepath.Join(top, c)
	}
	tmp, err := os.CreateTemp("", "cdb-setup-gitleaks-*.toml")
	if err != nil {
		return true, nil, fmt.Errorf("write the gitleaks config: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(ExtendingConfig(repoCfg)); err != nil {
		tmp.Close()
		return true, nil, fmt.Errorf("write the gitleaks config: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return true, nil, fmt.Errorf("write the gitleaks config: %w", err)
	}
	report, err := reportFile(ctx, env, top)
	if err != nil {
		return true, nil, err
	}
	defer os.Remove(report)
	args := []string{"git", "--pre-commit", "--staged", "--redact", "--config", tmp.Name(), "--report-format", "json", "--report-path", report}
	if !g.GitCommand {
		args = []string{"protect", "--staged", "--redact", "--config", tmp.Name(), "--report-format", "json", "--report-path", report}
	}
	cmd := exec.CommandContext(ctx, g.Path, args...)
	cmd.Dir, cmd.Env = top, env.Environ()
	cmd.Stdout, cmd.Stderr = opts.Stdout, opts.Stderr
	err = cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		b, rerr := os.ReadFile(report)
		if rerr != nil {
			return true, nil, nil
		}
		found, _ = ParseGitleaksReport(b)
		return true, found, nil
	}
	if err != nil {
		return true, nil, fmt.Errorf("run %s: %w", g.Path, err)
	}
	return false, nil, nil
}

// reportFile is an empty file, readable by the user only, for gitleaks'
// report: in the git folder, which holds the staged content already, not in
// a shared temporary folder (the report's Match field can hold the value).
func reportFile(ctx context.Context, env platform.Environment, top string) (string, error) {
	out, err := run(ctx, env, top, gitTimeout, "git", "rev-parse", "--git-dir")
	if err != nil {
		return "", gitError(err, top, "hook scan")
	}
	dir := filepath.FromSlash(strings.TrimSpace(string(out)))
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(top, dir)
	}
	f, err := os.CreateTemp(dir, "cdb-setup-gitleaks-report-*.json")
	if err != nil {
		return "", fmt.Errorf("create the gitleaks report file: %w", err)
	}
	name := f.Name()
	if err := f.Close(); err != nil {
		os.Remove(name)
		return "", fmt.Errorf("create the gitleaks report file: %w", err)
	}
	return name, nil
}

// ParseGitleaksReport reads file, line and rule of each finding of a
// gitleaks JSON report (8.0+ write the same field names). The other fields
// (Match, Secret, the line) are not decoded. An empty report has none.
func ParseGitleaksReport(b []byte) ([]GitleaksFinding, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, nil
	}
	var raw []struct {
		RuleID    string
		File      string
		StartLine int
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("read the gitleaks report: %w", err)
	}
	out := make([]GitleaksFinding, 0, len(raw))
	for _, r := range raw {
		out = append(out, GitleaksFinding{File: r.File, Line: r.StartLine, RuleID: r.RuleID})
	}
	return out, nil
}
