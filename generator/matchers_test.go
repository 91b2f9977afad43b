package generator

import (
	"regexp"
	"strings"
	"testing"
)

// The name and file-name checks are loops rather than package-level regexps, which every
// start of gingen would compile. The regexps they replace are the oracle here: every string
// of up to four characters over an alphabet of the characters that matter (and hostile ones:
// white space, a path separator, a dot, a non-ASCII letter, an upper-case letter), then the
// fuzz corpus.
var matcherOracles = []struct {
	name string
	re   string
	got  func(string) bool
}{
	{"IsSnake", `^[a-z][a-z0-9]*(_[a-z][a-z0-9]*)*$`, IsSnake},
	{"isProjectName", `^[a-zA-Z][a-zA-Z0-9_-]*$`, isProjectName},
	{"isJournalID", `^[0-9a-f]{12}$`, isJournalID},
	{"isMigrationFile", `^([0-9]+)_[^/]*\.(sql|go)$`, isMigrationFile},
}

func checkMatchers(t *testing.T, s string) {
	t.Helper()
	for _, m := range matcherOracles {
		if want := regexp.MustCompile(m.re).MatchString(s); m.got(s) != want {
			t.Errorf("%s(%q) = %v, the regexp %s says %v", m.name, s, !want, m.re, want)
		}
	}
	want := regexp.MustCompile(`^([0-9]+)_[^/]*\.(sql|go)$`).FindStringSubmatch(s)
	version, ok := migrationFileVersion(s)
	if ok != (want != nil) || ok && version != want[1] {
		t.Errorf("migrationFileVersion(%q) = %q, %v; the regexp captures %q", s, version, ok, want)
	}
	collapse := strings.Trim(regexp.MustCompile(`_+`).ReplaceAllString(s, "_"), "_")
	if got := strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == '_' }), "_"); got != collapse {
		t.Errorf("collapsing the underscores of %q gives %q, the regexp %q", s, got, collapse)
	}
}

func TestMatchersAgreeWithTheirRegexps(t *testing.T) {
	alphabet := []string{"a", "z", "Q", "0", "9", "_", "-", ".", "/", " ", "\n", "é", "f"}
	words := []string{""}
	for range 4 {
		var longer []string
		for _, w := range words {
			for _, c := range alphabet {
				longer = append(longer, w+c)
			}
		}
		for _, w := range longer {
			checkMatchers(t, w)
		}
		words = longer
	}
	for _, s := range []string{
		"", "a", "blog_post", "blog__post", "_a", "a_", "a_1b", "a_b2", "abc123def456", "ABC123DEF456",
		"abc123def45", "abc123def4567", "00001_create_articles.sql", "00001_x.go", "1_.sql", "_1.sql",
		"1_a/b.sql", "1_a.sql\n", "1_a.sql.bak", "12a_x.sql", "1_a.SQL", "my-blog", "my_blog-", "9lives",
		"x\x00y", "\xff\xfe", strings.Repeat("a_", 500) + "a",
	} {
		checkMatchers(t, s)
	}
}

func FuzzMatchersAgreeWithTheirRegexps(f *testing.F) {
	for _, s := range []string{"blog_post", "00001_create_articles.sql", "0123456789ab", "my-blog", "a__b"} {
		f.Add(s)
	}
	f.Fuzz(checkMatchers)
}
