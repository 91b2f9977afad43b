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
