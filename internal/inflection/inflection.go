// Package inflection pluralizes and singularizes English nouns exactly as
// github.com/jinzhu/inflection v1.0.0 does (its rules, from Rails's ActiveSupport, and its
// order of matching), with one difference: the rules' regular expressions are compiled on
// first use, not at program start. jinzhu/inflection compiles its 150 or so expressions in an
// init function, which every gingen command paid for, `gingen version` included (about a
// third of its start-up). The rules cannot be changed at run time: gingen never did.
//
// The rules are copied from jinzhu/inflection, under its licence:
//
//	The MIT License (MIT)
//
//	Copyright (c) 2015 - Jinzhu
//
//	Permission is hereby granted, free of charge, to any person obtaining a copy
//	of this software and associated documentation files (the "Software"), to deal
//	in the Software without restriction, including without limitation the rights
//	to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
//	copies of the Software, and to permit persons to whom the Software is
//	furnished to do so, subject to the following conditions:
//
//	The above copyright notice and this permission notice shall be included in all
//	copies or substantial portions of the Software.
//
//	THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
//	IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
//	FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
//	AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
//	LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
//	OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
//	SOFTWARE.
package inflection

import (
	"regexp"
	"strings"
	"sync"
)

// rule replaces what find matches with replace ($1 and so on: regexp.Expand's syntax).
type rule struct {
	find, replace string
}

// irregular is a word whose plural no rule gives.
type irregular struct {
	singular, plural string
}

// pluralRules are tried last first.
func pluralRules() []rule {
	return []rule{
		{"([a-z])$", "${1}s"},
		{"s$", "s"},
		{"^(ax|test)is$", "${1}es"},
		{"(octop|vir)us$", "${1}i"},
		{"(octop|vir)i$", "${1}i"},
		{"(alias|status)$", "${1}es"},
		{"(bu)s$", "${1}ses"},
		{"(buffal|tomat)o$", "${1}oes"},
		{"([ti])um$", "${1}a"},
		{"([ti])a$", "${1}a"},
		{"sis$", "ses"},
		{"(?:([^f])fe|([lr])f)$", "${1}${2}ves"},
		{"(hive)$", "${1}s"},
		{"([^aeiouy]|qu)y$", "${1}ies"},
		{"(x|ch|ss|sh)$", "${1}es"},
		{"(matr|vert|ind)(?:ix|ex)$", "${1}ices"},
		{"^(m|l)ouse$", "${1}ice"},
		{"^(m|l)ice$", "${1}ice"},
		{"^(ox)$", "${1}en"},
		{"^(oxen)$", "${1}"},
		{"(quiz)$", "${1}zes"},
	}
}

// singularRules are tried last first.
func singularRules() []rule {
	return []rule{
		{"s$", ""},
		{"(ss)$", "${1}"},
		{"(n)ews$", "${1}ews"},
		{"([ti])a$", "${1}um"},
		{"((a)naly|(b)a|(d)iagno|(p)arenthe|(p)rogno|(s)ynop|(t)he)(sis|ses)$", "${1}sis"},
		{"(^analy)(sis|ses)$", "${1}sis"},
		{"([^f])ves$", "${1}fe"},
		{"(hive)s$", "${1}"},
		{"(tive)s$", "${1}"},
		{"([lr])ves$", "${1}f"},
		{"([^aeiouy]|qu)ies$", "${1}y"},
		{"(s)eries$", "${1}eries"},
		{"(m)ovies$", "${1}ovie"},
		{"(c)ookies$", "${1}ookie"},
		{"(x|ch|ss|sh)es$", "${1}"},
		{"^(m|l)ice$", "${1}ouse"},
		{"(bus)(es)?$", "${1}"},
		{"(o)es$", "${1}"},
		{"(shoe)s$", "${1}"},
		{"(cris|test)(is|es)$", "${1}is"},
		{"^(a)x[ie]s$", "${1}xis"},
		{"(octop|vir)(us|i)$", "${1}us"},
		{"(alias|status)(es)?$", "${1}"},
		{"^(ox)en", "${1}"},
		{"(vert|ind)ices$", "${1}ex"},
		{"(matr)ices$", "${1}ix"},
		{"(quiz)zes$", "${1}"},
		{"(database)s$", "${1}"},
	}
}

// irregulars are words whose plural no rule gives.
func irregulars() []irregular {
	return []irregular{
		{"person", "people"},
		{"man", "men"},
		{"child", "children"},
		{"sex", "sexes"},
		{"move", "moves"},
		{"mombie", "mombies"},
	}
}

// uncountables are their own plural.
func uncountables() []string {
	return []string{"equipment", "information", "rice", "money", "species", "series", "fish", "sheep", "jeans", "police"}
}

// compiledRule is a rule with its expression compiled.
type compiledRule struct {
	re      *regexp.Regexp
	replace string
}

// ruleSet is every rule compiled, in the order they are tried.
type ruleSet struct {
	plural, singular []compiledRule
}

// compiled builds the rule set once, on the first Plural or Singular.
var compiled = sync.OnceValue(compile) //nolint:gochecknoglobals // a process-wide sync.OnceValue: the read-only rules, compiled on first use

// compile builds the rule set as jinzhu/inflection's compile does: uncountables first, then
// irregulars in three cases (upper, title, lower), then the regular rules, the last added
// first, each as upper case, as is and case-insensitive.
func compile() ruleSet {
	var s ruleSet
	for _, word := range uncountables() {
		r := compiledRule{regexp.MustCompile("^(?i)(" + word + ")$"), "${1}"}
		s.plural = append(s.plural, r)
		s.singular = append(s.singular, r)
	}
	cased := func(from, to string) []compiledRule {
		return []compiledRule{
			{regexp.MustCompile(strings.ToUpper(from) + "$"), strings.ToUpper(to)},
			{regexp.MustCompile(title(from) + "$"), title(to)},
			{regexp.MustCompile(from + "$"), to},
		}
	}
	for _, w := range irregulars() {
		s.plural = append(s.plural, cased(w.singular, w.plural)...)
	}
	for _, w := range irregulars() {
		s.singular = append(s.singular, cased(w.plural, w.singular)...)
	}
	regular := func(rules []rule) []compiledRule {
		var out []compiledRule
		for i := len(rules) - 1; i >= 0; i-- {
			r := rules[i]
			out = append(out,
				compiledRule{regexp.MustCompile(strings.ToUpper(r.find)), strings.ToUpper(r.replace)},
				compiledRule{regexp.MustCompile(r.find), r.replace},
				compiledRule{regexp.MustCompile("(?i)" + r.find), r.replace},
			)
		}
		return out
	}
	s.plural = append(s.plural, regular(pluralRules())...)
	s.singular = append(s.singular, regular(singularRules())...)
	return s
}

// title upper-cases the first letter of an ASCII word, as strings.Title did for the
// irregular words (all ASCII, one word each).
func title(word string) string {
	if word == "" {
		return word
	}
	return strings.ToUpper(word[:1]) + word[1:]
}

// apply returns word rewritten by the first rule that matches it, or word.
func apply(rules []compiledRule, word string) string {
	for _, r := range rules {
		if r.re.MatchString(word) {
			return r.re.ReplaceAllString(word, r.replace)
		}
	}
	return word
}

// Plural returns the plural of an English noun: person, people; Person, People.
func Plural(word string) string { return apply(compiled().plural, word) }

// Singular returns the singular of an English noun: people, person.
func Singular(word string) string { return apply(compiled().singular, word) }
