package auth

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"myblog/pkg/setting"
)

const testSecret = "kV3x9Qm2T7pLwZ4bN8cR1yH6dF0sJ5gA+uE/oI3tY7w="

func newTestTokens(t *testing.T, secret string) *Tokens {
	t.Helper()
	tokens, err := NewTokens(setting.Auth{Secret: setting.Secret(secret), TokenTTL: time.Hour}, "myblog")
	if err != nil {
		t.Fatal(err)
	}
	return tokens
}

func TestAnIssuedTokenParsesBackToItsUser(t *testing.T) {
	tokens := newTestTokens(t, testSecret)
	before := time.Now()
	token, expires, err := tokens.Issue(42, "ann")
	if err != nil {
		t.Fatal(err)
	}
	if d := expires.Sub(before); d < time.Hour-time.Second || d > time.Hour+time.Second {
		t.Errorf("expires in %s, want the TokenTTL, 1h", d)
	}
	claims, err := tokens.Parse(token)
	if err != nil {
		t.Fatal(err)
	}
	if id, err := claims.UserID(); err != nil || id != 42 || claims.Username != "ann" || claims.Issuer != "myblog" {
		t.Errorf("claims = %+v (user id %d, %v), want user 42 ann from myblog", claims, id, err)
	}
}

func TestParseRefusesBadTokens(t *testing.T) {
	tokens := newTestTokens(t, testSecret)
	good, _, err := tokens.Issue(1, "ann")
	if err != nil {
		t.Fatal(err)
	}
	sign := func(method jwt.SigningMethod, key any, claims jwt.Claims) string {
		t.Helper()
		s, err := jwt.NewWithClaims(method, claims).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	valid := func() *Claims {
		now := time.Now()
		return &Claims{Username: "ann", RegisteredClaims: jwt.RegisteredClaims{
			Issuer: "myblog", Subject: "1", IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
		}}
	}
	expired := valid()
	expired.IssuedAt = jwt.NewNumericDate(time.Now().Add(-2 * time.Hour))
	expired.ExpiresAt = jwt.NewNumericDate(time.Now().Add(-time.Hour))
	otherIssuer := valid()
	otherIssuer.Issuer = "someone-else"
	noExpiry := valid()
	noExpiry.ExpiresAt = nil
	notAUser := valid()
	notAUser.Subject = "ann"

	for _, tc := range []struct {
		name, token string
		want        error
	}{
		{"an expired token", sign(jwt.SigningMethodHS256, []byte(testSecret), expired), ErrExpired},
		{"a token signed with another secret", sign(jwt.SigningMethodHS256, []byte(strings.Repeat("x", 32)), valid()), ErrInvalid},
		{"a token with a tampered payload", tamper(t, good), ErrInvalid},
		{"a token of another algorithm", sign(jwt.SigningMethodHS512, []byte(testSecret), valid()), ErrInvalid},
		{"an unsigned token (alg none)", sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, valid()), ErrInvalid},
		{"a token from another issuer", sign(jwt.SigningMethodHS256, []byte(testSecret), otherIssuer), ErrInvalid},
		{"a token without an expiry", sign(jwt.SigningMethodHS256, []byte(testSecret), noExpiry), ErrInvalid},
		{"a token whose subject is not a user id", sign(jwt.SigningMethodHS256, []byte(testSecret), notAUser), ErrInvalid},
		{"garbage", "not.a.token", ErrInvalid},
		{"an empty token", "", ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			claims, err := tokens.Parse(tc.token)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Parse = %+v, %v; want %v", claims, err, tc.want)
			}
		})
	}
}

// tamper changes the username in a token's payload and keeps its signature.
func tamper(t *testing.T, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q does not have three parts", token)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	forged := strings.Replace(string(payload), `"ann"`, `"bob"`, 1)
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(forged))
	return strings.Join(parts, ".")
}

func TestATokenExpiresAfterItsLifetime(t *testing.T) {
	tokens := newTestTokens(t, testSecret)
	start := time.Now()
	tokens.now = func() time.Time { return start }
	token, _, err := tokens.Issue(1, "ann")
	if err != nil {
		t.Fatal(err)
	}
	tokens.now = func() time.Time { return start.Add(59 * time.Minute) }
	if _, err := tokens.Parse(token); err != nil {
		t.Errorf("a minute before expiry: %v, want the token accepted", err)
	}
	tokens.now = func() time.Time { return start.Add(61 * time.Minute) }
	if _, err := tokens.Parse(token); !errors.Is(err, ErrExpired) {
		t.Errorf("a minute after expiry: %v, want ErrExpired", err)
	}
}

func TestNewTokensRefusesAShortOrPredictableSecret(t *testing.T) {
	for _, secret := range []string{"short", "                                ", "passwordpasswordpasswordpassword"} {
		if _, err := NewTokens(setting.Auth{Secret: setting.Secret(secret), TokenTTL: time.Hour}, "myblog"); err == nil {
			t.Errorf("NewTokens accepted the secret %q", secret)
		}
	}
}
