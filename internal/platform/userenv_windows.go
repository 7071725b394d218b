package platform

import (
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
)

// DefaultUserEnv is HKCU\Environment.
func DefaultUserEnv() UserEnvStore { return registryUserEnv{} }

type registryUserEnv struct{}

func (registryUserEnv) Get(name string) (string, bool, bool, error) {
	k, err := registry.OpenKey(registry.CURRENT_USER, "Environment", registry.QUERY_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		return "", false, false, nil
	}
	if err != nil {
		return "", false, false, err
	}
	defer k.Close()
	v, typ, err := k.GetStringValue(name)
	if errors.Is(err, registry.ErrNotExist) {
		return "", false, false, nil
	}
	if err != nil {
		return "", false, false, err
	}
	return v, typ == registry.EXPAND_SZ, true, nil
}

func (registryUserEnv) Set(name, value string, expand bool) error {
	k, _, err := registry.CreateKey(registry.CURRENT_USER, "Environment", registry.SET_VALUE|registry.QUERY_VALUE)
	if err != nil {
		return err
	}
	defer k.Close()
	if expand {
		return k.SetExpandStringValue(name, value)
	}
	return k.SetStringValue(name, value)
}

func (registryUserEnv) Delete(name string) error {
	k, err := registry.OpenKey(registry.CURRENT_USER, "Environment", registry.SET_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer k.Close()
	err = k.DeleteValue(name)
	if errors.Is(err, registry.ErrNotExist) {
		return nil
	}
	return err
}

var (
	user32                  = windows.NewLazySystemDLL("user32.dll")
	procSendMessageTimeoutW = user32.NewProc("SendMessageTimeoutW")
)

const (
	hwndBroadcast    = 0xffff
	wmSettingChange  = 0x001A
	smtoAbortIfHung  = 0x0002
	broadcastTimeout = 5000 // ms per window; a hung window is skipped, not waited on
)

// Broadcast sends WM_SETTINGCHANGE "Environment" so Explorer reloads the
// user environment and programs it starts next see the change.
func (registryUserEnv) Broadcast() error {
	if err := procSendMessageTimeoutW.Find(); err != nil {
		return err
	}
	env, err := windows.UTF16PtrFromString("Environment")
	if err != nil {
		return err
	}
	var result uintptr
	r, _, callErr := procSendMessageTimeoutW.Call(hwndBroadcast, wmSettingChange, 0,
		uintptr(unsafe.Pointer(env)), smtoAbortIfHung, broadcastTimeout, uintptr(unsafe.Pointer(&result)))
	if r == 0 {
		return fmt.Errorf("SendMessageTimeout: %v", callErr)
	}
	return nil
}
