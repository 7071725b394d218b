package wizard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/charmbracelet/huh"

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

// Ask asks every question that applies and returns the answers. Questions
// run as a few forms in sequence rather than one form with hidden groups:
// huh's accessible mode ignores hidden groups, so a question that does not
// apply must not be in a form at all.
func Ask(ctx context.Context, o FormOptions) (Answers, error) {
	a := o.Defaults
	// whys collects each question's one-line why in the order the fields
	// are built, for accessible mode (which does not print descriptions).
	var whys []string
	why := func(s string) string { whys = append(whys, s); return s }
	if a.External == nil {
		a.External = map[string]string{}
	}

	// 1. Where, and which stack.
	var g []huh.Field
	folderWhy := secretsPathWhy(o.Facts)
	defFolder := a.SecretsPath
	if o.Accessible && defFolder != "" {
		// huh's line mode does not show the pre-filled value.
		folderWhy += "\nPress Enter to keep " + defFolder
	}
	g = append(g, huh.NewInput().
		Title("Secrets folder").
		Description(why(folderWhy)).
		Value(&a.SecretsPath).
		Validate(func(s string) error {
			s = strings.TrimSpace(s)
			if s == "" && o.Accessible && defFolder != "" {
				// huh's line mode validates the raw line, then falls back
				// to the pre-filled value for an empty one.
				return nil
			}
			if s == "" || !(filepath.IsAbs(s) || strings.HasPrefix(s, "~")) {
				return errors.New("enter an absolute folder path (or one starting with ~)")
			}
			return nil
		}))
	if len(o.Offer.Profiles) > 1 {
		opts := make([]huh.Option[string], 0, len(o.Offer.Profiles))
		for _, p := range o.Offer.Profiles {
			opts = append(opts, huh.NewOption(profileLabel(p), p))
		}
		g = append(g, huh.NewSelect[string]().
			Title("Compose profile").
			Description(why("Which compose files start: dev publishes every service on 127.0.0.1 for local work.")).
			Options(opts...).Value(&a.Profile))
	} else if len(o.Offer.Profiles) == 1 {
		a.Profile = o.Offer.Profiles[0]
	}
	if len(o.Offer.Overlays) > 0 {
		if a.Overlays == nil {
			a.Overlays = []string{}
		}
		opts := make([]huh.Option[string], 0, len(o.Offer.Overlays))
		for _, ov := range o.Offer.Overlays {
			opts = append(opts, huh.NewOption(overlayLabel(ov), ov))
		}
		g = append(g, huh.NewMultiSelect[string]().
			Title("Overlays (optional)").
			Description(why("Extra compose files on top of the profile; none is fine for a first start. Space toggles, Enter confirms.")).
			Options(opts...).Value(&a.Overlays))
	}
	enterExternal := false
	if len(o.Offer.External) > 0 {
		g = append(g, huh.NewConfirm().
			Title("Enter external credentials now?").
			Description(why(externalWhy(o.Offer.External))).
			Affirmative("Yes").Negative("Skip").
			Value(&enterExternal))
	}
	if err := o.run(ctx, whys, pages(g)...); err != nil {
		return Answers{}, err
	}

	whys = nil

	// 2. External credentials, only when wanted. Each is masked unless it
	// is an address or a user name; empty keeps the file empty (the stack
	// starts without mail or with mock trading).
	if enterExternal {
		var fields []huh.Field
		vals := make([]string, len(o.Offer.External))
		for i, e := range o.Offer.External {
			vals[i] = a.External[e.Name]
			in := huh.NewInput().Title(e.Name).Description(why(externalDescription(e))).Value(&vals[i])
			if e.Sensitive {
				in = in.EchoMode(huh.EchoModePassword)
			}
			if !e.Optional {
				in = in.Validate(func(s string) error {
					if s == "" {
						return errors.New("this one is required")
					}
					return nil
				})
			}
			fields = append(fields, in)
		}
		if err := o.run(ctx, whys, pages(fields)...); err != nil {
			return Answers{}, err
		}
		for i, e := range o.Offer.External {
			if vals[i] != "" {
				a.External[e.Name] = vals[i]
			}
		}
	}

	whys = nil

	// 3. What to change on this machine.
	var g3 []huh.Field
	if o.Offer.Keychain {
		v := a.Keychain != nil && *a.Keychain
		a.Keychain = &v
		g3 = append(g3, huh.NewConfirm().
			Title("Mirror the secrets into the OS keychain?").
			Description(why("After a wipe or on reinstall, cdb-setup restores the files from there instead of making new passwords your volumes would refuse.")).
			Value(a.Keychain))
	}
	if o.Offer.Persist {
		if a.Persist == nil {
			a.Persist = []string{}
		}
		opts := make([]huh.Option[string], 0, len(o.Offer.PersistTargets))
		for _, t := range o.Offer.PersistTargets {
			opts = append(opts, huh.NewOption(persistLabel(t), t))
		}
		g3 = append(g3, huh.NewMultiSelect[string]().
			Title("Make SECRETS_PATH permanent for").
			Description(why("Compose needs SECRETS_PATH in every shell that runs it; unset, every secret resolves to /REDIS_PASSWORD and the stack fails.")).
			Options(opts...).Value(&a.Persist))
	}
	if o.Offer.Hook {
		v := a.Hook == nil || *a.Hook
		a.Hook = &v
		g3 = append(g3, huh.NewConfirm().
			Title("Install the gitleaks pre-commit hook?").
			Description(why("Secrets were committed to this repository before; the hook stops a commit that contains one.")).
			Value(a.Hook))
	}
	if o.Offer.Start {
		v := a.Start == nil || *a.Start
		a.Start = &v
		g3 = append(g3, huh.NewConfirm().
			Title("Start the stack now?").
			Description(why("Runs docker compose up and waits until every service is healthy (about a minute with built images).")).
			Value(a.Start))
	}
	if len(g3) > 0 {
		if err := o.run(ctx, whys, pages(g3)...); err != nil {
			return Answers{}, err
		}
	}
	a.SecretsPath = strings.TrimSpace(a.SecretsPath)
	a = a.ExpandHome(o.Facts.Home)
	if len(a.External) == 0 {
		a.External = nil
	}
	return a, a.Validate()
}

// Confirm asks one yes/no question (the plan's "Apply these changes?").
func Confirm(ctx context.Context, o FormOptions, title, description string, def bool) (bool, error) {
	v := def
	err := o.run(ctx, []string{description}, huh.NewGroup(huh.NewConfirm().Title(title).Description(description).Affirmative("Yes").Negative("No").Value(&v)))
	return v, err
}

// pages puts each question on its own page: its one-line why gets the
// room, narrow terminals only wrap one question, and a screen shows one
// title at a time (what the terminal tests wait for).
func pages(fields []huh.Field) []*huh.Group {
	out := make([]*huh.Group, len(fields))
	for i, f := range fields {
		out[i] = huh.NewGroup(f)
	}
	return out
}

// run asks one page per group. In accessible mode each page is its own
// form, preceded by its why: huh's line-by-line mode prints only titles, and
// a screen-reader user deserves the same explanation.
func (o FormOptions) run(ctx context.Context, whys []string, groups ...*huh.Group) error {
	if !o.Accessible {
		return o.runForm(ctx, huh.NewForm(groups...))
	}
	for i, g := range groups {
		if i < len(whys) && whys[i] != "" {
			fmt.Fprintln(o.Out, whys[i])
		}
		if err := o.runForm(ctx, huh.NewForm(g).WithAccessible(true)); err != nil {
			return err
		}
	}
	return nil
}

func (o FormOptions) runForm(ctx context.Context, f *huh.Form) error {
	f = f.WithInput(o.In).WithOutput(o.Out).WithShowHelp(true)
	if o.NoColor {
		f = f.WithTheme(huh.ThemeBase())
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
