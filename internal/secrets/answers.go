package secrets

import (
	"bytes"
	"errors"
	"fmt"

	"go.yaml.in/yaml/v3"
)

// Answers is the part of an answers file (--answers answers.yaml) that
// concerns secrets:
//
//	secrets:
//	  SMTP_USER: me@example.org
//	  SMTP_PASSWORD: abcd efgh ijkl mnop   # quoted or not; one line
//
// Other top-level keys belong to other commands (the wizard) and are
// ignored here. The file holds secrets: keep it out of the repository.
type answersFile struct {
	Secrets map[string]*string `yaml:"secrets"`
}

// ParseAnswers reads the secrets of an answers file. Values follow the byte
// rules after YAML decoding (a block scalar's final newline is dropped);
// errors name the key, never the value.
func ParseAnswers(b []byte) (map[string][]byte, error) {
	b = bytes.TrimPrefix(b, bomUTF8)
	var f answersFile
	if err := yaml.Unmarshal(b, &f); err != nil {
		// yaml/v3 errors quote line numbers and, for type errors, the
		// offending value: report the line only.
		var te *yaml.TypeError
		if errors.As(err, &te) {
			return nil, fmt.Errorf("answers file: `secrets:` must map secret names to one-line strings")
		}
		return nil, fmt.Errorf("answers file is not valid YAML (%s)", yamlLine(err))
	}
	out := map[string][]byte{}
	for name, v := range f.Secrets {
		if err := validName(name); err != nil {
			return nil, fmt.Errorf("answers file: %w", err)
		}
		if v == nil {
			out[name] = nil
			continue
		}
		val, err := NormalizeInputFile([]byte(*v))
		if err != nil {
			return nil, fmt.Errorf("answers file: %s: %w", name, err)
		}
		out[name] = val
	}
	return out, nil
}

// yamlLine keeps the "line N" part of a YAML syntax error, dropping any
// quoted content.
func yamlLine(err error) string {
	msg := err.Error()
	if i := bytes.Index([]byte(msg), []byte("line ")); i >= 0 {
		j := i + len("line ")
		for j < len(msg) && msg[j] >= '0' && msg[j] <= '9' {
			j++
		}
		return msg[i:j]
	}
	return "syntax error"
}
