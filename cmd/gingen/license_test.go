package main

import (
	"os"
	"strings"
	"testing"
)

// TestGingenHasALicense: the repository carries its license, and the README names it.
func TestGingenHasALicense(t *testing.T) {
	license, err := os.ReadFile("../../LICENSE")
	if err != nil {
		t.Fatalf("LICENSE: %v", err)
	}
	if !strings.HasPrefix(string(license), "MIT License\n") {
		t.Errorf("LICENSE does not start with its name: %q", strings.SplitN(string(license), "\n", 2)[0])
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "[MIT License](LICENSE)") {
		t.Error("README.md does not name the license")
	}
}
