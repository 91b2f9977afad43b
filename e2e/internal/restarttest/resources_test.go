package restarttest

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestGoldenResourceReadsTheFieldsWithTheirModifiers(t *testing.T) {
	golden := filepath.Join("..", "..", "..", "golden")
	got, err := GoldenResource(golden, "myblog-article", "article")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"title:string:search", "body:text:search", "published:bool", "views:int", "published_at:time"}
	if got.Name != "article" || got.Plural != "articles" || got.Events || !slices.Equal(got.Fields, want) {
		t.Errorf("GoldenResource = %+v, want article (articles) with %v", got, want)
	}
	if _, err := GoldenResource(golden, "myblog-article", "nothing"); err == nil || !strings.Contains(err.Error(), "no resource nothing") {
		t.Errorf("GoldenResource of a missing resource: %v, want an error naming it", err)
	}
	if _, err := GoldenResource(golden, "no-such-tree", "article"); err == nil {
		t.Error("GoldenResource of a missing tree: no error")
	}
}

func TestPostgresProjectAddsTheArticleToTheGoldenPostgresTree(t *testing.T) {
	fx := NewFixtures(filepath.Join("..", "..", "..", "golden"), t.TempDir())
	dir, err := fx.PostgresProject()
	if err != nil {
		t.Fatal(err)
	}
	m, err := os.ReadFile(filepath.Join(dir, "gingen.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(m), "db: postgres") || !strings.Contains(string(m), "name: article") {
		t.Errorf("gingen.yaml of %s is not the PostgreSQL project with the article:\n%s", dir, m)
	}
	mig, err := filepath.Glob(filepath.Join(dir, "db", "migrations", "*_create_articles.sql"))
	if err != nil || len(mig) != 1 {
		t.Fatalf("migrations of the article: %v, %v", mig, err)
	}
	if again, err := fx.PostgresProject(); err != nil || again != dir {
		t.Errorf("PostgresProject again = %q, %v; want the same folder %q, composed once", again, err, dir)
	}
}
