package generator

import (
	"bytes"
	"strings"
	"testing"

	"github.com/gingen/gingen/templates"
)

func TestNormalizeDefaultsToNoAuth(t *testing.T) {
	o := Options{Name: "myblog", Port: DefaultPort}
	o.Normalize()
	if o.Auth != AuthNone || o.DB != DBSQLite {
		t.Fatalf("Normalize() = auth %q, db %q; want none, sqlite", o.Auth, o.DB)
	}
}

func TestPlanLaysTheDatabaseAndAuthTreesOverTheBase(t *testing.T) {
	for _, tc := range []struct {
		db, auth   string
		driver     string // imported by models/database.go
		jwtFiles   bool
		manifestDB string
	}{
		{DBSQLite, AuthNone, `"github.com/glebarez/sqlite"`, false, "db: sqlite\n"},
		{DBPostgres, AuthNone, `"gorm.io/driver/postgres"`, false, "db: postgres\n"},
		{DBMySQL, AuthJWT, `gormmysql "gorm.io/driver/mysql"`, true, "db: mysql\nauth: jwt\n"},
	} {
		t.Run(tc.db+" "+tc.auth, func(t *testing.T) {
			o := Options{Name: "myblog", DB: tc.db, Auth: tc.auth, Port: DefaultPort}
			o.Normalize()
			files, err := PlanProject(o, templates.FS())
			if err != nil {
				t.Fatal(err)
			}
			byPath := map[string][]byte{}
			for _, f := range files {
				byPath[f.Path] = f.Body
			}
			if !bytes.Contains(byPath["models/database.go"], []byte(tc.driver)) {
				t.Errorf("models/database.go does not import %s", tc.driver)
			}
			for _, p := range []string{"middleware/jwt.go", "pkg/auth/token.go", "routers/api/auth.go", "models/user.go"} {
				if _, ok := byPath[p]; ok != tc.jwtFiles {
					t.Errorf("%s planned: %v, want %v", p, ok, tc.jwtFiles)
				}
			}
			if !strings.Contains(string(byPath[ManifestName]), tc.manifestDB) {
				t.Errorf("manifest:\n%s\nwant it to contain %q", byPath[ManifestName], tc.manifestDB)
			}
			if tc.auth == AuthNone && strings.Contains(string(byPath[ManifestName]), "auth:") {
				t.Errorf("manifest of a project without auth records auth:\n%s", byPath[ManifestName])
			}
		})
	}
}

// TestALongProjectNameGetsADatabaseUserMySQLAccepts: the default user is the project name,
// cut to MySQL's 32 characters; the database keeps the whole name (MySQL allows 64).
func TestALongProjectNameGetsADatabaseUserMySQLAccepts(t *testing.T) {
	name := "a-very-long-project-name-for-the-shop-of-acme"
	o := Options{Name: name, DB: DBMySQL, Port: DefaultPort}
	o.Normalize()
	files, err := PlanProject(o, templates.FS())
	if err != nil {
		t.Fatal(err)
	}
	var ini, compose string
	for _, f := range files {
		switch f.Path {
		case "conf/app.ini":
			ini = string(f.Body)
		case "compose.yaml":
			compose = string(f.Body)
		}
	}
	const user = "a_very_long_project_name_for_the" // 32 characters
	const db = "a_very_long_project_name_for_the_shop_of_acme"
	if !strings.Contains(ini, "\nUser = "+user+"\n") || !strings.Contains(ini, "\nName = "+db+"\n") {
		t.Errorf("conf/app.ini [database]: want User = %s and Name = %s:\n%s", user, db, ini)
	}
	if !strings.Contains(compose, "MARIADB_USER: "+user+"\n") || !strings.Contains(compose, "MARIADB_DATABASE: "+db+"\n") {
		t.Errorf("compose.yaml: want MARIADB_USER %s and MARIADB_DATABASE %s:\n%s", user, db, compose)
	}
	if got := dbUser("my-shop"); got != "my_shop" {
		t.Errorf("dbUser(my-shop) = %q, want it unchanged", got)
	}
	if got := dbUser(strings.Repeat("ab_", 11) + "c"); got != strings.Repeat("ab_", 10)+"ab" {
		t.Errorf("dbUser cut at an '_' = %q, want no trailing '_'", got)
	}
}
