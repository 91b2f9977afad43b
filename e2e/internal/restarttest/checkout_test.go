package restarttest

import (
	"os"
	"path/filepath"
	"testing"
)

func TestCheckoutRootHoldsTheGoldenTrees(t *testing.T) {
	root, err := CheckoutRoot()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join("golden", "myblog-fork", "go.mod"), filepath.Join(".ci", "run")} {
		if _, err := os.Stat(filepath.Join(root, p)); err != nil {
			t.Errorf("checkout root %s: %v", root, err)
		}
	}
}
