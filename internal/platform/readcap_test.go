package platform

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

// FuzzReadCapped: up to the limit the bytes come back unchanged; beyond it
// the read is refused with a *TooLargeError and nothing is returned.
func FuzzReadCapped(f *testing.F) {
	f.Add([]byte("a secret\n"), uint16(64))
	f.Add([]byte{}, uint16(0))
	f.Add(bytes.Repeat([]byte{0}, 70000), uint16(65535))
	f.Fuzz(func(t *testing.T, data []byte, limit uint16) {
		b, err := ReadCapped(bytes.NewReader(data), "input", int64(limit))
		var tl *TooLargeError
		switch {
		case len(data) <= int(limit):
			if err != nil || !bytes.Equal(b, data) {
				t.Fatalf("within the limit: %v", err)
			}
		case !errors.As(err, &tl) || b != nil || tl.Limit != int64(limit) || tl.Path != "input":
			t.Fatalf("over the limit: %v, %d bytes", err, len(b))
		}
		// The same through a file: the size is known and named.
		p := filepath.Join(testenv.TempDir(t), "f")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		b, err = ReadFileCapped(p, int64(limit))
		if len(data) <= int(limit) {
			if err != nil || !bytes.Equal(b, data) {
				t.Fatalf("file within the limit: %v", err)
			}
		} else if !errors.As(err, &tl) || tl.Size != int64(len(data)) || b != nil {
			t.Fatalf("file over the limit: %v", err)
		}
	})
}

// A read blocked on a pipe nobody writes to returns at once when the
// context ends.
func TestReadContextCancelled(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	defer r.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = ReadContext(ctx, func() ([]byte, error) { return ReadCapped(r, "pipe", 10) })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
}

// The next write of a file removes the temp files a killed run left for
// it, and only those.
func TestWriteFileAtomicRemovesStaleTemps(t *testing.T) {
	dir := testenv.TempDir(t)
	stale := filepath.Join(dir, ".secret.tmp-0123456789ab")
	other := filepath.Join(dir, ".other.tmp-0123456789ab")
	for _, p := range []string{stale, other} {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		old := runStart.Add(-time.Minute)
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	if err := WriteFileAtomic(filepath.Join(dir, "secret"), []byte("v"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(stale); err == nil {
		t.Error("stale temp of the target kept")
	}
	if _, err := os.Lstat(other); err != nil {
		t.Error("another target's temp removed")
	}
}
