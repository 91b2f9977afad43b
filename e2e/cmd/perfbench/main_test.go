package main

import (
	"net"
	"strconv"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestPostgresIsMeasuredOnlyWhenItsEnvironmentIsComplete(t *testing.T) {
	if _, ok, err := postgresFromEnv(env(nil)); ok || err != nil {
		t.Errorf("no variables: ok %v, err %v; want PostgreSQL not requested and no error", ok, err)
	}
	full := map[string]string{"GINGEN_TEST_POSTGRES_HOST": "127.0.0.1", "GINGEN_TEST_POSTGRES_PORT": "56432",
		"GINGEN_TEST_POSTGRES_USER": "gingen", "GINGEN_TEST_POSTGRES_PASSWORD": "pw", "GINGEN_TEST_POSTGRES_NAME": "gingen"}
	pg, ok, err := postgresFromEnv(env(full))
	if !ok || err != nil || pg.db.Host != "127.0.0.1" || pg.db.Port != "56432" || pg.db.User != "gingen" || pg.db.Password != "pw" || pg.admin != "gingen" {
		t.Errorf("every variable: %+v, ok %v, err %v; want the server they name", pg, ok, err)
	}
	delete(full, "GINGEN_TEST_POSTGRES_PORT")
	delete(full, "GINGEN_TEST_POSTGRES_NAME")
	_, ok, err = postgresFromEnv(env(full))
	if ok || err == nil || !strings.Contains(err.Error(), "GINGEN_TEST_POSTGRES_PORT, GINGEN_TEST_POSTGRES_NAME not set") {
		t.Errorf("two variables missing: ok %v, err %v; want an error naming them", ok, err)
	}
}

// A server the variables name that does not answer fails the run before anything is built.
func TestAnUnreachablePostgresFailsWithTheFix(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close() // nothing listens there now
	pg, ok, err := postgresFromEnv(env(map[string]string{"GINGEN_TEST_POSTGRES_HOST": "127.0.0.1",
		"GINGEN_TEST_POSTGRES_PORT": strconv.Itoa(port), "GINGEN_TEST_POSTGRES_USER": "gingen",
		"GINGEN_TEST_POSTGRES_PASSWORD": "pw", "GINGEN_TEST_POSTGRES_NAME": "gingen"}))
	if !ok || err != nil {
		t.Fatalf("postgresFromEnv: ok %v, err %v", ok, err)
	}
	err = pg.check(t.Context())
	if err == nil {
		t.Fatal("check of a closed port: no error")
	}
	// Without psql the error says to install it; with it, that the server is unreachable.
	if !strings.Contains(err.Error(), "psql is not installed") &&
		!strings.Contains(err.Error(), "127.0.0.1:"+strconv.Itoa(port)+" is unreachable (start it with .ci/databases start postgres") {
		t.Errorf("check: %v; want it to name the server and the fix", err)
	}
}
