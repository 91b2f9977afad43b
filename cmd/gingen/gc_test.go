package main

import "testing"

// gingen collects garbage less often than Go's default, unless the user's GOGC, whatever its
// value, says how often.
func TestGCPercentYieldsToGOGC(t *testing.T) {
	for _, tc := range []struct {
		env     map[string]string
		percent int
		set     bool
	}{
		{env: nil, percent: 400, set: true},
		{env: map[string]string{"GOMEMLIMIT": "1GiB"}, percent: 400, set: true},
		{env: map[string]string{"GOGC": "50"}, set: false},
		{env: map[string]string{"GOGC": "off"}, set: false},
		{env: map[string]string{"GOGC": ""}, set: false},
	} {
		percent, set := gcPercent(func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok })
		if set != tc.set || set && percent != tc.percent {
			t.Errorf("with %v: gcPercent = %d, %t; want %d, %t", tc.env, percent, set, tc.percent, tc.set)
		}
	}
}
