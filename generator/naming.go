package generator

import "strings"

// EnvPrefix is the prefix of the environment variables that override a project's settings:
// "my-blog" -> "MY_BLOG".
func EnvPrefix(name string) string {
	return strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}
