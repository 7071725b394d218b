package platform

import "golang.org/x/sys/windows"

// knownDocumentsFolder resolves FOLDERID_Documents, which follows
// redirection (OneDrive Known Folder Move, group policy) unlike %USERPROFILE%\Documents.
func knownDocumentsFolder() (string, error) {
	return windows.KnownFolderPath(windows.FOLDERID_Documents, windows.KF_FLAG_DEFAULT)
}
