package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/AlecAivazis/survey/v2"
	"github.com/AlecAivazis/survey/v2/terminal"

	"github.com/gingen/gingen/generator"
)

// asker asks questions on the terminal with survey. Only interactive consoles get one.
type asker struct {
	opts []survey.AskOpt
}

func newAsker(con console) (asker, error) {
	in, inOK := con.in.(terminal.FileReader)
	out, outOK := con.out.(terminal.FileWriter)
	if !inOK || !outOK {
		return asker{}, errors.New("prompts need a terminal on stdin and stdout")
	}
	opts := []survey.AskOpt{survey.WithStdio(in, out, con.errOut)}
	if !con.colour() {
		// survey reads NO_COLOR itself; TERM=dumb gets plain prompts too.
		opts = append(opts, survey.WithIcons(func(icons *survey.IconSet) {
			for _, icon := range []*survey.Icon{&icons.Question, &icons.Error, &icons.Help, &icons.SelectFocus, &icons.MarkedOption, &icons.UnmarkedOption} {
				icon.Format = ""
			}
		}))
	}
	return asker{opts: opts}, nil
}

// ask asks one question. Ctrl-C comes back as interruptedError.
func (a asker) ask(p survey.Prompt, answer any, validate survey.Validator) error {
	opts := a.opts
	if validate != nil {
		opts = append(slices.Clip(opts), survey.WithValidator(validate))
	}
	err := survey.AskOne(p, answer, opts...)
	if errors.Is(err, terminal.InterruptErr) {
		return interruptedError{}
	}
	if err != nil {
		return fmt.Errorf("prompt: %w", err)
	}
	return nil
}

// validator adapts a check of a trimmed string answer to survey.
func validator(check func(string) error) survey.Validator {
	return func(answer any) error {
		s, _ := answer.(string)
		return check(strings.TrimSpace(s))
	}
}

// describe returns a survey option description from a table, "" for options it lacks (a
// strategy or database added later shows without one).
func describe(help map[string]string) func(string, int) string {
	return func(value string, _ int) string { return help[value] }
}

// strategyHelp says when to pick each restart strategy.
func strategyHelp() map[string]string {
	help := map[string]string{}
	for _, name := range generator.Strategies() {
		s, _ := generator.Strategy(name)
		help[name] = s.Help
	}
	return help
}

// databaseHelp says what each database needs.
func databaseHelp() map[string]string {
	return map[string]string{
		generator.DBSQLite:   "embedded, pure Go: a file beside the binary, nothing to install",
		generator.DBPostgres: "a PostgreSQL server",
		generator.DBMySQL:    "a MySQL or MariaDB server",
	}
}

// authHelp says what each authentication scheme does to /api/v1.
func authHelp() map[string]string {
	return map[string]string{
		generator.AuthNone: "open API: anyone can call /api/v1",
		generator.AuthJWT:  "POST /auth issues a JWT for a user; /api/v1 requires it",
	}
}

// fieldTypeHelp says what each field type holds.
func fieldTypeHelp() map[string]string {
	return map[string]string{
		generator.TypeString:     "text up to 255 characters",
		generator.TypeText:       "text of any length",
		generator.TypeInt:        "whole number (int)",
		generator.TypeInt64:      "whole number (int64)",
		generator.TypeUint:       "whole number, not negative (uint)",
		generator.TypeFloat:      "decimal number (float64)",
		generator.TypeBool:       "true or false",
		generator.TypeTime:       "date and time, RFC 3339 in JSON",
		generator.TypeReferences: "foreign key to an existing resource named like the field",
	}
}

// modifierHelp says what each field modifier does.
func modifierHelp() map[string]string {
	return map[string]string{
		generator.ModUnique:   "unique index: a taken value is answered 409",
		generator.ModIndex:    "plain index, for fields you filter on",
		generator.ModRequired: "requests must set it (default for string, text, references)",
		generator.ModOptional: "requests may leave it out (default for the other types)",
		generator.ModSearch:   "lists search it with ?q= (string and text only)",
		generator.ModOwner:    "the row's owner, from the token: only that user sees it (owner:references:user:owner, --auth jwt)",
	}
}

// askFields asks for a resource's fields one by one until an empty name. Each field is
// checked as a field:type[:modifier] argument would be, together with the fields before
// it; a field that fails is reported and asked again.
func askFields(a asker, r reporter, check func(fields []string) error) ([]string, error) {
	var fields []string
	for {
		var name string
		err := a.ask(&survey.Input{
			Message: fmt.Sprintf("Field %d name (empty to finish):", len(fields)+1),
			Help:    "snake_case, e.g. title or published_at; for a foreign key, the name of an existing resource",
		}, &name, validator(func(s string) error {
			if s == "" {
				return nil
			}
			_, err := generator.ParseField(s + ":" + generator.TypeText)
			return err
		}))
		if err != nil {
			return nil, err
		}
		name = strings.TrimSpace(name)
		if name == "" {
			return fields, nil
		}
		var typ string
		if err := a.ask(&survey.Select{
			Message:     "Type of " + name + ":",
			Options:     generator.FieldTypes(),
			Description: describe(fieldTypeHelp()),
		}, &typ, nil); err != nil {
			return nil, err
		}
		var mods []string
		if err := a.ask(&survey.MultiSelect{
			Message:     "Modifiers of " + name + " (space toggles, enter accepts):",
			Options:     generator.FieldModifiers(),
			Description: describe(modifierHelp()),
		}, &mods, nil); err != nil {
			return nil, err
		}
		spec := strings.Join(append([]string{name, typ}, mods...), ":")
		err = check(append(slices.Clip(fields), spec))
		var input *generator.InputError
		switch {
		case errors.As(err, &input):
			r.problem(err)
			continue
		case err != nil:
			return nil, err
		}
		fields = append(fields, spec)
	}
}
