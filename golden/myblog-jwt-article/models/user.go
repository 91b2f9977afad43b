package models

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
	"gorm.io/gorm"

	"myblog/pkg/setting"
)

// User is an account that may sign in at POST /auth. Only a bcrypt hash of its password is
// stored.
type User struct {
	ID           uint      `gorm:"primaryKey" json:"id"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	Username     string    `gorm:"size:64;not null;uniqueIndex" json:"username"`
	PasswordHash string    `gorm:"size:60;not null" json:"-"`
}

// TableName fixes the table's name, so that renaming the type keeps the data.
func (User) TableName() string { return "users" }

// MaxUsernameBytes is the longest user name, in its normalized form (the column's size).
const MaxUsernameBytes = 64

// NormalizeUsername is the one form in which a user name is stored, looked up and throttled:
// surrounding spaces trimmed, Unicode compatibility characters replaced by their canonical
// ones (NFKC: the full-width `ａｄｍｉｎ` is `admin`) and capitals folded (`ADMIN` is `admin`).
// Accents stay: `ádmin` is another name than `admin` (whether typed with one code point or
// with a combining accent). Invalid UTF-8 becomes U+FFFD, so that two byte strings never
// differ in the database but compare equal here.
func NormalizeUsername(name string) string {
	name = strings.ToValidUTF8(name, string(utf8.RuneError))
	name = norm.NFKC.String(strings.TrimSpace(name))
	// Folding can undo NFKC (e.g. U+0345) and NFKC can make spaces: normalize again.
	return strings.TrimSpace(norm.NFKC.String(cases.Fold().String(name)))
}

// ErrBadCredentials is Authenticate's answer for an unknown user and for a wrong password
// alike, so that a client cannot tell which usernames exist.
var ErrBadCredentials = errors.New("invalid username or password")

// maxPasswordBytes is bcrypt's limit: it refuses longer passwords.
const maxPasswordBytes = 72

// timingHash is the bcrypt hash (of a random value nobody knows) that Authenticate checks
// a password against when the user does not exist, so that an unknown user takes as long to
// refuse as a wrong password.
const timingHash = "$2a$10$bzIYLw8k8czBmxxZISVwrOFPGN2WYaFR55WW4Gg2StWa11G9xAi6O"

// HashPassword returns the bcrypt hash of password, at bcrypt's default cost.
func HashPassword(password string) (string, error) {
	if len(password) > maxPasswordBytes {
		return "", fmt.Errorf("hash password: longer than %d bytes", maxPasswordBytes)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(hash), nil
}

// ErrBadUsername refuses a user name that is empty or longer than MaxUsernameBytes once
// normalized.
var ErrBadUsername = errors.New("a user name must have 1 to 64 bytes once normalized")

// checkUsername returns the normalized form of name, or ErrBadUsername.
func checkUsername(name string) (string, error) {
	n := NormalizeUsername(name)
	if n == "" || len(n) > MaxUsernameBytes {
		return "", fmt.Errorf("user %q: %w", name[:min(len(name), MaxUsernameBytes)], ErrBadUsername)
	}
	return n, nil
}

// CreateUser stores a new user with the hash of password, under the normalized form of
// username (NormalizeUsername). A name taken in that form fails with an error that
// gorm.ErrDuplicatedKey matches once translated.
func CreateUser(ctx context.Context, db *gorm.DB, username, password string) (*User, error) {
	username, err := checkUsername(username)
	if err != nil {
		return nil, err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return nil, err
	}
	u := &User{Username: username, PasswordHash: hash}
	if err := db.WithContext(ctx).Create(u).Error; err != nil {
		return nil, fmt.Errorf("create user %s: %w", username, err)
	}
	return u, nil
}

// Authenticate returns the user with this username (in any spelling NormalizeUsername takes
// to theirs) if password is theirs, and ErrBadCredentials otherwise.
func Authenticate(ctx context.Context, db *gorm.DB, username, password string) (*User, error) {
	var u User
	username = NormalizeUsername(username)
	err := db.WithContext(ctx).Where("username = ?", username).First(&u).Error
	switch {
	case err != nil && !errors.Is(err, gorm.ErrRecordNotFound):
		return nil, fmt.Errorf("look up user %s: %w", username, err)
	case err != nil, len(password) > maxPasswordBytes:
		// No such user, or a password no stored one can be: spend the time a check takes.
		_ = bcrypt.CompareHashAndPassword([]byte(timingHash), []byte(password[:min(len(password), maxPasswordBytes)]))
		return nil, ErrBadCredentials
	}
	if err := bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(password)); err != nil {
		return nil, ErrBadCredentials
	}
	return &u, nil
}

// SeedUser creates the user cfg.SeedUser with the password cfg.SeedPassword when the users
// table is empty, so that somebody can sign in on first start, and reports whether it did.
// Once any user exists it changes nothing: a seed password left in the environment neither
// brings back a deleted user nor resets a password. Of two processes starting at once (a
// restart), one creates the user; the unique username stops the other.
func SeedUser(ctx context.Context, db *gorm.DB, cfg setting.Auth) (bool, error) {
	var n int64
	if err := db.WithContext(ctx).Model(&User{}).Count(&n).Error; err != nil {
		return false, fmt.Errorf("seed user: count users: %w", err)
	}
	if n > 0 {
		return false, nil
	}
	if cfg.SeedPassword == "" {
		slog.WarnContext(ctx, "no user can sign in: the users table is empty and [auth] SeedPassword is not set; set "+setting.EnvPrefix+"_AUTH_SEEDPASSWORD and restart")
		return false, nil
	}
	name, err := checkUsername(cfg.SeedUser)
	if err != nil {
		return false, fmt.Errorf("seed user: [auth] SeedUser: %w", err)
	}
	hash, err := HashPassword(string(cfg.SeedPassword))
	if err != nil {
		return false, fmt.Errorf("seed user: %w", err)
	}
	err = db.WithContext(ctx).Create(&User{Username: name, PasswordHash: hash}).Error
	if t, ok := db.Dialector.(gorm.ErrorTranslator); ok && errors.Is(t.Translate(err), gorm.ErrDuplicatedKey) {
		return false, nil // another process starting at the same time created it
	}
	if err != nil {
		return false, fmt.Errorf("seed user %s: %w", name, err)
	}
	return true, nil
}

// UserExists reports whether the user with this id and username exists: a token's user may
// have been deleted (or, where ids are reused, replaced) since the token was issued.
func UserExists(ctx context.Context, db *gorm.DB, id uint, username string) (bool, error) {
	var n int64
	err := db.WithContext(ctx).Model(&User{}).Where("id = ? AND username = ?", id, username).Count(&n).Error
	if err != nil {
		return false, fmt.Errorf("look up user %d: %w", id, err)
	}
	return n > 0, nil
}
