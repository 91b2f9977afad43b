package testloop

import "testing"

func TestFullFollowsTheVariableAndCI(t *testing.T) {
	for _, tc := range []struct {
		full, ci string
		want     bool
	}{
		{"", "", false},
		{"1", "", true},
		{"0", "", false},
		{"", "true", true},
		{"", "false", false},
	} {
		t.Setenv(Env, tc.full)
		t.Setenv("CI", tc.ci)
		if got := Full(); got != tc.want {
			t.Errorf("%s=%q CI=%q: Full() = %v, want %v", Env, tc.full, tc.ci, got, tc.want)
		}
	}
}
