package cli

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/docker/docker/client"

	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/stack"
	"github.com/claire-de-binare/cdb-setup/internal/step"
)

// volumeName resolves a compose volume key (postgres_data) to the Engine's
// name (cdb_postgres_data); a full name is accepted too.
func volumeName(ls *loadedStack, v string) string {
	if n, ok := ls.Model.Volumes[v]; ok {
		return n
	}
	return v
}

// recreateSteps are the steps of --recreate-volume: each deletes one
// volume after an explicit yes (confirmRecreate), the containers using it
// removed first. Only these volumes; never `down -v`. A key the compose
// files do not define is a usage error.
func recreateSteps(ls *loadedStack, compose *stack.Compose, api *client.Client, keys []string) ([]step.Step, error) {
	var out []step.Step
	for _, k := range keys {
		n := volumeName(ls, k)
		if !strings.HasPrefix(n, ls.Inv.Project+"_") && n == k {
			if _, ok := ls.Model.Volumes[k]; !ok {
				return nil, exitcode.Usagef("--recreate-volume %s: the compose files define no volume %s (they have: %s)", k, k, strings.Join(sortedVolumeKeys(ls), ", "))
			}
		}
		out = append(out, &stack.RecreateVolumeStep{API: api, Compose: *compose, Inv: ls.Inv, Name: n, Loses: volumeLoses(ls, n)})
	}
	return out, nil
}

// volumeLoses says what deleting the volume named name loses: the data of
// the services that mount it and the passwords it was initialised with.
func volumeLoses(ls *loadedStack, name string) string {
	key := ""
	for k, n := range ls.Model.Volumes {
		if n == name {
			key = k
		}
	}
	if key == "" {
		return ""
	}
	var svcs, pws []string
	for _, svc := range ls.Project.Services {
		for _, v := range svc.Volumes {
			if v.Type == "volume" && v.Source == key {
				svcs = append(svcs, svc.Name)
				break
			}
		}
	}
	for secretName, sec := range ls.Manifest.Secrets {
		if sec.Volume == key {
			pws = append(pws, secretName)
		}
	}
	slices.Sort(svcs)
	slices.Sort(pws)
	s := ""
	if len(svcs) > 0 {
		s = "the data of " + strings.Join(svcs, ", ") + " stored in it"
	}
	if len(pws) > 0 {
		if s != "" {
			s += ", and "
		}
		s += "the password(s) it was initialised with (" + strings.Join(pws, ", ") + "); the start makes a fresh volume with the current secret files"
	}
	return s
}

// confirmRecreate shows what the --recreate-volume steps delete and asks
// (only --yes answers for the user); nothing to delete, nothing to ask.
func confirmRecreate(f *Factory, plans []step.Change) error {
	var deletes []step.Change
	for _, c := range plans {
		if strings.HasPrefix(c.Step, "stack.recreate-volume.") && !c.None {
			deletes = append(deletes, c)
		}
	}
	if len(deletes) == 0 {
		return nil
	}
	w := f.IO.ErrOut
	fmt.Fprintln(w, "--recreate-volume deletes data:")
	for _, c := range deletes {
		printChange(w, c)
	}
	ok, err := confirmYes(f, "Delete them?")
	if err != nil {
		return err
	}
	if !ok {
		return exitcode.New(exitcode.Failed, errors.New("not confirmed: nothing was deleted"))
	}
	return nil
}

func sortedVolumeKeys(ls *loadedStack) []string {
	var out []string
	for k := range ls.Model.Volumes {
		out = append(out, k)
	}
	return out
}
