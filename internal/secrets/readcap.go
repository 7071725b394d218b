package secrets

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/claire-de-binare/cdb-setup/internal/hook"
	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/step"
)

// MaxSecretBytes caps every read of a secret: the largest real secret is an
// API key, so anything near 64 KiB is a mistake (a copied log, /dev/zero),
// and reading it whole could take all memory.
const MaxSecretBytes = hook.MaxSecretBytes

// ReadSecret reads a secret file, at most MaxSecretBytes. A larger file is
// an error naming the file and its size, with the fix. Only a regular file
// is opened (through a link; callers that refuse links check first):
// opening a FIFO would wait for a writer forever.
func ReadSecret(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s %w (%s)", path, ErrNotRegular, kindOf(fi))
	}
	b, err := platform.ReadFileCapped(path, MaxSecretBytes)
	return b, tooLargeFix(err)
}

// ReadInput reads a value the user points at (--set NAME=@FILE): a file,
// a FIFO or a device, at most MaxSecretBytes.
func ReadInput(path string) ([]byte, error) {
	b, err := platform.ReadFileCapped(path, MaxSecretBytes)
	return b, tooLargeFix(err)
}

// ReadSecretFrom reads a secret from r (a pipe, a FIFO), at most
// MaxSecretBytes; name says where it came from.
func ReadSecretFrom(r io.Reader, name string) ([]byte, error) {
	b, err := platform.ReadCapped(r, name, MaxSecretBytes)
	return b, tooLargeFix(err)
}

func tooLargeFix(err error) error {
	var tl *platform.TooLargeError
	if errors.As(err, &tl) {
		return step.WithFix(fmt.Errorf("%w: a secret is one short line", err),
			tooLargeHint(tl.Path))
	}
	return err
}

// IsTooLarge is true for a read refused by the cap.
func IsTooLarge(err error) bool {
	var tl *platform.TooLargeError
	return errors.As(err, &tl)
}

func tooLargeHint(path string) string {
	return fmt.Sprintf("check what is in %s: move it away if it is not the secret, and put the secret itself there", path)
}
