package testenv

import "golang.org/x/sys/windows"

// Wine's ntdll exports wine_get_version; Windows' never does.
func underWine() bool {
	return windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil
}
