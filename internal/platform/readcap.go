package platform

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
)

// TooLargeError is a read cut off at its limit. Size is the file's size when
// it is known (a regular file), else -1 (a pipe, a device).
type TooLargeError struct {
	Path  string
	Size  int64
	Limit int64
}

func (e *TooLargeError) Error() string {
	if e.Size >= 0 {
		return fmt.Sprintf("%s is %d bytes, more than the %d bytes cdb-setup reads from such a file", e.Path, e.Size, e.Limit)
	}
	return fmt.Sprintf("%s holds more than the %d bytes cdb-setup reads from such a file", e.Path, e.Limit)
}

// ReadCapped reads at most limit bytes from r: more is a *TooLargeError
// naming name. Memory stays bounded however much r would give (a 1 GB file,
// /dev/zero, a runaway pipe).
func ReadCapped(r io.Reader, name string, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if int64(len(b)) > limit {
		return nil, &TooLargeError{Path: name, Size: -1, Limit: limit}
	}
	return b, nil
}

// ReadFileCapped is os.ReadFile with a size limit: a regular file larger than
// limit is refused from its size, before anything is read.
func ReadFileCapped(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > limit {
		return nil, &TooLargeError{Path: path, Size: fi.Size(), Limit: limit}
	}
	b, err := ReadCapped(f, path, limit)
	var tl *TooLargeError
	if errors.As(err, &tl) {
		if fi, serr := f.Stat(); serr == nil && fi.Mode().IsRegular() {
			tl.Size = fi.Size()
		}
	}
	return b, err
}

// ReadContext runs a blocking read (opening a FIFO with no writer, a pipe
// that never closes) so that cancelling ctx returns at once with ctx's
// error. The read goes on in the background until its source gives up; the
// caller drops the result, and the process is normally about to exit.
func ReadContext[T any](ctx context.Context, read func() (T, error)) (T, error) {
	type res struct {
		v   T
		err error
	}
	ch := make(chan res, 1)
	go func() {
		v, err := read()
		ch <- res{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}
