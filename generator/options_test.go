package generator

import (
	"errors"
	"strings"
	"testing"
)

func validOptions() Options {
	o := Options{Name: "myblog", Port: DefaultPort}
	o.Normalize()
	return o
}

func TestValidateAcceptsGoodOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Options)
	}{
		{"the defaults", func(*Options) {}},
		{"a hyphenated name", func(o *Options) { o.Name, o.Module = "my-blog", "my-blog" }},
		{"an underscored name", func(o *Options) { o.Name, o.Module = "my_blog", "my_blog" }},
		{"a hosted module path", func(o *Options) { o.Module = "github.com/acme/myblog" }},
		{"every strategy", func(o *Options) { o.Strategy = StrategySystemd }},
		{"postgres", func(o *Options) { o.DB = DBPostgres }},
		{"mysql with jwt", func(o *Options) { o.DB, o.Auth = DBMySQL, AuthJWT }},
		{"the lowest port", func(o *Options) { o.Port = 1 }},
		{"the highest port", func(o *Options) { o.Port = 65535 }},
		{"a standard-library name with a module path of its own", func(o *Options) { o.Name, o.Module = "time", "github.com/acme/time" }},
		{"a name that is a standard-library folder, not a package", func(o *Options) { o.Name, o.Module = "archive", "archive" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := validOptions()
			tc.edit(&o)
			if err := o.Validate(); err != nil {
				t.Fatalf("Validate() = %v, want nil", err)
			}
		})
	}
}

func TestValidateRejectsBadInputWithOneLineNamingTheFix(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Options)
		want []string // substrings of the message: the problem and the fix
	}{
		{"an empty name", func(o *Options) { o.Name = "" }, []string{"empty", "letters"}},
		{"a name that is ..", func(o *Options) { o.Name = ".." }, []string{`".."`, "--dir"}},
		{"a name with a slash", func(o *Options) { o.Name = "a/b" }, []string{`"a/b"`, "not a path"}},
		{"a name with a leading digit", func(o *Options) { o.Name = "1blog" }, []string{"starts with a digit", "myblog"}},
		{"a name with a space", func(o *Options) { o.Name = "my blog" }, []string{"white space", "my-blog"}},
		{"a name with a dot", func(o *Options) { o.Name = "my.blog" }, []string{"characters other than", "my-blog"}},
		{"a name that is a Go keyword", func(o *Options) { o.Name = "func" }, []string{"Go keyword", "myfunc"}},
		{"a name ending in a hyphen", func(o *Options) { o.Name = "blog-" }, []string{"ends with", "my-blog"}},
		{"an invalid module path", func(o *Options) { o.Module = "github.com/acme/my blog" }, []string{"invalid module path", "--module"}},
		{"a module path with a leading slash", func(o *Options) { o.Module = "/abs/path" }, []string{"invalid module path", "--module"}},
		{"an unknown strategy", func(o *Options) { o.Strategy = "endless" }, []string{`"endless"`, "fork, supervisor, systemd"}},
		{"an unknown database", func(o *Options) { o.DB = "oracle" }, []string{`"oracle"`, "--db", "sqlite, postgres, mysql"}},
		{"an unknown auth", func(o *Options) { o.Auth = "basic" }, []string{`"basic"`, "--auth", "none, jwt"}},
		{"port zero", func(o *Options) { o.Port = 0 }, []string{"port 0", "1 to 65535"}},
		{"a port above 65535", func(o *Options) { o.Port = 65536 }, []string{"port 65536", "1 to 65535"}},
		{"a name of 64 characters", func(o *Options) { o.Name = strings.Repeat("a", 64); o.Module = o.Name }, []string{"longer than 63 characters", "database name"}},
		{"a name that is a standard-library package", func(o *Options) { o.Name, o.Module = "time", "time" }, []string{`project name "time"`, "standard library's package time", "mytime", "--module github.com/you/time"}},
		{"a name that is unsafe", func(o *Options) { o.Name, o.Module = "unsafe", "unsafe" }, []string{"standard library's package unsafe"}},
		{"a name that is a package pattern", func(o *Options) { o.Name, o.Module = "all", "all" }, []string{`project name "all"`, "package pattern", "--module github.com/you/all"}},
		{"a name that is cgo's C", func(o *Options) { o.Name, o.Module = "C", "C" }, []string{`project name "C"`, "cgo", "myc"}},
		{"a name that is vendor", func(o *Options) { o.Name, o.Module = "vendor", "vendor" }, []string{`"vendor" element`}},
		{"a module path that is a standard-library package", func(o *Options) { o.Module = "net/http" }, []string{`module path "net/http"`, "standard library", "--module"}},
		{"a module path with a vendor element", func(o *Options) { o.Module = "github.com/acme/vendor" }, []string{`module path "github.com/acme/vendor"`, "vendored"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := validOptions()
			tc.edit(&o)
			err := o.Validate()
			if err == nil {
				t.Fatal("Validate() = nil, want an error")
			}
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Errorf("error %T is not an *InputError", err)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("message spans lines: %q", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q does not mention %q", msg, w)
				}
			}
		})
	}
}

func TestEnvPrefixIsAValidVariableName(t *testing.T) {
	for name, want := range map[string]string{"myblog": "MYBLOG", "my-blog": "MY_BLOG", "My_Shop2": "MY_SHOP2"} {
		if got := EnvPrefix(name); got != want {
			t.Errorf("EnvPrefix(%q) = %q, want %q", name, got, want)
		}
	}
}
