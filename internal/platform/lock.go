package platform

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Lock is an exclusive, process-wide lock on a file. Two cdb-setup runs that
// change the same things (secrets folder, state file) must not interleave:
// the second one waits, and says who holds the lock while it does.
type Lock struct {
	f    *os.File
	path string
}

// ErrLocked is returned by TryLock when another process holds the lock.
var ErrLocked = errors.New("locked by another process")

// AcquireLock takes the lock at path, waiting until ctx is done. While it
// waits, onWait is called once with the holder's description ("pid 123:
// cdb-setup secrets init").
func AcquireLock(ctx context.Context, path, who string, onWait func(holder string)) (*Lock, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	told := false
	for {
		l, err := TryLock(path, who)
		if err == nil {
			return l, nil
		}
		if !errors.Is(err, ErrLocked) {
			return nil, err
		}
		if !told && onWait != nil {
			onWait(lockHolder(path))
			told = true
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for the lock %s (held by %s): %w", path, lockHolder(path), ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// TryLock takes the lock at path or returns ErrLocked at once.
func TryLock(path, who string) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		return nil, err
	}
	// Record the holder for whoever waits next. Done after locking, so the
	// contents always describe the current holder.
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(fmt.Sprintf("pid %d: %s\n", os.Getpid(), who)), 0)
	return &Lock{f: f, path: path}, nil
}

// Release frees the lock. The lock file itself stays: removing it would let
// a third process lock a different inode while a second still waits on this one.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	_ = l.f.Truncate(0)
	err := unlockFile(l.f)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	return err
}

func lockHolder(path string) string {
	b, err := os.ReadFile(path)
	if err != nil || len(strings.TrimSpace(string(b))) == 0 {
		return "another cdb-setup process"
	}
	return strings.TrimSpace(string(b))
}
