package generator

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
)

// SettingsPath is the project's configuration file.
const SettingsPath = "conf/app.ini"

// iniSetting is one key of an ini file: its section, key and value.
type iniSetting struct{ section, key, value string }

func (s iniSetting) name() string { return "[" + s.section + "] " + s.key }

// readINI lists the keys of an ini file in order, as the generated pkg/setting reads them:
// `key = value` under `[section]`, `;` and `#` lines are comments.
func readINI(b []byte) []iniSetting {
	var out []iniSetting
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "", strings.HasPrefix(line, ";"), strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = strings.TrimSpace(line[1 : len(line)-1])
		default:
			if k, v, ok := strings.Cut(line, "="); ok {
				out = append(out, iniSetting{section, strings.TrimSpace(k), strings.TrimSpace(v)})
			}
		}
	}
	return out
}

func iniValues(b []byte) map[string]string {
	out := map[string]string{}
	for _, s := range readINI(b) {
		out[s.name()] = s.value
	}
	return out
}

// settingChanges lists the settings whose shipped value the upgrade changes: old is
// conf/app.ini as gingen wrote it last, next as the templates write it now, final the
// project's file after the upgrade. A behaviour change hides in such a value (RunMode debug
// -> release), so each is named, with what the project's file has after the upgrade.
func settingChanges(old, next, final []byte) []string {
	was, mine := iniValues(old), iniValues(final)
	var out []string
	yours := func(name, want string) string {
		v, ok := mine[name]
		switch {
		case !ok:
			return "; your " + SettingsPath + " does not set it (the default applies)"
		case v == want:
			return "; your " + SettingsPath + " has it"
		}
		return fmt.Sprintf("; your %s keeps %s = %s: set it yourself for the new behaviour", SettingsPath, name, displayValue(v))
	}
	seen := map[string]bool{}
	for _, s := range readINI(next) {
		name := s.name()
		seen[name] = true
		prev, ok := was[name]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("setting %s is new, shipped as %s%s", name, displayValue(s.value), yours(name, s.value)))
		case prev != s.value:
			out = append(out, fmt.Sprintf("setting %s: the shipped value changes from %s to %s%s", name, displayValue(prev), displayValue(s.value), yours(name, s.value)))
		}
	}
	for _, s := range readINI(old) {
		if name := s.name(); !seen[name] {
			out = append(out, fmt.Sprintf("setting %s (shipped as %s) is no longer shipped; this gingen's code may ignore it", name, displayValue(s.value)))
		}
	}
	return out
}

func displayValue(v string) string {
	if v == "" {
		return `""`
	}
	return v
}
