package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/wizard"
)

// reuseAnswers: on a re-run at a terminal, with the last setup's answers
// complete, one question — use them, or change them (the full questions,
// each starting from them). A re-run on a finished machine is then one
// Enter away from "Everything already done ✓". used is false when there is
// nothing to reuse or the user wants to change them.
func (o *WizardOptions) reuseAnswers(ctx context.Context, s *wizardSession, given, defaults wizard.Answers, interactive bool) (ans wizard.Answers, used bool, err error) {
	if !interactive || o.Yes || s.SavedErr != nil || s.Saved.SecretsPath == "" {
		return ans, false, nil
	}
	ans = given.Merge(defaults)
	if len(ans.Missing(s.offer)) > 0 || o.Reuse == nil {
		return ans, false, nil
	}
	use, err := o.Reuse(ctx, o.formOptions(s), "Your answers from the last setup:\n"+ans.Summary(s.offer))
	if errors.Is(err, wizard.ErrAborted) {
		fmt.Fprintln(o.F.IO.ErrOut, "Cancelled. Nothing was changed.")
		return ans, false, SilentError(exitcode.Interrupted)
	}
	if err != nil || !use {
		return ans, false, err
	}
	return ans, true, nil
}
