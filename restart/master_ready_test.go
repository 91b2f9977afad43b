//go:build unix

package restart

import (
	"errors"
	"os"
	"testing"
	"time"
)

func TestSupervisorReadReady(t *testing.T) {
	tests := []struct {
		name       string
		report     string
		want       time.Duration
		wantReason string // a worker's own failure report
		wantErr    bool
	}{
		{name: "a ready worker sends its drain bound", report: "ready 1500000000\n", want: 1500 * time.Millisecond},
		{name: "a failing worker sends its reason", report: "fail restart: worker build: connect to mysql at db:3306: connection refused\n",
			wantReason: "restart: worker build: connect to mysql at db:3306: connection refused"},
		{name: "garbage is an error", report: "hello\n", wantErr: true},
		{name: "a worker that exits without a word is an error", report: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if _, err := w.WriteString(tt.report); err != nil {
				t.Fatal(err)
			}
			w.Close()
			got, err := readReady(r)
			var failed *workerError
			switch {
			case tt.wantReason != "":
				if !errors.As(err, &failed) || failed.reason != tt.wantReason {
					t.Fatalf("readReady = %v, %v; want the failure %q", got, err, tt.wantReason)
				}
			case tt.wantErr:
				if err == nil || errors.As(err, &failed) {
					t.Fatalf("readReady = %v, %v; want a read error", got, err)
				}
			case err != nil || got != tt.want:
				t.Fatalf("readReady = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}
