package perfbench

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseProcStatReadsUtimeAndStimeAfterAnyCommandName(t *testing.T) {
	// utime 150 and stime 50 ticks; the command name holds spaces and a ')'.
	stat := []byte("4242 (my (odd) server) S 1 4242 4242 0 -1 4194560 2000 0 0 0 150 50 0 0 20 0 9 0 100 2000000 3000 18446744073709551615")
	got, err := ParseProcStat(stat)
	if err != nil || got != 2*time.Second {
		t.Errorf("ParseProcStat = %v, %v; want 2s", got, err)
	}
	for _, bad := range []string{
		"",
		"4242 server S 1 2 3",   // no parentheses
		"4242 (server) S 1 2 3", // cut short
		"4242 (server) S 1 4242 4242 0 -1 4 2 0 0 0 x 50 0",  // utime not a number
		"4242 (server) S 1 4242 4242 0 -1 4 2 0 0 0 -5 50 0", // negative
	} {
		if d, err := ParseProcStat([]byte(bad)); err == nil {
			t.Errorf("ParseProcStat(%q) = %v, want an error", bad, d)
		}
	}
}

func TestParseStatusKB(t *testing.T) {
	status := []byte("Name:\tmyblog\nVmHWM:\t   30000 kB\nVmRSS:\t   25000 kB\n")
	if n, err := ParseStatusKB(status, "VmRSS"); err != nil || n != 25000*1024 {
		t.Errorf("VmRSS = %d, %v; want %d", n, err, 25000*1024)
	}
	if n, err := ParseStatusKB(status, "VmHWM"); err != nil || n != 30000*1024 {
		t.Errorf("VmHWM = %d, %v; want %d", n, err, 30000*1024)
	}
	for _, bad := range []string{"Name:\tx\n", "VmRSS:\t25000 MB\n", "VmRSS:\tmany kB\n", "VmRSS:\n"} {
		if n, err := ParseStatusKB([]byte(bad), "VmRSS"); err == nil {
			t.Errorf("ParseStatusKB(%q) = %d, want an error", bad, n)
		}
	}
}

func TestParseMallocsReadsPrometheusTextOrABareCount(t *testing.T) {
	metrics := "# HELP go_memstats_mallocs_total Total number of heap objects allocated.\n" +
		"# TYPE go_memstats_mallocs_total counter\ngo_memstats_mallocs_total 1.234567e+06\n" +
		"go_memstats_mallocs_totally_else 5\n"
	if n, err := ParseMallocs([]byte(metrics)); err != nil || n != 1234567 {
		t.Errorf("ParseMallocs(metrics) = %d, %v; want 1234567", n, err)
	}
	if n, err := ParseMallocs([]byte("98765\n")); err != nil || n != 98765 {
		t.Errorf("ParseMallocs(bare) = %d, %v; want 98765", n, err)
	}
	for _, bad := range []string{"", "go_memstats_frees_total 5\n", "go_memstats_mallocs_total NaNx\n", "go_memstats_mallocs_total -3\n"} {
		if n, err := ParseMallocs([]byte(bad)); err == nil {
			t.Errorf("ParseMallocs(%q) = %d, want an error", bad, n)
		}
	}
}

func TestSummarizeTotalsCPUAndAllocsOverTheRequests(t *testing.T) {
	ms := time.Millisecond
	s := Summarize([]Sample{
		{Requests: 100, Elapsed: time.Second, CPU: 10 * ms, Allocs: 1000, Latencies: []time.Duration{ms, 2 * ms}},
		{Requests: 300, Elapsed: time.Second, CPU: 30 * ms, Allocs: 5000, Failed: 1, Latencies: []time.Duration{3 * ms}},
		{Requests: 200, Elapsed: time.Second, CPU: 20 * ms, Allocs: 0},
	})
	if s.Requests != 600 || s.Failed != 1 || s.CPUPerRequest != 100*time.Microsecond || s.AllocsPerRequest != 10 {
		t.Errorf("Summarize = %+v; want 600 requests, 1 failed, 100µs and 10 allocs per request", s)
	}
	if s.Throughput != 200 || s.P50 != 2*ms || s.P99 != 3*ms {
		t.Errorf("throughput %v, p50 %v, p99 %v; want the median rate 200/s, 2ms, 3ms", s.Throughput, s.P50, s.P99)
	}
	if z := Summarize(nil); z != (Stat{}) {
		t.Errorf("Summarize(nil) = %+v, want zero", z)
	}
}

func TestVerdictsJudgeRatiosAndSayWhenNothingWasMeasured(t *testing.T) {
	for _, tc := range []struct {
		ratio, limit float64
		want         string
	}{
		{1.0, 1.05, "met"}, {1.05, 1.05, "met"}, {1.06, 1.05, "**missed**"}, {0, 1.05, "not measured"},
		{0.5, 1.0, "met"}, {1.21, 1.2, "**missed**"},
	} {
		if got := Verdict(tc.ratio, tc.limit); got != tc.want {
			t.Errorf("Verdict(%v, %v) = %q, want %q", tc.ratio, tc.limit, got, tc.want)
		}
	}
	if r := Ratio(5, 0); r != 0 {
		t.Errorf("Ratio(5, 0) = %v, want 0 (not measured)", r)
	}
}

func report() Report {
	stat := func(cpu time.Duration) Stat {
		return Stat{Requests: 1000, CPUPerRequest: cpu, AllocsPerRequest: 20, P50: time.Millisecond, P99: 3 * time.Millisecond, Throughput: 5000}
	}
	return Report{
		Command: "go -C e2e run ./cmd/perfbench", Machine: "linux/amd64", Databases: []string{SQLite}, Rounds: 3, Clients: 8,
		Endpoints: []Endpoint{
			{Name: "/healthz", What: "GET /healthz", Limit: HealthzLimit, Generated: stat(110 * time.Microsecond), Baseline: stat(100 * time.Microsecond)},
			{Name: "list", What: "GET /api/v1/articles?page_size=10", Limit: HandlerLimit, Generated: stat(120 * time.Microsecond), Baseline: stat(100 * time.Microsecond),
				Profile: "flat  flat%\n  0.1s 10% myblog/routers/api/v1.(*articleHandler).list"},
		},
		BinaryGenerated: 30 << 20, BinaryBaseline: 31 << 20, StartupGenerated: 30 * time.Millisecond, StartupBaseline: 20 * time.Millisecond, StartupTries: 5,
	}
}

func TestTheReportSaysMetOrMissedPerGoalWithAProfileWhereMissed(t *testing.T) {
	r := report()
	if got := r.Missed(); len(got) != 1 || got[0] != "list" {
		t.Errorf("Missed = %v, want [list]", got)
	}
	out := rendered(t, r)
	containsAll(t, out,
		"- CPU per request on /healthz within 1.15x of the baseline: met (1.10x).",
		"- CPU per request on list within 1.05x of the baseline: **missed** (1.20x).",
		"- binary no bigger than the baseline's: met (0.97x).",
		"- start-up to the first 200 within 1.2x of the baseline's: **missed** (1.50x).",
		"### Where the generated server's CPU goes on list",
		"(*articleHandler).list",
		"go -C e2e run ./cmd/perfbench",
	)
	if strings.Contains(out, "goes on /healthz") {
		t.Errorf("report profiles /healthz, whose goal is met:\n%s", out)
	}
}

func TestAFailedRequestMakesTheCPUGoalNotMeasured(t *testing.T) {
	r := report()
	r.Endpoints[0].Generated.Failed = 1
	b := rendered(t, r)
	if want := "on /healthz within 1.15x of the baseline: not measured (-)."; !strings.Contains(b, want) {
		t.Errorf("report lacks %q:\n%s", want, b)
	}
}

func TestTrimProfileKeepsTheHeaderAndTheServersOwnLines(t *testing.T) {
	top := `File: myblog
Duration: 4s, Total samples = 3s (75%)
Showing nodes accounting for 2s, 66% of 3s total
      flat  flat%   sum%        cum   cum%
     0.1s  3.33%  3.33%      2.5s 83.33%  net/http.(*conn).serve
        0     0%  3.33%        2s 66.67%  github.com/gin-gonic/gin.(*Engine).ServeHTTP
        0     0%  3.33%      0.5s 16.67%  myblog/middleware.AccessLog.func1
        0     0%  3.33%      0.2s  6.67%  runtime.mallocgc
        0     0%  3.33%      0.1s  3.33%  gorm.io/gorm.(*DB).Count
`
	pgx := "      flat  flat%\n     0.1s  3.33%  3.33%      0.3s 10.00%  github.com/jackc/pgx/v5/pgconn.(*PgConn).ExecParams\n" +
		"     0.1s  3.33%  3.33%      0.3s 10.00%  runtime.mallocgc\n"
	if got := TrimProfile(pgx, 5); !strings.Contains(got, "pgconn.(*PgConn).ExecParams") || strings.Contains(got, "mallocgc") {
		t.Errorf("TrimProfile drops PostgreSQL's driver or keeps the runtime:\n%s", got)
	}
	got := TrimProfile(top, 2)
	for _, want := range []string{"Duration: 4s", "flat  flat%", "gin.(*Engine).ServeHTTP", "middleware.AccessLog"} {
		if !strings.Contains(got, want) {
			t.Errorf("TrimProfile lacks %q:\n%s", want, got)
		}
	}
	for _, not := range []string{"net/http.(*conn).serve", "runtime.mallocgc", "gorm.(*DB).Count", "File:"} {
		if strings.Contains(got, not) {
			t.Errorf("TrimProfile keeps %q (or more than 2 lines):\n%s", not, got)
		}
	}
}

func TestBaselineFilesPickTheDriverOfTheDatabase(t *testing.T) {
	for db, driver := range map[string]string{SQLite: "sqlite.go", PostgreSQL: "postgres.go"} {
		files, err := BaselineFiles(db)
		if err != nil || len(files) != 2 || files[0] != "main.go" || files[1] != driver {
			t.Errorf("BaselineFiles(%s) = %v, %v; want main.go and %s", db, files, err, driver)
		}
		for _, f := range files {
			if _, err := os.Stat(filepath.Join(BaselineDir, f)); err != nil {
				t.Errorf("BaselineFiles(%s) names %s: %v", db, f, err)
			}
		}
	}
	for _, bad := range []string{"", "sqlite", "MySQL"} {
		if files, err := BaselineFiles(bad); err == nil || !strings.Contains(err.Error(), "want SQLite or PostgreSQL") {
			t.Errorf("BaselineFiles(%q) = %v, %v; want an error naming the choices", bad, files, err)
		}
	}
}

// Each driver file opens its database and nothing else: the other driver's module is not in
// the project's go.mod it is built in.
func TestEachBaselineDriverFileImportsOnlyItsDriver(t *testing.T) {
	for file, want := range map[string]struct{ has, not string }{
		"sqlite.go":   {"github.com/glebarez/sqlite", "gorm.io/driver/postgres"},
		"postgres.go": {"gorm.io/driver/postgres", "github.com/glebarez/sqlite"},
		"main.go":     {"gorm.io/gorm", "driver"},
	} {
		b, err := os.ReadFile(filepath.Join(BaselineDir, file))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), `"`+want.has+`"`) || strings.Contains(string(b), want.not) {
			t.Errorf("%s: want an import of %s and no %s", file, want.has, want.not)
		}
	}
}

func TestTheReportPutsEachDatabaseLineSideBySideWithItsOwnGoal(t *testing.T) {
	r := report()
	r.Databases = []string{SQLite, PostgreSQL}
	for i := range r.Endpoints {
		r.Endpoints[i].Database = SQLite
	}
	pg := r.Endpoints[1]
	pg.Database, pg.Profile = PostgreSQL, ""
	pg.Generated.CPUPerRequest = 103 * time.Microsecond
	r.Endpoints = append(r.Endpoints, pg)
	r.Notes = []string{"PostgreSQL: each server its own fresh database."}
	if got := r.Missed(); len(got) != 1 || got[0] != "list (SQLite)" {
		t.Errorf("Missed = %v, want [list (SQLite)] (PostgreSQL's list is within its goal)", got)
	}
	out := rendered(t, r)
	containsAll(t, out,
		"SQLite and PostgreSQL, 3 interleaved rounds",
		"PostgreSQL: each server its own fresh database.",
		"| list (SQLite) `GET /api/v1/articles?page_size=10` | 120.0 / 100.0 µs | 1.20x (1.05x: **missed**)",
		"| list (PostgreSQL) `GET /api/v1/articles?page_size=10` | 103.0 / 100.0 µs | 1.03x (1.05x: met)",
		"The binary, start-up and memory lines are those of the SQLite servers.",
		"- CPU per request on list (PostgreSQL) within 1.05x of the baseline: met (1.03x).",
		"- CPU per request on list (SQLite) within 1.05x of the baseline: **missed** (1.20x).",
		"### Where the generated server's CPU goes on list (SQLite)",
	)
	if strings.Contains(out, "goes on list (PostgreSQL)") {
		t.Errorf("report profiles PostgreSQL's list, whose goal is met:\n%s", out)
	}
}

// rendered is the Markdown r writes.
func rendered(t *testing.T, r Report) string {
	t.Helper()
	var b strings.Builder
	if err := r.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// containsAll fails the test for each of wants that the report out lacks.
func containsAll(t *testing.T, out string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}
