package cli

import (
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/step"
)

// unknownCommand is the usage error (exit 2) for a word that names no
// subcommand of cmd, with cobra's "Did you mean …?" suggestions. Cobra
// only checks this at the root, and only when the root has no Args of its
// own; a group without a Run prints its help and exits 0 instead, so a typo
// like `secrets initt` looked like success.
func unknownCommand(cmd *cobra.Command, word string) error {
	return unknownCommandAs(cmd, word, cmd.CommandPath())
}

// unknownCommandAs is unknownCommand whose suggestion starts with prefix
// (`cdb-setup help secrets` for the help command).
func unknownCommandAs(cmd *cobra.Command, word, prefix string) error {
	err := exitcode.New(exitcode.Usage, fmt.Errorf("unknown command %q for %q", word, cmd.CommandPath()))
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2 // cobra's default, set only on its own path
	}
	if s := cmd.SuggestionsFor(word); len(s) > 0 {
		return step.WithFix(err, "Did you mean `"+prefix+" "+s[0]+"`?")
	}
	return err
}

// guardGroups makes every command group reject an unknown subcommand:
// the root (whose own Run is the wizard) and each group without a Run,
// which keeps printing its help when run bare.
func guardGroups(root *cobra.Command) {
	rootArgs := root.Args
	root.Args = func(cmd *cobra.Command, args []string) error {
		if len(args) > 0 {
			return unknownCommand(cmd, args[0])
		}
		if rootArgs != nil {
			return rootArgs(cmd, args)
		}
		return nil
	}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if sub.HasSubCommands() && !sub.Runnable() {
				sub.Args = cobra.ArbitraryArgs
				sub.RunE = func(cmd *cobra.Command, args []string) error {
					if len(args) > 0 {
						return unknownCommand(cmd, args[0])
					}
					return cmd.Help()
				}
			}
			walk(sub)
		}
	}
	walk(root)
}

// newHelpCmd replaces cobra's `help` command, which answers an unknown
// topic ("help secrts") with the root's usage and exit 0.
func newHelpCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		Long:  "Help provides help for any command in the application.\nSimply type cdb-setup help [path to command] for full details.",
		ValidArgsFunction: func(c *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			cmd, _, err := c.Root().Find(args)
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			if cmd == nil {
				cmd = c.Root()
			}
			var out []cobra.Completion
			for _, sub := range cmd.Commands() {
				if sub.IsAvailableCommand() && strings.HasPrefix(sub.Name(), toComplete) {
					out = append(out, cobra.CompletionWithDesc(sub.Name(), sub.Short))
				}
			}
			return out, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(c *cobra.Command, args []string) error {
			cmd := c.Root()
			for i, word := range args {
				next := findSub(cmd, word)
				if next == nil {
					return unknownCommandAs(cmd, word, strings.Join(append([]string{c.CommandPath()}, args[:i]...), " "))
				}
				cmd = next
			}
			cmd.InitDefaultHelpFlag()
			cmd.InitDefaultVersionFlag()
			return cmd.Help()
		},
	}
}

// findSub is cmd's subcommand called (or aliased) word, or nil.
func findSub(cmd *cobra.Command, word string) *cobra.Command {
	for _, sub := range cmd.Commands() {
		if sub.Name() == word || sub.HasAlias(word) {
			return sub
		}
	}
	return nil
}

// closest are the names within a small edit distance of word, or sharing
// its prefix (cobra's rule for commands), nearest first.
func closest(word string, names []string) []string {
	type cand struct {
		name string
		d    int
	}
	var cs []cand
	for _, n := range names {
		d := editDistance(strings.ToLower(word), strings.ToLower(n))
		if d <= 2 || (len(word) >= 3 && strings.HasPrefix(strings.ToLower(n), strings.ToLower(word))) ||
			(len(word) >= 3 && strings.Contains(strings.ToLower(n), strings.ToLower(word))) {
			cs = append(cs, cand{n, d})
		}
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].d < cs[j].d })
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, c.name)
	}
	return out
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur := make([]int, len(rb)+1)
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(rb)]
}
