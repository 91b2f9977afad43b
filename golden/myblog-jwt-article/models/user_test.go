package models_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"myblog/internal/dbtest"
	"myblog/models"
	"myblog/pkg/setting"
)

func TestAUserSignsInWithTheirPasswordOnly(t *testing.T) {
	ctx := context.Background()
	db := dbtest.Open(t)
	u, err := models.CreateUser(ctx, db, "ann", "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(u.PasswordHash, "$2") || strings.Contains(u.PasswordHash, "correct horse") {
		t.Errorf("stored password %q, want a bcrypt hash", u.PasswordHash)
	}
	if got, err := models.Authenticate(ctx, db, "ann", "correct horse"); err != nil || got.ID != u.ID {
		t.Errorf("Authenticate(ann, right password) = %+v, %v; want ann", got, err)
	}
	for _, tc := range []struct{ name, username, password string }{
		{"a wrong password", "ann", "wrong horse"},
		{"an unknown user", "bob", "correct horse"},
		{"an empty password", "ann", ""},
		{"a password longer than bcrypt takes", "ann", "correct horse" + strings.Repeat("!", 80)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := models.Authenticate(ctx, db, tc.username, tc.password); !errors.Is(err, models.ErrBadCredentials) {
				t.Errorf("Authenticate(%s, %q) = %v, want ErrBadCredentials", tc.username, tc.password, err)
			}
		})
	}
}

func TestSeedUserCreatesTheFirstUserOnce(t *testing.T) {
	ctx := context.Background()
	db := dbtest.Open(t)
	cfg := setting.Auth{SeedUser: "admin", SeedPassword: "first password"}

	if created, err := models.SeedUser(ctx, db, setting.Auth{SeedUser: "admin"}); err != nil || created {
		t.Fatalf("SeedUser without a password = %v, %v; want nothing created", created, err)
	}
	if created, err := models.SeedUser(ctx, db, cfg); err != nil || !created {
		t.Fatalf("SeedUser on an empty table = %v, %v; want the user created", created, err)
	}
	if _, err := models.Authenticate(ctx, db, "admin", "first password"); err != nil {
		t.Errorf("the seeded user cannot sign in: %v", err)
	}
	cfg.SeedPassword = "another password"
	if created, err := models.SeedUser(ctx, db, cfg); err != nil || created {
		t.Fatalf("SeedUser with a user in the table = %v, %v; want nothing changed", created, err)
	}
	if _, err := models.Authenticate(ctx, db, "admin", "first password"); err != nil {
		t.Errorf("a second SeedUser changed the password: %v", err)
	}
}
