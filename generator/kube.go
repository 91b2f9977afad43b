package generator

import "strings"

// kubeName is a project name as a Kubernetes object name and label value (a DNS-1035 label:
// at most 63 characters of lower-case letters, digits and '-', starting with a letter, not
// ending with '-'). Project names start with a letter and hold only letters, digits, '-' and
// '_' (see Options.Validate): lower case, '_' as '-', and cut to 63 characters.
func kubeName(name string) string {
	n := strings.ToLower(strings.ReplaceAll(name, "_", "-"))
	if len(n) > 63 {
		n = n[:63]
	}
	return strings.TrimRight(n, "-")
}
