package setting

import (
	"strings"
	"testing"
	"time"
)

func TestTracingIsOffByDefault(t *testing.T) {
	s, err := load(writeFile(t, "[app]\n"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	want := Tracing{Endpoint: "http://127.0.0.1:4318", ServiceName: "myblog", SampleRatio: 1, Timeout: 10 * time.Second}
	if s.Tracing != want {
		t.Errorf("[tracing] defaults = %+v, want %+v", s.Tracing, want)
	}
	if got := s.Tracing.URL().String(); got != "http://127.0.0.1:4318/v1/traces" {
		t.Errorf("URL() = %s, want the collector's /v1/traces", got)
	}
}

func TestTracingSettingsComeFromTheEnvironmentToo(t *testing.T) {
	env := map[string]string{
		EnvPrefix + "_TRACING_ENABLED":     "true",
		EnvPrefix + "_TRACING_ENDPOINT":    "https://collector.internal:4318/otlp/spans",
		EnvPrefix + "_TRACING_SAMPLERATIO": "0.25",
	}
	lookup := func(k string) (string, bool) {
		if v, ok := env[k]; ok {
			return v, true
		}
		return noEnv(k)
	}
	s, err := load(writeFile(t, "[tracing]\nEnabled = false\n"), lookup)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Tracing.Enabled || s.Tracing.SampleRatio != 0.25 {
		t.Errorf("overrides not applied: %+v", s.Tracing)
	}
	if got := s.Tracing.URL().String(); got != "https://collector.internal:4318/otlp/spans" {
		t.Errorf("URL() = %s, want the endpoint's own path kept", got)
	}
}

func TestBadTracingSettingsStopTheStartWithOneLineEach(t *testing.T) {
	for _, tc := range []struct{ name, ini, want string }{
		{"a ratio above 1", "SampleRatio = 1.5", "[tracing] SampleRatio 1.5 must be from 0 to 1"},
		{"a negative ratio", "SampleRatio = -0.1", "[tracing] SampleRatio -0.1 must be from 0 to 1"},
		{"an endpoint that is not a URL", "Endpoint = 127.0.0.1:4318", `[tracing] Endpoint "127.0.0.1:4318" must be the http:// or https:// URL`},
		{"an endpoint of another scheme", "Endpoint = grpc://127.0.0.1:4317", `[tracing] Endpoint "grpc://127.0.0.1:4317" must be`},
		{"an endpoint without a host", "Endpoint = http://", `[tracing] Endpoint "http://" must be`},
		{"an empty service name", "ServiceName =", "[tracing] ServiceName is empty"},
		{"a zero timeout", "Timeout = 0s", "[tracing] Timeout 0s must be positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Checked while tracing is off too: the mistake shows before the day it is turned on.
			_, err := load(writeFile(t, "[tracing]\nEnabled = false\n"+tc.ini+"\n"), noEnv)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("load = %v, want an error containing %q", err, tc.want)
			}
			if strings.Count(err.Error(), "\n") != 0 {
				t.Errorf("one problem, one line: %q", err)
			}
		})
	}
}
