package inflection

import (
	"strings"
	"sync"
	"testing"

	jinzhu "github.com/jinzhu/inflection"
)

// words are jinzhu/inflection's own test words, gingen's typical resource names, and words
// that hit every kind of rule (uncountable, irregular, each regular rule, upper and title
// case, compounds, odd input).
func words() []string {
	return []string{
		"star", "STAR", "Star", "bus", "fish", "mouse", "query", "ability", "agency", "movie",
		"archive", "index", "wife", "safe", "half", "move", "salesperson", "person", "spokesman",
		"man", "woman", "basis", "diagnosis", "diagnosis_a", "datum", "medium", "stadium",
		"analysis", "node_child", "child", "experience", "day", "comment", "news", "old_news",
		"vertex", "matrix", "axis", "ox", "quiz", "status", "alias", "octopus", "virus", "hive",
		"tomato", "buffalo", "shoe", "crisis", "testis", "series", "sheep", "equipment", "database",
		"article", "tag", "category", "address", "box", "church", "wish", "hero", "photo", "leaf",
		"knife", "life", "cookie", "movies", "people", "men", "children", "sexes", "mombies",
		"PERSON", "Person", "FancyPerson", "FancyPeople", "blog_post", "order_item", "user",
		"", "s", "_", "x", "ies", "ALLCAPS", "MiXeD", "ünïcode", "niño", "a b", "1st",
	}
}

// TestEveryWordInflectsAsJinzhuInflectionDoes: this package is jinzhu/inflection with lazy
// compilation, nothing else; its results decide gingen's file and table names, which
// existing projects' gingen.yaml records.
func TestEveryWordInflectsAsJinzhuInflectionDoes(t *testing.T) {
	for _, w := range words() {
		for _, form := range []string{w, jinzhu.Plural(w), jinzhu.Singular(w), strings.ToUpper(w)} {
			if got, want := Plural(form), jinzhu.Plural(form); got != want {
				t.Errorf("Plural(%q) = %q, jinzhu/inflection says %q", form, got, want)
			}
			if got, want := Singular(form), jinzhu.Singular(form); got != want {
				t.Errorf("Singular(%q) = %q, jinzhu/inflection says %q", form, got, want)
			}
		}
	}
}

func TestTheFirstCallsMayComeAtOnce(t *testing.T) {
	// Run with -race: the rules are compiled once, whichever goroutine calls first.
	var wg sync.WaitGroup
	got := make([]string, 16)
	for i := range got {
		wg.Go(func() {
			if i%2 == 0 {
				got[i] = Plural("person")
			} else {
				got[i] = Singular("people")
			}
		})
	}
	wg.Wait()
	for i, g := range got {
		if want := map[bool]string{true: "people", false: "person"}[i%2 == 0]; g != want {
			t.Errorf("call %d = %q, want %q", i, g, want)
		}
	}
}
