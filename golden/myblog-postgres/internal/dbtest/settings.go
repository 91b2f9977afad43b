package dbtest

import (
	"context"
	"crypto/rand"
	"net/url"
	"strings"
	"testing"

	"myblog/models"
	"myblog/pkg/setting"
)

// Settings returns the settings of an empty schema that only this test uses: the server's,
// with search_path set to the schema.
func Settings(t testing.TB) setting.Database {
	t.Helper()
	ctx := context.Background()
	cfg, err := setting.DatabaseFromEnvironment()
	if err != nil {
		t.Fatal(err)
	}
	admin, err := models.Open(ctx, cfg)
	if err != nil {
		unreachable(t, err)
	}
	schema := "test_" + strings.ToLower(rand.Text()[:16])
	if err := admin.WithContext(ctx).Exec(`CREATE SCHEMA "` + schema + `"`).Error; err != nil {
		_ = models.Close(admin)
		t.Fatalf("create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		if err := admin.Exec(`DROP SCHEMA "` + schema + `" CASCADE`).Error; err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
		if err := models.Close(admin); err != nil {
			t.Error(err)
		}
	})
	params, err := url.ParseQuery(cfg.Params)
	if err != nil {
		t.Fatal(err)
	}
	params.Set("search_path", schema)
	cfg.Params = params.Encode()
	return cfg
}
