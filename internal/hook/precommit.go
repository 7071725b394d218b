package hook

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// PreCommitConfigName is the pre-commit framework's configuration file.
const PreCommitConfigName = ".pre-commit-config.yaml"

// PreCommitHookID is the id of the local hook cdb-setup adds.
const PreCommitHookID = "cdb-setup-gitleaks"

// PreCommitScanID is the id of the second local hook: `cdb-setup hook scan`
// (the current values of the secrets folder, and connection URIs with a
// password through gitleaks with an extending config).
const PreCommitScanID = "cdb-setup-secrets"

// PreCommitScanEntry is its command; the secrets folder is resolved as by
// every cdb-setup command (CDB_SETUP_SECRETS_PATH, else the default).
const PreCommitScanEntry = "cdb-setup hook scan"

// ErrUnknownLayout is returned when the pre-commit configuration is not a
// layout the editor can extend without rewriting the user's file.
var ErrUnknownLayout = errors.New("unsupported layout")

// PreCommitEntry is the command of the local hook. The config path is
// relative: pre-commit runs hooks from the repository's top folder.
//
// No --verbose: gitleaks' verbose finding prints the match and the line, and
// --redact masks only what a rule calls the secret (for CDB's mexc-api-key,
// the name "MEXC", not the key). pre-commit runs the entry without a shell,
// so it cannot filter a report; gitleaks says "leaks found: N" and the
// cdb-setup-secrets hook next to it names file, line and rule.
func PreCommitEntry(configFile string) string {
	e := "gitleaks git --pre-commit --staged --redact"
	if configFile != "" {
		e += " --config " + configFile
	}
	return e
}

// VerboseEntry is true for an entry an older cdb-setup wrote, with
// --verbose (or -v): it can print the value gitleaks found.
func VerboseEntry(entry string) bool {
	for _, f := range strings.Fields(entry) {
		if f == "--verbose" || f == "-v" {
			return true
		}
	}
	return false
}

// PreCommitInfo is what the configuration says about gitleaks.
type PreCommitInfo struct {
	// HasOurHook: a hook with id cdb-setup-gitleaks is configured.
	HasOurHook bool   `json:"has_cdb_setup_hook"`
	OurEntry   string `json:"entry,omitempty"`
	// HasScanHook: the cdb-setup-secrets hook (`cdb-setup hook scan`) is
	// configured too (cdb-setup before it added only the gitleaks one).
	HasScanHook bool `json:"has_cdb_setup_scan_hook"`
	// UnconfiguredGitleaks lists gitleaks hooks (e.g. the upstream
	// gitleaks/gitleaks repo hook) that run without --config, so without the
	// repository's rules and allow-list when the file is named gitleaks.toml.
	UnconfiguredGitleaks []string `json:"gitleaks_without_config,omitempty"`
}

type pcHook struct {
	ID    string   `yaml:"id"`
	Entry string   `yaml:"entry"`
	Args  []string `yaml:"args"`
}

type pcConfig struct {
	Repos []struct {
		Repo  string   `yaml:"repo"`
		Hooks []pcHook `yaml:"hooks"`
	} `yaml:"repos"`
}

// InspectPreCommitConfig reads what the configuration says about gitleaks.
func InspectPreCommitConfig(content []byte) (PreCommitInfo, error) {
	var info PreCommitInfo
	var c pcConfig
	if err := yaml.Unmarshal(content, &c); err != nil {
		return info, fmt.Errorf("%s is not valid pre-commit configuration: %w", PreCommitConfigName, err)
	}
	for _, r := range c.Repos {
		for _, h := range r.Hooks {
			if h.ID == PreCommitHookID {
				info.HasOurHook, info.OurEntry = true, h.Entry
				continue
			}
			if h.ID == PreCommitScanID {
				info.HasScanHook = true
				continue
			}
			if !strings.Contains(strings.ToLower(h.ID+" "+h.Entry), "gitleaks") {
				continue
			}
			all := h.Entry + " " + strings.Join(h.Args, " ")
			if !strings.Contains(all, "--config") && !strings.Contains(all, "-c ") {
				info.UnconfiguredGitleaks = append(info.UnconfiguredGitleaks, h.ID)
			}
		}
	}
	return info, nil
}

// renderPreCommitBlock is the repos item cdb-setup adds, with its dash at
// column indent, in the file's line ending.
func renderPreCommitBlock(indent int, nl, configFile string) string {
	p := strings.Repeat(" ", indent)
	lines := []string{
		"# cdb-setup: gitleaks with this repository's rules (remove with `cdb-setup hook uninstall`)",
		"- repo: local",
		"  hooks:",
		"    - id: " + PreCommitHookID,
		"      name: gitleaks (secrets in staged changes)",
		"      entry: " + PreCommitEntry(configFile),
		"      language: system",
		"      pass_filenames: false",
		"    - id: " + PreCommitScanID,
		"      name: cdb-setup (its own secret values and connection URIs with a password)",
		"      entry: " + PreCommitScanEntry,
		"      language: system",
		"      pass_filenames: false",
	}
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(p + l + nl)
	}
	return b.String()
}

// AddPreCommitHook appends cdb-setup's local gitleaks hook to the repos list
// of a .pre-commit-config.yaml as text, so the user's comments, order,
// quoting and line endings survive. inserted is the exact text added (what
// RemovePreCommitHook takes out again). The result is parsed back and must
// equal the original plus exactly the new hook, or nothing is returned.
func AddPreCommitHook(content []byte, configFile string) (out []byte, inserted string, err error) {
	nl := "\n"
	if bytes.Contains(content, []byte("\r\n")) {
		nl = "\r\n"
	}
	lines := splitLinesKeepEnds(content)
	endsWithNL := len(content) == 0 || content[len(content)-1] == '\n'

	// appendAt inserts text after line n (1-based; 0 = start of file).
	appendAt := func(n int, text string) {
		off := 0
		for i := 0; i < n && i < len(lines); i++ {
			off += len(lines[i])
		}
		if n >= len(lines) && !endsWithNL {
			text = nl + text
		}
		inserted = text
		out = make([]byte, 0, len(content)+len(text))
		out = append(out, content[:off]...)
		out = append(out, text...)
		out = append(out, content[off:]...)
	}

	dec := yaml.NewDecoder(bytes.NewReader(content))
	var doc yaml.Node
	switch err := dec.Decode(&doc); {
	case errors.Is(err, io.EOF):
		// Empty or comments only.
		appendAt(len(lines), "repos:"+nl+renderPreCommitBlock(0, nl, configFile))
		return out, inserted, verifyAdded(content, out, configFile)
	case err != nil:
		return nil, "", fmt.Errorf("%s is not valid YAML: %w", PreCommitConfigName, err)
	}
	// A file pre-commit itself would reject is the user's to repair; an
	// edit could only make it worse (found by FuzzAddPreCommitHook).
	if _, err := InspectPreCommitConfig(content); err != nil {
		return nil, "", fmt.Errorf("%v: %w", err, ErrUnknownLayout)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, "", fmt.Errorf("%s holds more than one YAML document: %w", PreCommitConfigName, ErrUnknownLayout)
	}
	if len(doc.Content) != 1 {
		return nil, "", fmt.Errorf("%s: %w", PreCommitConfigName, ErrUnknownLayout)
	}
	top := doc.Content[0]
	if top.Kind != yaml.MappingNode || top.Style&yaml.FlowStyle != 0 || top.Column != 1 {
		return nil, "", fmt.Errorf("%s: the top level is not a block mapping: %w", PreCommitConfigName, ErrUnknownLayout)
	}
	idx := -1
	for i := 0; i+1 < len(top.Content); i += 2 {
		if top.Content[i].Kind == yaml.ScalarNode && top.Content[i].Value == "repos" {
			idx = i
		}
	}
	if idx < 0 {
		appendAt(len(lines), "repos:"+nl+renderPreCommitBlock(0, nl, configFile))
		return out, inserted, verifyAdded(content, out, configFile)
	}
	key, val := top.Content[idx], top.Content[idx+1]
	// The repos region ends where the next top-level key starts.
	end := len(lines) + 1
	if idx+2 < len(top.Content) {
		end = top.Content[idx+2].Line
	}
	var indent, after int
	switch {
	case val.Kind == yaml.ScalarNode && val.Tag == "!!null" && val.Value == "":
		indent, after = 0, key.Line
	case val.Kind == yaml.SequenceNode && val.Style&yaml.FlowStyle == 0 && len(val.Content) > 0:
		indent = val.Column - 1
		// After the last line of the list that is neither blank nor a
		// comment at or left of the dashes (such comments introduce what
		// follows). Deeper lines may be block-scalar text: they stay above.
		after = val.Line
		for n := end - 1; n > val.Line; n-- {
			line := string(lines[n-1])
			t := strings.TrimSpace(line)
			lead := len(line) - len(strings.TrimLeft(line, " "))
			if t != "" && (!strings.HasPrefix(t, "#") || lead > indent) {
				after = n
				break
			}
		}
		if m := maxLine(val); after < m {
			after = m
		}
	default:
		return nil, "", fmt.Errorf("%s: repos is not a block list: %w", PreCommitConfigName, ErrUnknownLayout)
	}
	appendAt(after, renderPreCommitBlock(indent, nl, configFile))
	return out, inserted, verifyAdded(content, out, configFile)
}

// verifyAdded checks that out means exactly content plus our hook.
func verifyAdded(content, out []byte, configFile string) error {
	fail := func(why string) error {
		return fmt.Errorf("%s: adding the hook as text would change its meaning (%s): %w", PreCommitConfigName, why, ErrUnknownLayout)
	}
	var before, after map[string]any
	if err := yaml.Unmarshal(content, &before); err != nil {
		return fail(err.Error())
	}
	if err := yaml.Unmarshal(out, &after); err != nil {
		return fail(err.Error())
	}
	if before == nil {
		before = map[string]any{}
	}
	repos, ok := after["repos"].([]any)
	if !ok || len(repos) == 0 {
		return fail("repos is not a list afterwards")
	}
	want := map[string]any{
		"repo": "local",
		"hooks": []any{map[string]any{
			"id": PreCommitHookID, "name": "gitleaks (secrets in staged changes)",
			"entry": PreCommitEntry(configFile), "language": "system", "pass_filenames": false,
		}, map[string]any{
			"id": PreCommitScanID, "name": "cdb-setup (its own secret values and connection URIs with a password)",
			"entry": PreCommitScanEntry, "language": "system", "pass_filenames": false,
		}},
	}
	if !reflect.DeepEqual(repos[len(repos)-1], want) {
		return fail("the new hook does not read back as written")
	}
	rest := repos[:len(repos)-1]
	old, had := before["repos"]
	switch {
	case !had && len(rest) == 0:
		delete(after, "repos")
	case had && old == nil && len(rest) == 0:
		after["repos"] = nil
	default:
		after["repos"] = rest
	}
	if !reflect.DeepEqual(before, after) {
		return fail("other settings read differently")
	}
	return nil
}

// RemovePreCommitHook takes out exactly the text AddPreCommitHook inserted.
// When the user has edited that text since, it refuses: removing a changed
// block by guesswork could delete their own lines.
func RemovePreCommitHook(content []byte, inserted string) ([]byte, error) {
	if inserted == "" {
		return nil, errors.New("no inserted text recorded")
	}
	switch bytes.Count(content, []byte(inserted)) {
	case 1:
		return bytes.Replace(content, []byte(inserted), nil, 1), nil
	case 0:
		return nil, fmt.Errorf("the %s hook in %s was changed since cdb-setup added it: remove it by hand", PreCommitHookID, PreCommitConfigName)
	default:
		return nil, fmt.Errorf("the %s hook appears more than once in %s: remove the extra copies by hand", PreCommitHookID, PreCommitConfigName)
	}
}

func splitLinesKeepEnds(b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			out = append(out, b)
			break
		}
		out = append(out, b[:i+1])
		b = b[i+1:]
	}
	return out
}

func maxLine(n *yaml.Node) int {
	m := n.Line
	for _, c := range n.Content {
		if l := maxLine(c); l > m {
			m = l
		}
	}
	return m
}
