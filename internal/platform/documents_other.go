//go:build !windows

package platform

import "errors"

func knownDocumentsFolder() (string, error) {
	return "", errors.New("known folders exist only on Windows")
}
