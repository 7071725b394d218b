package platform

import (
	"fmt"
	"io/fs"
	"os"

	"golang.org/x/sys/windows"
)

// On Windows, file modes mean nothing; what keeps other users out is the
// DACL. A "private" folder or file has a protected DACL (inheritance from
// the parent disabled) with one ACE granting the current user full control,
// and optionally one for SYSTEM (backup tools, Docker Desktop's service).
//
// Wine accepts SetNamedSecurityInfo and changes nothing, so tests verify the
// descriptor we build (PrivateSDDL) as data; the OS effect is verified only
// on real Windows.

// PrivateSDDL is the security descriptor (SDDL) for a private folder or file
// of sid: protected DACL ("P"), full access for sid, optionally SYSTEM. Folder
// ACEs are inherited by files and subfolders (OICI).
func PrivateSDDL(sid string, includeSystem, folder bool) string {
	flags := ""
	if folder {
		flags = "OICI"
	}
	s := "D:P(A;" + flags + ";FA;;;" + sid + ")"
	if includeSystem {
		s += "(A;" + flags + ";FA;;;SY)"
	}
	return s
}

func currentUserSID() (*windows.SID, error) {
	tok := windows.GetCurrentProcessToken()
	u, err := tok.GetTokenUser()
	if err != nil {
		return nil, fmt.Errorf("read the current user: %w", err)
	}
	return u.User.Sid, nil
}

func ownedByMe(path string, _ fs.FileInfo) error {
	me, err := currentUserSID()
	if err != nil {
		return err
	}
	sd, err := windows.GetNamedSecurityInfo(path, windows.SE_FILE_OBJECT, windows.OWNER_SECURITY_INFORMATION)
	if err != nil {
		return fmt.Errorf("read the owner of %s: %w", path, err)
	}
	owner, _, err := sd.Owner()
	if err != nil || owner == nil {
		return nil
	}
	// Administrators own folders created from an elevated prompt; that is
	// still this user's folder on a single-user machine.
	if owner.Equals(me) || owner.IsWellKnown(windows.WinBuiltinAdministratorsSid) {
		return nil
	}
	name := owner.String()
	if acct, dom, _, err := owner.LookupAccount(""); err == nil {
		name = dom + `\` + acct
	}
	return fmt.Errorf("secrets folder %s %w (%s): use a folder of your own with --secrets-path", path, ErrForeignOwner, name)
}

func applyPrivateDACL(path string, includeSystem, folder bool) (string, error) {
	me, err := currentUserSID()
	if err != nil {
		return "", err
	}
	sddl := PrivateSDDL(me.String(), includeSystem, folder)
	sd, err := windows.SecurityDescriptorFromString(sddl)
	if err != nil {
		return "", fmt.Errorf("build security descriptor: %w", err)
	}
	dacl, _, err := sd.DACL()
	if err != nil {
		return "", fmt.Errorf("build DACL: %w", err)
	}
	err = windows.SetNamedSecurityInfo(path, windows.SE_FILE_OBJECT,
		windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION,
		nil, nil, dacl, nil)
	if err != nil {
		return "", fmt.Errorf("restrict %s to your user: %w", path, err)
	}
	return sddl, nil
}

// readDACL returns path's DACL as SDDL (for checks and status output).
func readDACL(path string) (string, error) {
	sd, err := windows.GetNamedSecurityInfo(path, windows.SE_FILE_OBJECT, windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		return "", fmt.Errorf("read the permissions of %s: %w", path, err)
	}
	return sd.String(), nil
}

func restrictDir(path string, includeSystem bool) (bool, string, error) {
	me, err := currentUserSID()
	if err != nil {
		return false, "", err
	}
	want := PrivateSDDL(me.String(), includeSystem, true)
	if got, err := readDACL(path); err == nil && got == want {
		return false, "protected DACL: only you" + systemNote(includeSystem), nil
	}
	if _, err := applyPrivateDACL(path, includeSystem, true); err != nil {
		return false, "", err
	}
	if err := readBackDACL(path, want); err != nil {
		return false, "", err
	}
	return true, "protected DACL: only you" + systemNote(includeSystem), nil
}

// readBackDACL compares the DACL now on path with the one just set (Windows
// accepted the call; whether it kept the ACL is another matter: Wine and
// FAT drives do not). A mismatch wraps ErrNotEnforced.
func readBackDACL(path, want string) error {
	got, err := readDACL(path)
	if err != nil {
		return err
	}
	if !SameACL(got, want) {
		why := "it reads back as " + got
		if ok, reason := permissionsEnforced(path); !ok {
			why = reason
		}
		return fmt.Errorf("protected DACL %w (%s)", ErrNotEnforced, why)
	}
	return nil
}

func checkDirPrivate(path string, includeSystem bool) error {
	me, err := currentUserSID()
	if err != nil {
		return err
	}
	got, err := readDACL(path)
	if err != nil {
		return err
	}
	if !SameACL(got, PrivateSDDL(me.String(), includeSystem, true)) && !SameACL(got, PrivateSDDL(me.String(), !includeSystem, true)) {
		if ok, why := permissionsEnforced(path); !ok {
			return fmt.Errorf("secrets folder %s cannot be made private: a protected DACL is %w (%s)", path, ErrNotEnforced, why)
		}
		return fmt.Errorf("secrets folder %s is readable by more than your user (DACL %s); run `cdb-setup secrets fix`", path, got)
	}
	return nil
}

// RestrictFile gives a secret file a protected DACL for the current user
// (mode is meaningless on Windows).
// An error wrapping ErrNotEnforced means it was set and not kept.
func RestrictFile(path string, _ os.FileMode, includeSystem bool) error {
	want, err := applyPrivateDACL(path, includeSystem, false)
	if err != nil {
		return err
	}
	return readBackDACL(path, want)
}

func systemNote(includeSystem bool) string {
	if includeSystem {
		return " and SYSTEM"
	}
	return ""
}
