package platform

import (
	"os"
	"path/filepath"
	"testing"
)

// TestKnownDocumentsFolder: Documents comes from the known folder
// (FOLDERID_Documents, which follows OneDrive and group-policy
// redirection), not from %USERPROFILE%\Documents. Wine answers with its own
// prefix's folder; real Windows (CI's windows job) with the account's.
func TestKnownDocumentsFolder(t *testing.T) {
	d, err := knownDocumentsFolder()
	if err != nil {
		t.Fatal(err)
	}
	if !filepath.IsAbs(d) {
		t.Fatalf("known Documents folder %q is not absolute", d)
	}
	if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
		t.Fatalf("known Documents folder %s: %v", d, err)
	}
	f, err := Detect(EnvironmentFrom(os.Environ()))
	if err != nil {
		t.Fatal(err)
	}
	if f.Documents != d || f.DocumentsSource != "known folder" {
		t.Errorf("Detect: Documents %q (%s), want %q (known folder)", f.Documents, f.DocumentsSource, d)
	}
}
