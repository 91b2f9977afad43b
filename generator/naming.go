package generator

import (
	"strings"
	"unicode"

	"github.com/gingen/gingen/internal/inflection"
)

// EnvPrefix is the prefix of the environment variables that override a project's settings:
// "my-blog" -> "MY_BLOG".
func EnvPrefix(name string) string {
	return strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// IsSnake reports whether s is a snake_case name as resources and fields need: lower-case
// words of letters and digits, each starting with a letter, joined by single underscores
// (^[a-z][a-z0-9]*(_[a-z][a-z0-9]*)*$). Every word starting with a letter makes the
// snake_case <-> CamelCase mapping one-to-one, so JSON names, column names and Go names
// always correspond. (A loop, not a package-level regexp: that would be compiled at every
// start of gingen, whatever the command.)
func IsSnake(s string) bool {
	for w := range strings.SplitSeq(s, "_") {
		if w == "" || !isLowerASCII(w[0]) {
			return false
		}
		for i := 1; i < len(w); i++ {
			if !isLowerASCII(w[i]) && !isDigitASCII(w[i]) {
				return false
			}
		}
	}
	return true
}

func isLowerASCII(c byte) bool { return 'a' <= c && c <= 'z' }
func isDigitASCII(c byte) bool { return '0' <= c && c <= '9' }

// ToSnake turns what a user may have typed instead of snake_case ("BlogPost", "blog-post",
// "blogPost") into snake_case, for the suggestion of an error message.
func ToSnake(s string) string {
	var b strings.Builder
	runes := []rune(strings.TrimSpace(s))
	for i, r := range runes {
		switch {
		case r == '-' || r == ' ' || r == '.':
			b.WriteByte('_')
		case unicode.IsUpper(r):
			// A word starts at an upper-case letter after a lower-case letter or digit, or at
			// the last upper-case letter of an initialism followed by a lower-case one (HTTPServer).
			if i > 0 && (unicode.IsLower(runes[i-1]) || unicode.IsDigit(runes[i-1]) ||
				(unicode.IsUpper(runes[i-1]) && i+1 < len(runes) && unicode.IsLower(runes[i+1]))) {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(r))
		default:
			b.WriteRune(r)
		}
	}
	// Runs of '_' become one, and none is left at either end.
	return strings.Join(strings.FieldsFunc(b.String(), func(r rune) bool { return r == '_' }), "_")
}

// isInitialism reports whether a word is written in upper case in Go names, as golint and
// gorm's naming strategy spell them: "author_id" -> AuthorID, "url" -> URL.
func isInitialism(w string) bool {
	switch w {
	case "acl", "api", "ascii", "cpu", "css", "dns", "eof", "guid", "html", "http", "https", "id",
		"ip", "json", "lhs", "qps", "ram", "rhs", "rpc", "sla", "smtp", "sql", "ssh", "tcp", "tls",
		"ttl", "udp", "ui", "uid", "uuid", "uri", "url", "utf8", "vm", "xml", "xmpp", "xsrf", "xss":
		return true
	}
	return false
}

// Camel turns a snake_case name into an exported Go name: "published_at" -> PublishedAt,
// "author_id" -> AuthorID.
func Camel(snake string) string {
	var b strings.Builder
	for _, w := range strings.Split(snake, "_") {
		b.WriteString(camelWord(w))
	}
	return b.String()
}

// LowerCamel turns a snake_case name into an unexported Go name: "blog_post" -> blogPost,
// "url_path" -> urlPath.
func LowerCamel(snake string) string {
	words := strings.Split(snake, "_")
	var b strings.Builder
	b.WriteString(words[0])
	for _, w := range words[1:] {
		b.WriteString(camelWord(w))
	}
	return b.String()
}

func camelWord(w string) string {
	if w == "" {
		return ""
	}
	if isInitialism(w) {
		return strings.ToUpper(w)
	}
	return strings.ToUpper(w[:1]) + w[1:]
}

// Plural returns the plural of a snake_case singular, through the inflection library gorm
// itself uses: category -> categories, person -> people, blog_post -> blog_posts.
func Plural(singular string) string { return inflection.Plural(singular) }

// Singular returns the singular of a snake_case plural: people -> person.
func Singular(plural string) string { return inflection.Singular(plural) }

// Human turns a snake_case name into words for messages: "blog_post" -> "blog post".
func Human(snake string) string { return strings.ReplaceAll(snake, "_", " ") }

// maxIdentifierLen is the longest table or column name gingen lets a resource make:
// PostgreSQL keeps 63 bytes of an identifier (NAMEDATALEN - 1) and silently cuts the rest,
// after which gorm no longer finds a column it created: a 64-character column reads back
// empty in the resource's own CRUD test, and the next start fails adding the column again
// ("already exists"). MySQL refuses identifiers past 64 characters. Index names need no
// limit: gorm shortens those past 64 with a hash, and creates indexes IF NOT EXISTS on
// PostgreSQL (a 64-character index name and a 64-character table survived two starts there).
const maxIdentifierLen = 63

// checkIdentifiers refuses a resource whose table or a column would be longer than the
// databases keep.
func checkIdentifiers(res Resource) error {
	if len(res.Plural) > maxIdentifierLen {
		return inputErrorf("resource %q: its table name %q is %d characters, more than the %d PostgreSQL keeps; pick a shorter name or --plural", res.Name, res.Plural, len(res.Plural), maxIdentifierLen)
	}
	for _, f := range res.Fields {
		if col := f.column(); len(col) > maxIdentifierLen {
			return inputErrorf("field %q: its column %q is %d characters, more than the %d PostgreSQL keeps; shorten the field name to at most %d characters", f.Name, col, len(col), maxIdentifierLen, len(f.Name)-(len(col)-maxIdentifierLen))
		}
	}
	return nil
}

// apiRoutes are the paths under /api/v1 that the project itself serves, by auth scheme: a
// resource's plural cannot be one of them (gin panics at start on the clash).
func apiRoutes(auth string) []string {
	if auth == AuthJWT {
		return []string{"me"} // GET /api/v1/me: the signed-in user
	}
	return nil
}
