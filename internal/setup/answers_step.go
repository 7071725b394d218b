package setup

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/step"
	"github.com/claire-de-binare/cdb-setup/internal/wizard"
	"github.com/claire-de-binare/cdb-setup/internal/workspace"
)

// AnswersFileName is the answers file in the state folder (the workspace
// reads it: the secrets folder of the last setup applies to every command).
const AnswersFileName = workspace.AnswersFileName

// SaveAnswers writes the answers (never the external secret values) to the
// state folder.
type SaveAnswers struct {
	Dir     string
	Answers wizard.Answers
}

func (s *SaveAnswers) ID() string { return "wizard.answers" }

func (s *SaveAnswers) path() string { return filepath.Join(s.Dir, AnswersFileName) }

func (s *SaveAnswers) content() ([]byte, error) {
	b, err := s.Answers.SaveYAML()
	if err != nil {
		return nil, err
	}
	return append([]byte("# cdb-setup: the answers of the last run (no secret values). Delete to start over.\n"), b...), nil
}

func (s *SaveAnswers) Plan(context.Context) (step.Change, error) {
	want, err := s.content()
	if err != nil {
		return step.Change{}, err
	}
	c := step.Change{Step: s.ID(), Targets: []string{s.path()}}
	if have, err := os.ReadFile(s.path()); err == nil && bytes.Equal(have, want) {
		c.None = true
		c.Summary = "your answers are remembered in " + s.path()
		return c, nil
	}
	c.Summary = "remember your answers in " + s.path() + " (no secret values)"
	return c, nil
}

func (s *SaveAnswers) Apply(context.Context) (step.Result, error) {
	want, err := s.content()
	if err != nil {
		return step.Failed(s.ID(), err, ""), err
	}
	if have, err := os.ReadFile(s.path()); err == nil && bytes.Equal(have, want) {
		return step.Result{Step: s.ID(), Status: step.StatusDone, Detail: "answers already remembered"}, nil
	}
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return step.Failed(s.ID(), fmt.Errorf("create %s: %w", s.Dir, err), "check that you can write to "+s.Dir), err
	}
	if err := platform.WriteFileAtomic(s.path(), want, 0o600); err != nil {
		return step.Failed(s.ID(), err, "check that you can write to "+s.Dir), err
	}
	return step.Result{Step: s.ID(), Status: step.StatusChanged, Detail: "answers remembered in " + s.path(),
		Fields: map[string]any{"path": s.path()}}, nil
}
