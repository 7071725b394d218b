package checks

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"

	"github.com/claire-de-binare/cdb-setup/internal/stack"
)

// volumesSecrets compares each volume that keeps a password (manifest
// policy Volume:) with its secret file: a volume created before the file's
// last change was initialised with an older password, and the service will
// reject the current one (docs/secrets.md, "check and fix"). Failing
// here stops `up` before anything starts; diagnosis recognises the same
// cause only after the service failed to log in.
func (p *Preflight) volumesSecrets(ctx context.Context) Result {
	var kept []SecretFile
	for _, s := range p.Secrets {
		if s.Policy.Volume != "" {
			kept = append(kept, s)
		}
	}
	if len(kept) == 0 {
		return ok("no started service keeps a password in a volume")
	}
	if p.Engine.Client == nil {
		return skip("Docker is not reachable")
	}
	var fails, fixes, oks []string
	for _, s := range kept {
		vol := p.volumeName(s.Policy.Volume)
		if slices.Contains(p.Recreate, vol) {
			oks = append(oks, fmt.Sprintf("%s: deleted before the start (--recreate-volume), so it is initialised with the current %s", vol, s.Name))
			continue
		}
		st, err := os.Stat(s.Path)
		if err != nil {
			// secrets.files reports a missing or unreadable file.
			oks = append(oks, fmt.Sprintf("%s: %s cannot be compared (the secret file is missing)", vol, s.Name))
			continue
		}
		v, err := p.Engine.Client.VolumeInspect(ctx, vol)
		if err != nil && !cerrdefs.IsNotFound(err) {
			return warn(fmt.Sprintf("cannot look up the volume %s: %v", vol, err), "docker volume inspect "+vol+"   # then: "+p.Rerun)
		}
		found := err == nil
		var created time.Time
		if found {
			created, _ = time.Parse(time.RFC3339Nano, v.CreatedAt)
		}
		d := VolumeVerdict(VolumeFacts{Secret: s, Volume: vol, Exists: found, Created: created, Modified: st.ModTime()}, p.upCommand())
		if d.Status == Fail {
			fails, fixes = append(fails, d.Detail), append(fixes, d.Fix)
		} else {
			oks = append(oks, d.Detail)
		}
	}
	if len(fails) > 0 {
		return fail(strings.Join(fails, "; "), strings.Join(fixes, "; and "))
	}
	return ok(strings.Join(oks, "; "))
}

// VolumeFacts is what the volumes-vs-secrets decision looks at.
type VolumeFacts struct {
	Secret SecretFile
	// Volume is the Engine's name (cdb_postgres_data).
	Volume string
	Exists bool
	// Created is the volume's creation time (zero when the Engine gave
	// none); Modified is the secret file's last modification.
	Created, Modified time.Time
}

// VolumeVerdict decides one volume: it fails when the volume was created
// before the secret file last changed. The Engine reports creation in whole
// seconds, so both times are compared in whole seconds and a change within
// the volume's creation second passes (diagnosis still catches it if the
// service then rejects the password). up is the command that starts the
// stack with the user's flags (the fix names it).
func VolumeVerdict(f VolumeFacts, up string) Result {
	s := f.Secret
	switch {
	case !f.Exists:
		return ok(fmt.Sprintf("%s: no volume yet: first start initialises it with the current %s", f.Volume, s.Name))
	case f.Created.IsZero():
		return ok(fmt.Sprintf("%s exists (the Engine gives no creation time; a refused %s is diagnosed if the service fails)", f.Volume, s.Name))
	case f.Modified.Truncate(time.Second).After(f.Created.Truncate(time.Second)):
		who := "its service"
		if len(s.Services) > 0 {
			who = strings.Join(s.Services, ", ")
		}
		detail := stack.StaleVolumeExplanation(s.Name, f.Volume, f.Created, f.Modified) +
			fmt.Sprintf(" %s will reject the current password (\"password authentication failed\")", who)
		return fail(detail, stack.StaleVolumeFix(s.Name, s.Path, f.Volume, up))
	default:
		return ok(fmt.Sprintf("%s: initialised with the current %s (volume created %s, file last changed %s)",
			f.Volume, s.Name, f.Created.Local().Format(time.DateTime), f.Modified.Local().Format(time.DateTime)))
	}
}

// volumeName resolves a compose volume key to the Engine's name: the
// compose model's name when known (it honours `name:`), else
// <project>_<key> as compose names it.
func (p *Preflight) volumeName(key string) string {
	if n, ok := p.Volumes[key]; ok && n != "" {
		return n
	}
	if p.Project == "" {
		return key
	}
	return p.Project + "_" + key
}

func (p *Preflight) upCommand() string {
	if p.Up != "" {
		return p.Up
	}
	return p.Rerun
}
