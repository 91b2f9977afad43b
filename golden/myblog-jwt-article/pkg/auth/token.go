// Package auth issues and checks the API's tokens: JSON Web Tokens signed with HMAC-SHA256
// (github.com/golang-jwt/jwt/v5) under the [auth] Secret, valid for [auth] TokenTTL.
package auth

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"myblog/pkg/setting"
)

// ErrExpired is Parse's error for a token that was valid once but has expired.
var ErrExpired = errors.New("token expired")

// ErrInvalid is Parse's error for every other token it refuses: malformed, signed with
// another key or algorithm, from another issuer, or without an expiry.
var ErrInvalid = errors.New("invalid token")

// Claims are what a token says: who the user is, who issued it and until when it is valid.
type Claims struct {
	Username string `json:"username"`
	jwt.RegisteredClaims
}

// UserID is the id of the user the token was issued to (its subject).
func (c *Claims) UserID() (uint, error) {
	id, err := strconv.ParseUint(c.Subject, 10, 0)
	if err != nil {
		return 0, fmt.Errorf("token subject %q is not a user id: %w", c.Subject, err)
	}
	return uint(id), nil
}

// Tokens issues and checks tokens.
type Tokens struct {
	secret []byte
	ttl    time.Duration
	issuer string
	now    func() time.Time
}

// NewTokens returns the issuer of tokens named issuer (the "iss" claim, checked on the way
// back) with cfg's secret and lifetime.
func NewTokens(cfg setting.Auth, issuer string) (*Tokens, error) {
	if err := setting.CheckSecret(string(cfg.Secret)); err != nil {
		return nil, fmt.Errorf("auth: the secret %w", err)
	}
	if cfg.TokenTTL <= 0 {
		return nil, fmt.Errorf("auth: token lifetime %s must be positive", cfg.TokenTTL)
	}
	return &Tokens{secret: []byte(cfg.Secret), ttl: cfg.TokenTTL, issuer: issuer, now: time.Now}, nil
}

// Issue returns a signed token for the user and the time it expires.
func (t *Tokens) Issue(userID uint, username string) (string, time.Time, error) {
	now := t.now()
	expires := now.Add(t.ttl)
	claims := Claims{
		Username: username,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    t.issuer,
			Subject:   strconv.FormatUint(uint64(userID), 10),
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(expires),
		},
	}
	signed, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(t.secret)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("auth: sign token: %w", err)
	}
	// Expiry is checked to the second, as the token stores it.
	return signed, claims.ExpiresAt.Time, nil
}

// Parse checks a token's signature, algorithm (HS256 only: "none" and the others are
// refused), issuer and expiry, and returns its claims. It fails with ErrExpired or
// ErrInvalid, wrapping the reason.
func (t *Tokens) Parse(token string) (*Claims, error) {
	var claims Claims
	_, err := jwt.ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) { return t.secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(t.issuer),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(t.now),
	)
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, fmt.Errorf("%w: %w", ErrExpired, err)
	case err != nil:
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if _, err := claims.UserID(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return &claims, nil
}
