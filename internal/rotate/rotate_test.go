package rotate

import (
	"github.com/claire-de-binare/cdb-setup/internal/testenv"

	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/step"
)

// writeStep stands for secrets' SecretStep: it writes a value (these tests
// are about order and rollback; the real steps are tested in secrets and
// end to end in internal/cli).
type writeStep struct {
	path string
	val  []byte
	err  error
}

func (w *writeStep) ID() string { return "write." + filepath.Base(w.path) }
func (w *writeStep) Plan(context.Context) (step.Change, error) {
	return step.Change{Step: w.ID(), Summary: "write"}, nil
}
func (w *writeStep) Apply(context.Context) (step.Result, error) {
	if w.err != nil {
		return step.Failed(w.ID(), w.err, ""), nil
	}
	if err := platform.WriteFileAtomic(w.path, w.val, 0o644); err != nil {
		return step.Failed(w.ID(), err, ""), nil
	}
	return step.Result{Step: w.ID(), Status: step.StatusChanged}, nil
}

func setup(t *testing.T) (string, string, Options, *[]string) {
	dir := testenv.TempDir(t)
	pw := filepath.Join(dir, "REDIS_PASSWORD")
	dsn := filepath.Join(dir, "DSN")
	os.WriteFile(pw, []byte("old"), 0o644)
	os.WriteFile(dsn, []byte("dsn-old"), 0o644)
	var calls []string
	o := Options{Name: "REDIS_PASSWORD", New: []byte("new"), Old: []byte("old"), Mode: 0o644,
		Files:     map[string][]byte{pw: []byte("old"), dsn: []byte("dsn-old")},
		FileSteps: []step.Step{&writeStep{path: pw, val: []byte("new")}, &writeStep{path: dsn, val: []byte("dsn-new")}},
		Recreate:  []string{"redis", "app"},
		RecreateFn: func(_ context.Context, svcs []string) error {
			b, _ := os.ReadFile(pw)
			calls = append(calls, strings.Join(svcs, ",")+" reads "+string(b))
			return nil
		},
	}
	return pw, dsn, o, &calls
}

func run(t *testing.T, o Options) step.Report {
	rep, err := step.Run(context.Background(), Steps(o), step.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestRotateOK(t *testing.T) {
	pw, dsn, o, calls := setup(t)
	o.Prove = func(context.Context) error { return nil }
	rep := run(t, o)
	if rep.Failed() {
		t.Fatalf("%+v", rep.Results)
	}
	if b, _ := os.ReadFile(pw); string(b) != "new" {
		t.Errorf("file %q", b)
	}
	if b, _ := os.ReadFile(dsn); string(b) != "dsn-new" {
		t.Errorf("dsn %q", b)
	}
	if strings.Join(*calls, "|") != "redis,app reads new" {
		t.Errorf("recreate calls %q", *calls)
	}
}

// A refused login after the swap puts the old files back and recreates the
// same containers again, after the files are back.
func TestRotateRollsBackWhenTheLoginFails(t *testing.T) {
	pw, dsn, o, calls := setup(t)
	o.Prove = func(context.Context) error { return errors.New("redis answered WRONGPASS") }
	rep := run(t, o)
	last := rep.Results[len(rep.Results)-1]
	if last.Status != step.StatusFailed || !strings.Contains(last.Detail, "WRONGPASS") || !strings.Contains(last.Detail, "rolled back: the file holds the old REDIS_PASSWORD again") {
		t.Fatalf("result: %+v", last)
	}
	if b, _ := os.ReadFile(pw); string(b) != "old" {
		t.Errorf("file after rollback %q", b)
	}
	if b, _ := os.ReadFile(dsn); string(b) != "dsn-old" {
		t.Errorf("dsn after rollback %q", b)
	}
	if strings.Join(*calls, "|") != "redis,app reads new|redis,app reads old" {
		t.Errorf("recreate calls %q", *calls)
	}
}

// A failed write touches no container and leaves the old file.
func TestRotateWriteFails(t *testing.T) {
	pw, _, o, calls := setup(t)
	o.FileSteps[1].(*writeStep).err = errors.New("disk full")
	rep := run(t, o)
	last := rep.Results[len(rep.Results)-1]
	if last.Status != step.StatusFailed || !strings.Contains(last.Detail, "disk full") || !strings.Contains(last.Detail, "rolled back") {
		t.Fatalf("result: %+v", last)
	}
	if b, _ := os.ReadFile(pw); string(b) != "old" {
		t.Errorf("file after rollback %q", b)
	}
	if len(*calls) != 0 {
		t.Errorf("containers recreated: %q", *calls)
	}
}

// A failed recreate is undone too: old files, containers recreated with them.
func TestRotateRecreateFails(t *testing.T) {
	pw, _, o, calls := setup(t)
	n := 0
	o.RecreateFn = func(_ context.Context, svcs []string) error {
		n++
		b, _ := os.ReadFile(pw)
		*calls = append(*calls, string(b))
		if n == 1 {
			return errors.New("redis did not turn healthy")
		}
		return nil
	}
	rep := run(t, o)
	last := rep.Results[len(rep.Results)-1]
	if last.Status != step.StatusFailed || !strings.Contains(last.Detail, "rolled back") {
		t.Fatalf("result: %+v", last)
	}
	if strings.Join(*calls, "|") != "new|old" {
		t.Errorf("recreate calls %q", *calls)
	}
}
