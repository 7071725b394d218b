package wizard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/huh"
	"github.com/charmbracelet/lipgloss"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
)

// ErrAborted is returned when the user leaves the questions (Ctrl-C, Esc):
// nothing has been changed at that point.
var ErrAborted = errors.New("setup cancelled before anything was changed")

// FormOptions are the inputs of Ask.
type FormOptions struct {
	In  io.Reader
	Out io.Writer
	// Accessible uses huh's line-by-line mode (ACCESSIBLE=1, TERM=dumb).
	// Only ever with a real terminal on In: that mode loses piped input and
	// cannot read a password without a file descriptor.
	Accessible bool
	// NoColor renders without colours (NO_COLOR).
	NoColor bool
	Facts   platform.Facts
	Offer   Offer
	// Defaults pre-fill every question (last run's answers, then defaults).
	Defaults Answers
}

// Ask asks every question that applies and returns the answers. At a
// terminal the questions are one form, a page each, so shift+tab reaches
// every earlier question (the credentials pages are hidden unless the user
// wants to enter them). In accessible mode (ACCESSIBLE=1, TERM=dumb) the
// same questions are asked line by line by lineAsker.
func Ask(ctx context.Context, o FormOptions) (Answers, error) {
	a := o.Defaults
	if a.External == nil {
		a.External = map[string]string{}
	}
	qs, finish := questions(o, &a)
	var err error
	if o.Accessible {
		err = newLineAsker(o).ask(ctx, qs)
	} else {
		groups := make([]*huh.Group, 0, len(qs))
		for _, q := range qs {
			groups = append(groups, huh.NewGroup(q.field()).WithHideFunc(q.hidden))
		}
		err = o.runForm(ctx, huh.NewForm(groups...))
	}
	if err != nil {
		return Answers{}, err
	}
	finish()
	a.SecretsPath = strings.TrimSpace(a.SecretsPath)
	a = a.ExpandHome(o.Facts.Home)
	if len(a.External) == 0 {
		a.External = nil
	}
	return a, a.Validate()
}

// questions are the questions that apply, in order, writing into a;
// finish copies what cannot be written directly (the credentials, kept
// only when the user chose to enter them).
func questions(o FormOptions, a *Answers) ([]*question, func()) {
	var qs []*question
	qs = append(qs, &question{
		kind: kindInput, title: "Secrets folder", why: secretsPathWhy(o.Facts), text: &a.SecretsPath,
		validate: func(s string) error {
			s = strings.TrimSpace(s)
			if s == "" || !(filepath.IsAbs(s) || strings.HasPrefix(s, "~")) {
				return errors.New("enter an absolute folder path (or one starting with ~)")
			}
			return nil
		},
	})
	if len(o.Offer.Profiles) > 1 {
		var opts []option
		for _, p := range o.Offer.Profiles {
			opts = append(opts, option{profileLabel(p), p})
		}
		if a.Profile == "" {
			a.Profile = o.Offer.Profiles[0]
		}
		qs = append(qs, &question{kind: kindSelect, title: "Compose profile",
			why:     "Which compose files start: dev publishes every service on 127.0.0.1 for local work.",
			options: opts, choice: &a.Profile})
	} else if len(o.Offer.Profiles) == 1 {
		a.Profile = o.Offer.Profiles[0]
	}
	if len(o.Offer.Overlays) > 0 {
		if a.Overlays == nil {
			a.Overlays = []string{}
		}
		var opts []option
		for _, ov := range o.Offer.Overlays {
			opts = append(opts, option{overlayLabel(ov), ov})
		}
		qs = append(qs, &question{kind: kindMulti, title: "Overlays (optional)",
			why:     "Extra compose files on top of the profile; none is fine for a first start.",
			tuiHint: " Space toggles, Enter confirms.", options: opts, choices: &a.Overlays})
	}
	enterExternal := false
	vals := make([]string, len(o.Offer.External))
	if len(o.Offer.External) > 0 {
		qs = append(qs, &question{kind: kindConfirm, title: "Enter external credentials now?",
			why: externalWhy(o.Offer.External), yesLabel: "Yes", noLabel: "Skip", yes: &enterExternal})
		// Each credential is masked unless it is an address or a user name;
		// empty keeps the file empty (the stack starts without mail or with
		// mock trading).
		for i, e := range o.Offer.External {
			vals[i] = a.External[e.Name]
			q := &question{kind: kindInput, title: e.Name, why: externalDescription(e), text: &vals[i],
				secret: e.Sensitive, skip: func() bool { return !enterExternal }}
			if !e.Optional {
				q.validate = func(s string) error {
					if s == "" {
						return errors.New("this one is required")
					}
					return nil
				}
			}
			qs = append(qs, q)
		}
	}
	if o.Offer.Keychain {
		v := a.Keychain != nil && *a.Keychain
		a.Keychain = &v
		qs = append(qs, &question{kind: kindConfirm, title: "Mirror the secrets into the OS keychain?",
			why: "After a wipe or on reinstall, cdb-setup restores the files from there instead of making new passwords your volumes would refuse.",
			yes: a.Keychain})
	}
	if o.Offer.Persist {
		if a.Persist == nil {
			a.Persist = []string{}
		}
		var opts []option
		for _, t := range o.Offer.PersistTargets {
			opts = append(opts, option{persistLabel(t), t})
		}
		qs = append(qs, &question{kind: kindMulti, title: "Make SECRETS_PATH permanent for",
			why:     "Compose needs SECRETS_PATH in every shell that runs it; unset, every secret resolves to /REDIS_PASSWORD and the stack fails.",
			tuiHint: " Space toggles, Enter confirms.", options: opts, choices: &a.Persist})
	}
	if o.Offer.Hook {
		v := a.Hook == nil || *a.Hook
		a.Hook = &v
		qs = append(qs, &question{kind: kindConfirm, title: "Install the gitleaks pre-commit hook?",
			why: "Secrets were committed to this repository before; the hook stops a commit that contains one.",
			yes: a.Hook})
	}
	if o.Offer.Start {
		v := a.Start == nil || *a.Start
		a.Start = &v
		qs = append(qs, &question{kind: kindConfirm, title: "Start the stack now?",
			why: "Runs docker compose up and waits until every service is healthy (about a minute with built images).",
			yes: a.Start})
	}
	return qs, func() {
		if !enterExternal {
			return
		}
		for i, e := range o.Offer.External {
			if vals[i] != "" {
				a.External[e.Name] = vals[i]
			} else {
				delete(a.External, e.Name)
			}
		}
	}
}

// PlanChoice is the answer to the plan: apply it, go back to the
// questions, or stop.
type PlanChoice string

const (
	PlanApply  PlanChoice = "apply"
	PlanEdit   PlanChoice = "edit"
	PlanCancel PlanChoice = "cancel"
)

// ErrEditAnswers is Confirm's answer when the user chose "Edit answers" on
// the plan: the caller asks the questions again, the answers pre-filled.
var ErrEditAnswers = errors.New("the user wants to change the answers")

// Confirm asks about the plan ("Apply these changes?"): yes, "Edit answers"
// (ErrEditAnswers), or no. Enter takes def.
func Confirm(ctx context.Context, o FormOptions, title, description string, def bool) (bool, error) {
	choice := string(PlanCancel)
	if def {
		choice = string(PlanApply)
	}
	q := &question{kind: kindSelect, title: title, why: description, choice: &choice, options: []option{
		{"Yes, apply them (y)", string(PlanApply)},
		{"Edit answers (e)", string(PlanEdit)},
		{"No, stop here (n)", string(PlanCancel)},
	}, aliases: map[string]string{"y": string(PlanApply), "yes": string(PlanApply), "e": string(PlanEdit), "n": string(PlanCancel), "no": string(PlanCancel)}}
	var err error
	if o.Accessible {
		err = newLineAsker(o).ask(ctx, []*question{q})
	} else {
		// y, n and e answer at once, as on a yes/no question.
		keys := map[string]PlanChoice{"y": PlanApply, "n": PlanCancel, "e": PlanEdit}
		form := huh.NewForm(huh.NewGroup(q.field())).WithProgramOptions(tea.WithFilter(func(_ tea.Model, msg tea.Msg) tea.Msg {
			if k, ok := msg.(tea.KeyMsg); ok {
				if c, ok := keys[k.String()]; ok {
					choice = string(c)
					return tea.QuitMsg{}
				}
			}
			return msg
		}))
		err = o.runForm(ctx, form)
	}
	switch {
	case err != nil:
		return false, err
	case PlanChoice(choice) == PlanEdit:
		return false, ErrEditAnswers
	}
	return PlanChoice(choice) == PlanApply, nil
}

func (o FormOptions) runForm(ctx context.Context, f *huh.Form) error {
	f = f.WithInput(o.In).WithOutput(o.Out).WithShowHelp(true)
	if o.NoColor {
		f = f.WithTheme(ThemeNoColor())
	}
	err := f.RunWithContext(ctx)
	if errors.Is(err, huh.ErrUserAborted) || ctx.Err() != nil {
		return ErrAborted
	}
	if err != nil {
		return fmt.Errorf("asking the setup questions: %w", err)
	}
	return nil
}

// ThemeNoColor is huh's base theme with the focused button marked by
// brackets: without colour (NO_COLOR) the base theme shows "Yes" and "No"
// the same whichever is selected.
func ThemeNoColor() *huh.Theme {
	t := huh.ThemeBase()
	plain := lipgloss.NewStyle().Padding(0, 1).MarginRight(1)
	for _, s := range []*huh.FieldStyles{&t.Focused, &t.Blurred} {
		s.FocusedButton = plain.Transform(func(x string) string { return "[" + x + "]" })
		s.BlurredButton = plain.Transform(func(x string) string { return " " + x + " " })
	}
	return t
}

func secretsPathWhy(f platform.Facts) string {
	s := "Compose mounts every secret from this folder (SECRETS_PATH). It lives outside the repository so it is never committed."
	if f.CloudSync != "" {
		s += fmt.Sprintf("\n! Your Documents folder is synced by %s: secrets here are uploaded to the cloud. Consider %s.",
			f.CloudSync, filepath.Join(f.Home, ".secrets", ".cdb"))
	}
	return s
}

func profileLabel(p string) string {
	switch p {
	case "dev":
		return "dev — every service, ports on 127.0.0.1 (recommended)"
	case "prod":
		return "prod — base services only, no published ports"
	}
	return p
}

func overlayLabel(o string) string {
	switch o {
	case "logging":
		return "logging — alertmanager, loki, promtail"
	case "strict-health":
		return "strict-health — stricter healthchecks, ordered start"
	case "network-isolation":
		return "network-isolation — internal network"
	case "tls":
		return "tls — TLS for redis and postgres (needs certificates)"
	}
	return o
}

func persistLabel(t string) string {
	switch t {
	case PersistShells:
		return "shells — new terminals (bash, zsh, fish; the user environment on Windows)"
	case PersistGUI:
		return "desktop programs — VS Code or Docker Desktop started from the menu"
	case PersistWSL:
		return "WSL — Linux shells see the Windows value"
	case PersistComposeEnv:
		return "compose .env — docker compose works even where SECRETS_PATH is unset"
	}
	return t
}

func externalWhy(ext []ExternalSecret) string {
	names := make([]string, len(ext))
	for i, e := range ext {
		names[i] = e.Name
	}
	return "Mail (SMTP) and exchange API credentials: " + strings.Join(names, ", ") +
		". All optional; skipped ones stay empty and the stack still starts (mock trading, no mail)."
}

func externalDescription(e ExternalSecret) string {
	d := e.Prompt
	if e.Optional {
		d += " — empty to skip"
	}
	return d
}
