package models_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"myblog/internal/dbtest"
	"myblog/internal/migrate"
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

func TestAUserNameIsOneIdentityInEverySpelling(t *testing.T) {
	ctx := context.Background()
	db := dbtest.Open(t)
	u, err := models.CreateUser(ctx, db, " Admin ", "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if u.Username != "admin" {
		t.Errorf("stored user name %q, want admin", u.Username)
	}
	spellings := []string{"admin", "ADMIN", "Admin", "admin   ", "\tadmin\n", "ａｄｍｉｎ", "ＡＤＭＩＮ", "admin\u00a0", "\u1d43dmin", "AdMiN"}
	for _, name := range spellings {
		if n := models.NormalizeUsername(name); n != "admin" || models.NormalizeUsername(n) != n {
			t.Errorf("NormalizeUsername(%q) = %q, want admin, unchanged by a second pass", name, n)
		}
		if got, err := models.Authenticate(ctx, db, name, "correct horse"); err != nil || got.ID != u.ID {
			t.Errorf("Authenticate(%q, right password) = %+v, %v; want admin", name, got, err)
		}
		if _, err := models.CreateUser(ctx, db, name, "another password"); err == nil {
			t.Errorf("CreateUser(%q) made a second admin", name)
		}
	}
	// An accent makes another name, in either Unicode form; on MySQL the column's binary
	// collation keeps it from matching admin's row.
	if models.NormalizeUsername("a\u0301dmin") != models.NormalizeUsername("ádmin") {
		t.Error("the two Unicode forms of ádmin normalize apart")
	}
	for _, name := range []string{"ádmin", "a\u0301dmin", "ÁDMIN"} {
		if _, err := models.Authenticate(ctx, db, name, "correct horse"); !errors.Is(err, models.ErrBadCredentials) {
			t.Errorf("Authenticate(%q, admin's password) = %v, want ErrBadCredentials", name, err)
		}
	}
	if _, err := models.CreateUser(ctx, db, "ádmin", "correct horse"); err != nil {
		t.Errorf("CreateUser(ádmin) beside admin: %v", err)
	}
	for _, name := range []string{"", "   ", strings.Repeat("a", models.MaxUsernameBytes+1)} {
		if _, err := models.CreateUser(ctx, db, name, "correct horse"); !errors.Is(err, models.ErrBadUsername) {
			t.Errorf("CreateUser(%q) = %v, want ErrBadUsername", name, err)
		}
	}
}

func TestTheUsersTableComparesNamesByTheirBytes(t *testing.T) {
	// The database must not match another spelling to a row by itself (a case- or
	// accent-insensitive collation did on MySQL): the application compares normalized names.
	// (Trailing spaces are left out: MySQL's utf8mb4_bin ignores them, as every PAD SPACE
	// collation does, and NormalizeUsername trims them before any query.)
	ctx := context.Background()
	db := dbtest.Open(t)
	if _, err := models.CreateUser(ctx, db, "admin", "correct horse"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ADMIN", "ádmin", "Admin", "ａｄｍｉｎ", "a\u0301dmin"} {
		var n int64
		if err := db.Model(&models.User{}).Where("username = ?", name).Count(&n).Error; err != nil || n != 0 {
			t.Errorf("WHERE username = %q matched %d rows (%v), want none", name, n, err)
		}
	}
	// And two rows apart by an accent or a capital are two users to it.
	for _, name := range []string{"ádmin", "Admin"} {
		if err := db.Create(&models.User{Username: name, PasswordHash: "x"}).Error; err != nil {
			t.Errorf("a row %q beside admin: %v", name, err)
		}
	}
}

func TestTheMigrationBringsStoredNamesIntoTheirForm(t *testing.T) {
	// A database of a project made before the names were normalized: the users table as
	// migrations before normalize_usernames left it, with names stored as they were sent.
	ctx := context.Background()
	db := dbtest.Open(t)
	m, err := migrate.New(ctx, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := m.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var version int64
	for _, s := range st {
		if strings.HasSuffix(s.Name, "_normalize_usernames.sql") {
			version = s.Version
		}
	}
	if version == 0 {
		t.Fatalf("no normalize_usernames migration among %+v", st)
	}
	if err := m.Down(ctx, version-1); err != nil {
		t.Fatal(err)
	}
	hash, err := models.HashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Create(&models.User{Username: " Admin ", PasswordHash: hash}).Error; err != nil {
		t.Fatal(err)
	}
	if err := m.Up(ctx); err != nil {
		t.Fatal(err)
	}
	if u, err := models.Authenticate(ctx, db, "ADMIN", "correct horse"); err != nil || u.Username != "admin" {
		t.Errorf("after the migration, Authenticate(ADMIN) = %+v, %v; want the user admin", u, err)
	}

	// Two users whose names are one once normalized: the migration stops rather than merge them.
	if err := m.Down(ctx, version-1); err != nil {
		t.Fatal(err)
	}
	if err := db.Create(&models.User{Username: "BOB", PasswordHash: hash}).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Create(&models.User{Username: "bob ", PasswordHash: hash}).Error; err != nil {
		t.Skipf("this database's collation made BOB and \"bob \" one name already: %v", err)
	}
	if err := m.Up(ctx); err == nil {
		t.Error("the migration merged BOB and \"bob \" into one name; want it to fail on the unique index")
	}
}
