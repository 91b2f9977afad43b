package e2e

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gingen/gingen/e2e/internal/restarttest"
	"github.com/gingen/gingen/generator"
)

// signHS256 makes a JSON Web Token with claims, signed with secret, as a client that knows
// the secret (or forges a token) would.
func signHS256(t *testing.T, secret string, claims map[string]any) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	unsigned := enc(map[string]string{"alg": "HS256", "typ": "JWT"}) + "." + enc(claims)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(unsigned))
	return unsigned + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// breakSignature flips one bit of a token's signature.
func breakSignature(t *testing.T, token string) string {
	t.Helper()
	i := strings.LastIndexByte(token, '.')
	sig, err := base64.RawURLEncoding.DecodeString(token[i+1:])
	if err != nil || len(sig) == 0 {
		t.Fatalf("token %q has no signature to break: %v", token, err)
	}
	sig[0] ^= 1
	return token[:i+1] + base64.RawURLEncoding.EncodeToString(sig)
}

// authCall sends a request with an optional bearer token and returns the status, the
// WWW-Authenticate header and the JSON body.
func authCall(t *testing.T, ctx context.Context, method, url, body, token string) (int, string, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	var out map[string]any
	if err := decodeJSON(resp, &out); err != nil {
		t.Fatalf("%s %s = %d with a body that is not JSON: %v", method, url, resp.StatusCode, err)
	}
	return resp.StatusCode, resp.Header.Get("WWW-Authenticate"), out
}

// TestJWTAuthGuardsTheAPI generates a project with --auth jwt and a resource, starts it with
// a secret and a seed password from its settings, and drives it over HTTP: POST /auth with
// wrong and right credentials, the API without a token, with a valid one, an expired one, a
// forged one and one with a broken signature; a token outlives a zero-downtime restart, and
// the seed user is created once.
func TestJWTAuthGuardsTheAPI(t *testing.T) {
	t.Parallel() // its own project, binary, port and SQLite file
	if testing.Short() {
		t.Skip("generates, builds and runs a project")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	project := generateProject(t, generator.Options{Name: "myblog", Strategy: restarttest.Fork, Auth: generator.AuthJWT, Port: generator.DefaultPort},
		generator.ResourceOptions{Name: "article", Fields: []string{"title:string", "body:text"}})
	work := t.TempDir()
	bin := filepath.Join(work, "myblog")
	if err := restarttest.Build(ctx, project, bin, "v1"); err != nil {
		t.Fatal(err)
	}
	const secret = "Zq4vB8nW2xK7mJ1pR9tY3cL6hF0dS5gE+aU/oI2wT8k="
	ini, err := os.ReadFile(filepath.Join(project, "conf", "app.ini"))
	if err != nil {
		t.Fatal(err)
	}
	conf := strings.Replace(string(ini), "\nSecret =\n", "\nSecret = "+secret+"\n", 1)
	conf = strings.Replace(conf, "\nSeedPassword =\n", "\nSeedPassword = first-password\n", 1)
	if conf == string(ini) {
		t.Fatalf("conf/app.ini has no [auth] Secret and SeedPassword to set:\n%s", ini)
	}
	log := logFile(t)
	srv, err := startMyblog(t, ctx, restarttest.Fork, bin, work, conf, log)
	if err != nil {
		t.Fatal(err)
	}
	articles := srv.BaseURL + "/api/v1/articles"
	article := `{"title":"Hi","body":"..."}`

	if code, challenge, body := authCall(t, ctx, http.MethodPost, articles, article, ""); code != http.StatusUnauthorized || !strings.HasPrefix(challenge, "Bearer") {
		t.Errorf("POST /api/v1/articles without a token = %d %q %v, want 401 with a Bearer challenge", code, challenge, body)
	}
	for _, creds := range []string{`{"username":"admin","password":"wrong-password"}`, `{"username":"nobody","password":"first-password"}`} {
		if code, _, body := authCall(t, ctx, http.MethodPost, srv.BaseURL+"/auth", creds, ""); code != http.StatusUnauthorized || body["token"] != nil {
			t.Errorf("POST /auth %s = %d %v, want 401 and no token", creds, code, body)
		}
	}
	code, _, login := authCall(t, ctx, http.MethodPost, srv.BaseURL+"/auth", `{"username":"admin","password":"first-password"}`, "")
	token, _ := login["token"].(string)
	if code != http.StatusOK || token == "" {
		t.Fatalf("POST /auth as the seed user = %d %v, want 200 with a token", code, login)
	}

	if code, _, body := authCall(t, ctx, http.MethodPost, articles, article, token); code != http.StatusCreated {
		t.Fatalf("POST /api/v1/articles with the token = %d %v, want 201", code, body)
	}
	if code, _, body := authCall(t, ctx, http.MethodGet, srv.BaseURL+"/api/v1/me", "", token); code != http.StatusOK || body["username"] != "admin" {
		t.Errorf("GET /api/v1/me = %d %v, want 200 naming admin", code, body)
	}

	now := time.Now().Unix()
	claims := func(exp int64) map[string]any {
		return map[string]any{"username": "admin", "iss": "myblog", "sub": "1", "iat": now - 7200, "exp": exp}
	}
	for _, tc := range []struct{ name, token, want string }{
		{"an expired token", signHS256(t, secret, claims(now-3600)), "token expired"},
		{"a token signed with another secret", signHS256(t, strings.Repeat("x", 36), claims(now+3600)), "invalid token"},
		{"a token with a broken signature", breakSignature(t, token), "invalid token"},
	} {
		code, _, body := authCall(t, ctx, http.MethodGet, articles, "", tc.token)
		if msg, _ := body["error"].(string); code != http.StatusUnauthorized || !strings.Contains(msg, tc.want) {
			t.Errorf("GET /api/v1/articles with %s = %d %v, want 401 %q", tc.name, code, body, tc.want)
		}
	}
	if code, _, body := authCall(t, ctx, http.MethodGet, articles, "", signHS256(t, secret, claims(now+3600))); code != http.StatusOK {
		t.Errorf("a token signed with the settings' secret = %d %v, want 200: the secret comes from conf/app.ini", code, body)
	}

	// A token outlives a zero-downtime restart: the secret is the settings', not the process's.
	before, err := srv.Health(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.WaitFor(ctx, 20*time.Second, func(h restarttest.Health) bool { return h.PID != before.PID }); err != nil {
		t.Fatal(err)
	}
	if code, _, body := authCall(t, ctx, http.MethodGet, articles, "", token); code != http.StatusOK || body["total"] != float64(1) {
		t.Errorf("GET /api/v1/articles after the restart = %d %v, want 200 with the article", code, body)
	}
	out, err := os.ReadFile(log.Name())
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(out), "created the first user"); n != 1 {
		t.Errorf("the seed user was created %d times over two generations, want once:\n%s", n, out)
	}
}
