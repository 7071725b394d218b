package platform

import "strings"

// WSLENV lists variables Windows shares with WSL processes as NAME/flags
// entries separated by ':' (e.g. "WT_SESSION:GOPATH/l:SECRETS_PATH/p").
// The /p flag translates a Windows path to its /mnt/c/... form.

// wslenvName is an entry's variable name (before the flags).
func wslenvName(entry string) string {
	name, _, _ := strings.Cut(entry, "/")
	return name
}

// MergeWSLENV returns current with entry added, replacing an entry for the
// same variable and keeping every other entry (and its order) untouched. It
// also returns the entry it replaced, so undo can put it back.
func MergeWSLENV(current, entry string) (merged, replaced string) {
	name := wslenvName(entry)
	var out []string
	done := false
	for _, e := range splitWSLENV(current) {
		if strings.EqualFold(wslenvName(e), name) {
			if !done {
				replaced = e
				out = append(out, entry)
				done = true
			}
			continue
		}
		out = append(out, e)
	}
	if !done {
		out = append(out, entry)
	}
	return strings.Join(out, ":"), replaced
}

// RemoveWSLENV returns current without entries for name; when restore is
// not empty it takes the removed entry's place (the entry we replaced).
func RemoveWSLENV(current, name, restore string) string {
	var out []string
	for _, e := range splitWSLENV(current) {
		if strings.EqualFold(wslenvName(e), name) {
			if restore != "" {
				out = append(out, restore)
				restore = ""
			}
			continue
		}
		out = append(out, e)
	}
	return strings.Join(out, ":")
}

// splitWSLENV drops empty entries (from "a::b" or a trailing ':'), which WSL
// ignores as well.
func splitWSLENV(s string) []string {
	var out []string
	for _, e := range strings.Split(s, ":") {
		if e != "" {
			out = append(out, e)
		}
	}
	return out
}
