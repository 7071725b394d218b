package checks

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strings"

	"github.com/claire-de-binare/cdb-setup/internal/manifest"
	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/secrets"
)

// secretsFolderCheck: the folder exists, is a real folder of this user and
// is private (platform.CheckPrivateDir, the rule `secrets init` enforces).
func secretsFolderCheck(e Env) Check {
	return check("secrets-folder", "Secrets folder", func(context.Context) Result {
		p := e.SecretsDir
		fi, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			return fail(fmt.Sprintf("%s (%s) does not exist", p, e.SecretsSource), "cdb-setup secrets init --secrets-path "+e.q(p))
		}
		err = platform.CheckPrivateDir(p, true)
		switch {
		case err == nil:
			return ok(fmt.Sprintf("%s (%s), private to you", p, e.SecretsSource))
		case errors.Is(err, platform.ErrSymlink):
			target, _ := os.Readlink(p)
			return fail(fmt.Sprintf("%s is a symbolic link to %s: cdb-setup and compose must use the real folder", p, target),
				"cdb-setup env set --secrets-path "+e.q(target))
		case errors.Is(err, platform.ErrNotDir):
			return fail(p+" is a file, not a folder", "move "+e.q(p)+" away, then cdb-setup secrets init")
		case errors.Is(err, platform.ErrNotEnforced):
			// Not ✓ and not "run secrets fix" (it cannot help, and would
			// be asked for again on every run).
			return warn(err.Error(), "nothing cdb-setup can change here; if other people use this system, keep the secrets on a drive that keeps permissions: cdb-setup secrets init --secrets-path DIR")
		case errors.Is(err, platform.ErrForeignOwner):
			return fail(firstClause(err), platform.ForeignOwnerFix(e.Facts.OS, p, currentUser()))
		case fi != nil && fi.IsDir():
			return fail(firstClause(err), platform.PrivateFolderFix(e.Facts.OS, p))
		}
		return fail(err.Error(), "cdb-setup secrets fix")
	})
}

// currentUser is this account's name for the "give it to you" fix ("" when
// the OS does not say).
func currentUser() string {
	u, err := user.Current()
	if err != nil {
		return ""
	}
	return u.Username
}

// firstClause drops the advice platform appends after ':' (doctor gives its
// own, more exact fix line).
func firstClause(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i > 0 && strings.Contains(s[i:], " ") {
		return s[:i]
	}
	return s
}

// secretFileChecks: one check per file the compose files mount. A missing
// file fails container creation ("bind source path does not exist"); a
// directory in its place is what older Docker Desktop made of a missing one.
func secretFileChecks(ctx context.Context, e Env) []Check {
	if e.Manifest == nil || e.Repo == "" {
		return []Check{check("secret-files", "Secret files", func(context.Context) Result {
			return skip("no repository: run doctor inside your clone or pass --repo")
		})}
	}
	cat, err := secrets.Discover(ctx, secrets.DiscoverOptions{Repo: e.Repo, Manifest: e.Manifest, Dir: e.SecretsDir, Env: e.Env, CacheDir: catalogueCache(e.StateDir)})
	if err != nil {
		return []Check{check("secret-files", "Secret files", func(context.Context) Result {
			return fail("cannot list the secrets from the compose files: "+err.Error(), "fix the compose files or cdb-setup.yaml named above, then run cdb-setup doctor again")
		})}
	}
	if _, err := os.Stat(e.SecretsDir); err != nil {
		// One line, not one per file: the folder line above says why.
		return []Check{check("secret-files", "Secret files", func(context.Context) Result {
			return fail(fmt.Sprintf("all %d are missing (%s): the secrets folder does not exist", len(cat.Secrets), strings.Join(cat.Names(), ", ")),
				"cdb-setup secrets init --secrets-path "+e.q(e.SecretsDir))
		})}
	}
	// The content lint (CRLF, BOM, NUL, whitespace, stale DSN, file mode)
	// is the secrets package's, the same `secrets check` runs.
	mode, _ := secrets.DefaultFileMode(e.Facts)
	project := e.Project
	rep := secrets.CheckAll(ctx, secrets.CheckOptions{Options: secrets.Options{
		Catalogue: cat, Mode: mode, Env: secrets.ComposeEnv(e.Env, cat.Names(), cat.Dir), Repo: e.Repo, Project: project,
	}})
	lint := map[string]secrets.SecretReport{}
	for _, r := range rep.Secrets {
		lint[r.Name] = r
	}
	var out []Check
	for _, s := range cat.Secrets {
		s := s
		out = append(out, check("secret-file:"+s.Name, "Secret "+s.Name, func(context.Context) Result {
			r := secretFile(s, e)
			if r.Status != OK {
				return r
			}
			return withLint(r, lint[s.Name])
		}))
	}
	return out
}

// withLint turns the first lint problem into the line's verdict.
func withLint(r Result, rep secrets.SecretReport) Result {
	for _, sev := range []secrets.Severity{secrets.SevError, secrets.SevWarning} {
		for _, p := range rep.Problems {
			if p.Severity != sev || p.Code == secrets.CodeUnconfigured {
				continue // an empty optional secret is fine: the line says so
			}
			msg := strings.TrimPrefix(p.Message, rep.Name+": ")
			fix := "cdb-setup secrets fix"
			if !p.Fixable {
				fix = "cdb-setup secrets check (explains it; this one needs your hand)"
			}
			return Result{Status: FromSeverity(sev), Detail: msg, Fix: fix}
		}
	}
	return r
}

func secretFile(s secrets.Secret, e Env) Result {
	fi, err := os.Lstat(s.Path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fail("missing: containers that mount it cannot be created", "cdb-setup secrets init (creates only what is missing)")
	case err != nil:
		return fail(err.Error(), "check the permissions of "+e.q(e.SecretsDir))
	case fi.Mode()&fs.ModeSymlink != 0:
		return fail("is a symbolic link: compose would mount whatever it points to", "replace it with the file: cdb-setup secrets fix")
	case fi.IsDir():
		return fail("is a folder, not a file (Docker created it when the file was missing)", "remove the empty folder: "+platform.RemoveEmptyDirCommand(e.Facts.OS, s.Path)+", then cdb-setup secrets init")
	case !fi.Mode().IsRegular():
		return fail("is not a regular file", "move "+e.q(s.Path)+" away, then cdb-setup secrets init")
	}
	kind := s.Policy.Kind
	if fi.Size() == 0 {
		if kind == manifest.KindExternal && s.Policy.Optional {
			return ok("empty (optional; the services run without it)")
		}
		if kind == manifest.KindExternal {
			return fail("empty, but required", "put the value in "+e.q(s.Path)+" (no trailing newline), or set it with cdb-setup secrets from-env")
		}
		return fail("empty: the service would start with an empty password", "cdb-setup secrets fix")
	}
	return ok(fmt.Sprintf("%s, %d bytes", kind, fi.Size()))
}

// LeftoverDirs are where a killed run can leave temp files: the secrets
// folder and its backups, the state folder, and the home folder (shell rc
// files).
func LeftoverDirs(secretsPath, stateDir string, env platform.Environment) []string {
	dirs := []string{}
	if secretsPath != "" {
		dirs = append(dirs, secretsPath, filepath.Join(secretsPath, ".backup"))
	}
	dirs = append(dirs, stateDir)
	for _, k := range []string{"HOME", "USERPROFILE"} {
		if h := env.Getenv(k); h != "" {
			dirs = append(dirs, h)
		}
	}
	return dirs
}

// leftoversCheck: temp files of an interrupted run (each temp of a secret
// holds the whole value); `secrets fix` removes them.
func leftoversCheck(e Env) Check {
	return check("leftovers", "Temp files of interrupted runs", func(context.Context) Result {
		l := platform.Leftovers(LeftoverDirs(e.SecretsDir, e.StateDir, e.Env)...)
		if len(l) == 0 {
			return ok("none")
		}
		return warn(fmt.Sprintf("%d temp file(s) left by an interrupted run (a secret's temp file holds its value): %s", len(l), strings.Join(l, ", ")),
			"cdb-setup secrets fix --secrets-path "+e.q(e.SecretsDir))
	})
}

// catalogueCache is the catalogue cache of the state folder stateDir: ""
// (no cache) when it is unknown or does not exist (doctor creates nothing).
func catalogueCache(stateDir string) string {
	if st, err := os.Stat(stateDir); stateDir == "" || err != nil || !st.IsDir() {
		return ""
	}
	return secrets.CacheDir(stateDir)
}
