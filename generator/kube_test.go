package generator

import (
	"strings"
	"testing"
)

func TestKubeNameIsADNSLabel(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"myblog", "myblog"},
		{"My_Shop", "my-shop"},
		{"my-shop", "my-shop"},
		{strings.Repeat("a", 62) + "_b", strings.Repeat("a", 62)},
	} {
		if got := kubeName(tc.name); got != tc.want {
			t.Errorf("kubeName(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}
