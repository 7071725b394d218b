package secrets

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/claire-de-binare/cdb-setup/internal/manifest"
	"github.com/claire-de-binare/cdb-setup/internal/platform"
)

// CheckOptions are the inputs of `secrets check` and of doctor.
type CheckOptions struct {
	Options
	// CloudSync names the service syncing Documents ("OneDrive"), if any,
	// and Documents the folder it syncs.
	CloudSync string
	Documents string
}

// SecretReport is the lint result of one secret file.
type SecretReport struct {
	Name     string    `json:"name"`
	Path     string    `json:"path"`
	Kind     string    `json:"kind"`
	Bytes    int       `json:"bytes"`
	Problems []Problem `json:"problems"`
}

// CheckReport is the lint result of the whole secrets folder.
type CheckReport struct {
	Dir string `json:"dir"`
	// Folder lists problems of the folder itself (permissions, git, cloud).
	Folder  []Problem      `json:"folder_problems"`
	Secrets []SecretReport `json:"secrets"`
}

// Errors counts error-level problems.
func (r CheckReport) Errors() int {
	n := 0
	for _, p := range r.Folder {
		if p.Severity == SevError {
			n++
		}
	}
	for _, s := range r.Secrets {
		for _, p := range s.Problems {
			if p.Severity == SevError {
				n++
			}
		}
	}
	return n
}

// CheckAll lints the secrets folder and every secret of the catalogue,
// changing nothing.
func CheckAll(ctx context.Context, o CheckOptions) CheckReport {
	dir := o.dir()
	rep := CheckReport{Dir: dir, Folder: []Problem{}}
	folder := func(code string, sev Severity, fixable bool, msg string) {
		rep.Folder = append(rep.Folder, Problem{Code: code, Severity: sev, Fixable: fixable, Message: msg})
	}
	if fi, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		folder(CodeMissing, SevError, true, fmt.Sprintf("secrets folder %s does not exist: run `cdb-setup secrets init`", dir))
	} else if err != nil {
		folder(CodeUnreadable, SevError, false, err.Error())
	} else if err := platform.CheckPrivateDir(dir, false); errors.Is(err, platform.ErrNotEnforced) {
		// A warning, not a fixable error: `secrets fix` cannot change it,
		// and asking for it would loop (fix, check, fix, ...).
		folder(CodeNotEnforced, SevWarning, false, err.Error()+"; neither the folder nor the files in it can be made private on this system: keep the secrets on a drive that keeps permissions (--secrets-path) if other people use it")
	} else if err != nil {
		fixable := fi.IsDir() && fi.Mode()&fs.ModeSymlink == 0 && !errors.Is(err, platform.ErrForeignOwner)
		folder(CodeFolder, SevError, fixable, err.Error())
	}
	warnings, err := o.Reach.Check(ctx, o.Repo, dir)
	if err != nil {
		folder(CodeInWorktree, SevError, false, err.Error())
	}
	for _, w := range warnings {
		folder(CodeGitUnknown, SevWarning, false, w)
	}
	if o.CloudSync != "" && o.Documents != "" && isInside(dir, o.Documents) {
		folder(CodeCloudSync, SevWarning, false, fmt.Sprintf("secrets folder %s is inside Documents, which %s syncs: your passwords go to the cloud; pass --secrets-path with a folder that is not synced", dir, o.CloudSync))
	}
	for _, s := range o.Catalogue.Secrets {
		rep.Secrets = append(rep.Secrets, checkSecret(s, o.Options))
	}
	return rep
}

func checkSecret(s Secret, o Options) SecretReport {
	r := SecretReport{Name: s.Name, Path: s.Path, Kind: s.Policy.Kind, Problems: []Problem{}}
	add := func(code string, sev Severity, fixable bool, format string, a ...any) {
		r.Problems = append(r.Problems, Problem{Code: code, Severity: sev, Fixable: fixable, Message: s.Name + ": " + fmt.Sprintf(format, a...)})
	}
	fi, err := os.Lstat(s.Path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		fixable := s.Policy.Kind != manifest.KindExternal || s.Policy.Optional
		add(CodeMissing, SevError, fixable, "%s does not exist (containers using it fail with \"bind source path does not exist\"): run `cdb-setup secrets init`", s.Path)
		return r
	case err != nil:
		add(CodeUnreadable, SevError, false, "%v", err)
		return r
	case fi.Mode()&fs.ModeSymlink != 0:
		add(CodeSymlink, SevError, false, "%s is a symbolic link; secrets must be regular files in SECRETS_PATH (replace it with the file itself)", s.Path)
		return r
	case fi.IsDir():
		ents, _ := os.ReadDir(s.Path)
		add(CodeDirectory, SevError, len(ents) == 0, "%s is a folder, not a file (Docker Desktop creates one when the file was missing)%s", s.Path, map[bool]string{true: "; `cdb-setup secrets fix` replaces the empty folder", false: "; it is not empty: move it away"}[len(ents) == 0])
		return r
	case !fi.Mode().IsRegular():
		add(CodeNotRegular, SevError, false, "%s is not a regular file", s.Path)
		return r
	}
	data, err := ReadSecret(s.Path)
	if IsTooLarge(err) {
		add(CodeTooLarge, SevError, false, "%v; %s", err, tooLargeHint(s.Path))
		return r
	}
	if err != nil {
		add(CodeUnreadable, SevError, false, "%v", err)
		return r
	}
	r.Bytes = len(data)
	r.Problems = append(r.Problems, Lint(s.Name, data, s.Policy)...)
	if s.Policy.Kind == manifest.KindDerived && !HasErrors(r.Problems) && len(data) > 0 {
		o2 := o
		o2.TLS = false // either sslmode is right for check: it cannot know the overlays of `up`
		if !derivedAccept(s, o2, nil)(data) {
			if _, err := Derive(s.Name, s.Policy.Template, DeriveInput{Dir: o.dir(), Env: o.deriveEnv()}); err != nil {
				add(CodeDeriveFailed, SevError, false, "cannot be checked: %v", err)
			} else if have, want, ok := userMismatch(data, s, o); ok {
				add(CodeDSNUser, SevError, true, "names the database user %q, but compose will use %q (%s): services using it cannot log in; `cdb-setup secrets fix` re-derives it with %q", have, want, o.userSource(), want)
			} else {
				add(CodeDSN, SevError, true, "does not match %s (services using it cannot log in): `cdb-setup secrets fix` re-derives it", describeDerived(s)[len("derived from "):])
			}
		}
	}
	// After the content checks: a permission problem must not hide a stale DSN.
	if msg := permissionProblem(s.Path, fi, o.Mode); msg != "" {
		add(CodeMode, SevError, true, "%s; %s", msg, modeReason(o.Mode))
	}
	return r
}

// privateDACL says whether a file's DACL (SDDL, as read back) is the
// protected one for sid that RestrictFile sets, with or without SYSTEM.
// Pure, so the Windows rule is tested as data on every platform. The two
// forms are platform.PrivateSDDL(sid, includeSystem, false), which is built
// only on Windows.
func privateDACL(got, sid string) bool {
	own := "D:P(A;;FA;;;" + sid + ")"
	return platform.SameACL(got, own) || platform.SameACL(got, own+"(A;;FA;;;SY)")
}

func modeReason(m os.FileMode) string {
	if isWindows {
		return "`cdb-setup secrets fix` restores the private ACL"
	}
	return "`cdb-setup secrets fix` sets it"
}

func isInside(p, root string) bool {
	rel, err := filepath.Rel(filepath.Clean(root), filepath.Clean(p))
	return err == nil && rel != ".." && !filepath.IsAbs(rel) && (rel == "." || len(rel) < 3 || rel[:3] != ".."+string(filepath.Separator))
}
