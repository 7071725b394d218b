package platform

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"path/filepath"

	"github.com/claire-de-binare/cdb-setup/internal/step"
)

// LaunchAgentLabel names our LaunchAgent; the plist file is <label>.plist.
const LaunchAgentLabel = "com.claire-de-binare.cdb-setup.secrets-path"

// LaunchAgentPath is ~/Library/LaunchAgents/<label>.plist.
func LaunchAgentPath(f Facts) string {
	return filepath.Join(f.Home, "Library", "LaunchAgents", LaunchAgentLabel+".plist")
}

func xmlEscape(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// LaunchAgentPlist runs `launchctl setenv SECRETS_PATH <value>` at every
// login, so programs started from the Dock or Finder (VS Code, Docker
// Desktop) inherit it; shells get it from their rc files anyway.
func LaunchAgentPlist(value string) []byte {
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>
<!-- ` + OwnedHeader + `: sets SECRETS_PATH for programs started at login. ` + "`cdb-setup env unset`" + ` removes this file. -->
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>Label</key>
	<string>` + LaunchAgentLabel + `</string>
	<key>ProgramArguments</key>
	<array>
		<string>/bin/launchctl</string>
		<string>setenv</string>
		<string>` + EnvVar + `</string>
		<string>` + xmlEscape(value) + `</string>
	</array>
	<key>RunAtLoad</key>
	<true/>
</dict>
</plist>
`)
}

// LaunchAgentSteps: the plist for future logins plus an immediate
// `launchctl setenv` for this one.
func LaunchAgentSteps(o PersistOptions) []step.Step {
	o.defaults()
	return []step.Step{
		&ownedFileStep{id: "env.launch-agent", kind: KindLaunchAgent, path: LaunchAgentPath(o.Facts),
			content: LaunchAgentPlist(o.Value), state: o.State, what: "programs started from the Dock or Finder, from the next login"},
		&launchctlStep{o: o},
	}
}

// launchctlStep sets the variable in the running login session. It is not
// recorded separately: undoing the LaunchAgent also unsets it.
type launchctlStep struct{ o PersistOptions }

func (s *launchctlStep) ID() string { return "env.launchctl" }

func (s *launchctlStep) current(ctx context.Context) string {
	out, err := s.o.Run(ctx, "launchctl", "getenv", EnvVar)
	if err != nil {
		return ""
	}
	return string(bytes.TrimRight(out, "\n"))
}

func (s *launchctlStep) Plan(ctx context.Context) (step.Change, error) {
	c := step.Change{Step: s.ID(), Targets: []string{"launchctl setenv " + EnvVar}}
	if s.current(ctx) == s.o.Value {
		c.None, c.Summary = true, "the login session already has SECRETS_PATH"
		return c, nil
	}
	c.Summary = "launchctl setenv SECRETS_PATH (programs started from now on in this login session)"
	return c, nil
}

func (s *launchctlStep) Apply(ctx context.Context) (step.Result, error) {
	if s.current(ctx) == s.o.Value {
		return step.Result{Step: s.ID(), Status: step.StatusDone, Detail: "the login session already has SECRETS_PATH"}, nil
	}
	if out, err := s.o.Run(ctx, "launchctl", "setenv", EnvVar, s.o.Value); err != nil {
		err = fmt.Errorf("launchctl setenv %s: %v: %s", EnvVar, err, bytes.TrimSpace(out))
		return step.Failed(s.ID(), err, "the LaunchAgent still applies it at the next login"), err
	}
	return step.Result{Step: s.ID(), Status: step.StatusChanged, Detail: "launchctl setenv SECRETS_PATH: programs started from now on see it"}, nil
}
