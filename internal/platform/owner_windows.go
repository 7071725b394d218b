package platform

import "os"

// keepOwner: a file replaced in a user's own profile folder keeps that user
// as owner through inheritance; there is nothing to copy.
func keepOwner(string, os.FileInfo) error { return nil }
