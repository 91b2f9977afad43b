package dbtest

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"

	"myblog/models"
	"myblog/pkg/setting"
)

// Settings returns the settings of an empty database that only this test uses.
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
	name := "test_" + strings.ToLower(rand.Text()[:16])
	if err := admin.WithContext(ctx).Exec("CREATE DATABASE `" + name + "` DEFAULT CHARACTER SET utf8mb4").Error; err != nil {
		_ = models.Close(admin)
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		if err := admin.Exec("DROP DATABASE `" + name + "`").Error; err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
		if err := models.Close(admin); err != nil {
			t.Error(err)
		}
	})
	cfg.Name = name
	return cfg
}
