package platform

import (
	"context"
	"testing"

	"golang.org/x/sys/windows/registry"

	"github.com/claire-de-binare/cdb-setup/internal/step"
	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

// readBack reads HKCU\Environment directly with the registry API, not
// through the code under test.
func readBack(t *testing.T, name string) (string, uint32, bool) {
	t.Helper()
	k, err := registry.OpenKey(registry.CURRENT_USER, "Environment", registry.QUERY_VALUE)
	if err != nil {
		return "", 0, false
	}
	defer k.Close()
	v, typ, err := k.GetStringValue(name)
	if err != nil {
		return "", 0, false
	}
	return v, typ, true
}

// TestRegistryUserEnvReal runs on Windows and under Wine (where the registry
// really works; the WM_SETTINGCHANGE broadcast has no listener there, so it
// only proves the call returns).
func TestRegistryUserEnvReal(t *testing.T) {
	ue := DefaultUserEnv()
	const name = "CDB_SETUP_TEST_VALUE"
	t.Cleanup(func() { ue.Delete(name) })

	if err := ue.Set(name, `C:\Users\u\Documents\.secrets\.cdb`, false); err != nil {
		t.Fatal(err)
	}
	if v, typ, ok := readBack(t, name); !ok || typ != registry.SZ || v != `C:\Users\u\Documents\.secrets\.cdb` {
		t.Errorf("REG_SZ read back %q type %d ok %v", v, typ, ok)
	}
	if err := ue.Set(name, `%USERPROFILE%\Documents\.secrets\.cdb`, true); err != nil {
		t.Fatal(err)
	}
	if v, typ, ok := readBack(t, name); !ok || typ != registry.EXPAND_SZ || v != `%USERPROFILE%\Documents\.secrets\.cdb` {
		t.Errorf("REG_EXPAND_SZ read back %q type %d ok %v", v, typ, ok)
	}
	if v, exp, ok, err := ue.Get(name); err != nil || !ok || !exp || v != `%USERPROFILE%\Documents\.secrets\.cdb` {
		t.Errorf("Get = %q %v %v %v", v, exp, ok, err)
	}
	if err := ue.Broadcast(); err != nil {
		t.Errorf("Broadcast: %v", err)
	}
	if err := ue.Delete(name); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := readBack(t, name); ok {
		t.Error("value still there after Delete")
	}
	if err := ue.Delete(name); err != nil {
		t.Errorf("deleting a missing value: %v", err)
	}
}

// TestPersistEnvStepsRegistryReal runs the env steps against the real
// registry: set, unchanged re-run, WSLENV merge, undo to the prior state.
func TestPersistEnvStepsRegistryReal(t *testing.T) {
	ue := DefaultUserEnv()
	prevSP, prevSPexp, hadSP, _ := ue.Get(EnvVar)
	prevW, prevWexp, hadW, _ := ue.Get("WSLENV")
	t.Cleanup(func() {
		if hadSP {
			ue.Set(EnvVar, prevSP, prevSPexp)
		} else {
			ue.Delete(EnvVar)
		}
		if hadW {
			ue.Set("WSLENV", prevW, prevWexp)
		} else {
			ue.Delete("WSLENV")
		}
	})
	ue.Set("WSLENV", "WT_SESSION:WT_PROFILE_ID", false)
	ue.Delete(EnvVar)

	dir := testenv.TempDir(t)
	st, _ := LoadState(dir)
	o := PersistOptions{Value: `C:\Users\u\Documents\.secrets\it's "a" $x`, Facts: Facts{OS: "windows", Home: dir},
		Env: MapEnvironment{}, State: st, StateDir: dir, Shells: true, WSLENV: true}
	steps, err := PersistEnvSteps(o)
	if err != nil {
		t.Fatal(err)
	}
	runAll(t, steps)
	if v, typ, ok := readBack(t, EnvVar); !ok || v != o.Value || typ != registry.SZ {
		t.Errorf("SECRETS_PATH = %q type %d", v, typ)
	}
	if v, _, _ := readBack(t, "WSLENV"); v != "WT_SESSION:WT_PROFILE_ID:SECRETS_PATH/p" {
		t.Errorf("WSLENV = %q", v)
	}
	steps, _ = PersistEnvSteps(o)
	for _, r := range runAll(t, steps).Results {
		if r.Status != step.StatusDone {
			t.Errorf("re-run: %s %s", r.Status, r.Detail)
		}
	}
	rep, err := step.Run(context.Background(), UndoSteps(st, st.Records, EnvUndoers(), UndoContext{Facts: o.Facts, Env: o.Env}), step.Options{})
	if err != nil || rep.Failed() {
		t.Fatalf("undo: %+v %v", rep.Results, err)
	}
	if _, _, ok := readBack(t, EnvVar); ok {
		t.Error("SECRETS_PATH still set after undo")
	}
	if v, _, _ := readBack(t, "WSLENV"); v != "WT_SESSION:WT_PROFILE_ID" {
		t.Errorf("WSLENV after undo = %q", v)
	}
}
