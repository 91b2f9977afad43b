package setting

import (
	"fmt"
	"math"
	"net/url"
	"strings"
	"time"
)

// Tracing holds the [tracing] section: OpenTelemetry spans of requests and database queries,
// exported over OTLP/HTTP (see pkg/tracing).
type Tracing struct {
	// Enabled installs the tracing; false (the default): no middleware, no database plugin,
	// no exporter.
	Enabled bool `ini:"Enabled"`
	// Endpoint is the collector's base URL, http:// or https://: spans go to its /v1/traces,
	// or to the URL's own path when it has one.
	Endpoint string `ini:"Endpoint"`
	// ServiceName is the spans' service.name.
	ServiceName string `ini:"ServiceName"`
	// SampleRatio is the share of new traces recorded, from 0 to 1; a request with a
	// traceparent header follows its caller's decision.
	SampleRatio float64 `ini:"SampleRatio"`
	// Timeout bounds one export to the collector.
	Timeout time.Duration `ini:"Timeout"`
}

// validate checks the section whether or not it is enabled, so that a mistake shows at the
// start that would otherwise wait for the day tracing is turned on.
func (t Tracing) validate() []error {
	var errs []error
	if u, err := url.Parse(t.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("[tracing] Endpoint %q must be the http:// or https:// URL of an OTLP/HTTP collector, e.g. http://127.0.0.1:4318", t.Endpoint))
	}
	if strings.TrimSpace(t.ServiceName) == "" {
		errs = append(errs, fmt.Errorf("[tracing] ServiceName is empty; set it to the name the spans are filed under, e.g. %s", Default().App.Name))
	}
	if math.IsNaN(t.SampleRatio) || t.SampleRatio < 0 || t.SampleRatio > 1 {
		errs = append(errs, fmt.Errorf("[tracing] SampleRatio %v must be from 0 to 1 (1: every trace, 0.1: one in ten)", t.SampleRatio))
	}
	if t.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("[tracing] Timeout %s must be positive, e.g. 10s", t.Timeout))
	}
	return errs
}

// URL returns Endpoint's URL of the spans: its path, or /v1/traces when it has none.
// Endpoint must be valid (Load checked it).
func (t Tracing) URL() *url.URL {
	u, err := url.Parse(t.Endpoint)
	if err != nil {
		return &url.URL{}
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/v1/traces"
	}
	return u
}
