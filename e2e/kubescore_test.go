package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// kubeScoreArgs returns the options of every kube-score run: a warning fails as a critical finding
// does, so each check that a manifest does not meet is either met or ignored on purpose with
// a kube-score/ignore annotation. The one flag is the CPU limit, left out on purpose
// (deploy/kubernetes/README.md of a generated project says why); the Kubernetes version
// is the oldest one whose fields the manifests use (matchLabelKeys, nodeTaintsPolicy).
func kubeScoreArgs(file string) []string {
	return []string{
		"score", "--output-format", "ci", "--exit-one-on-warning", "--ignore-container-cpu-limit",
		"--kubernetes-version", "v1.27", "--enable-optional-test", "container-seccomp-profile", file,
	}
}

// TestKubeScorePassesEveryOverlay builds every overlay of every golden tree's
// deploy/kubernetes with kustomize and scores the result with kube-score
// (github.com/zegl/kube-score, installed by .ci/run): any critical finding or warning fails.
func TestKubeScorePassesEveryOverlay(t *testing.T) {
	kubeScore := requireTool(t, "kube-score")
	for _, dir := range goldenDirs(t) {
		overlays, err := filepath.Glob(filepath.Join(dir, "deploy", "kubernetes", "overlays", "*", "kustomization.yaml"))
		if err != nil || len(overlays) == 0 {
			t.Fatalf("%s: no overlays (%v)", dir, err)
		}
		for _, k := range overlays {
			overlay := filepath.Dir(k)
			t.Run(filepath.Base(dir)+"/"+filepath.Base(overlay), func(t *testing.T) {
				out := filepath.Join(t.TempDir(), "manifests.yaml")
				if err := os.WriteFile(out, kustomizeYAML(t, overlay), 0o600); err != nil {
					t.Fatal(err)
				}
				findings, err := runKubeScore(kubeScore, out)
				if err != nil {
					t.Errorf("kube-score %s: %v\n%s", overlay, err, findings)
				}
			})
		}
	}
}

// TestKubeScoreFailsWithoutTheNetworkPolicy proves the run above can fail: the production
// overlay of a golden tree, less its NetworkPolicy, fails kube-score.
func TestKubeScoreFailsWithoutTheNetworkPolicy(t *testing.T) {
	kubeScore := requireTool(t, "kube-score")
	overlay := filepath.Join("..", "golden", "myblog-postgres", "deploy", "kubernetes", "overlays", "production")
	var kept [][]byte
	for _, doc := range bytes.Split(kustomizeYAML(t, overlay), []byte("\n---\n")) {
		if !bytes.Contains(doc, []byte("kind: NetworkPolicy")) {
			kept = append(kept, doc)
		}
	}
	out := filepath.Join(t.TempDir(), "manifests.yaml")
	if err := os.WriteFile(out, bytes.Join(kept, []byte("\n---\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	findings, err := runKubeScore(kubeScore, out)
	if err == nil || !strings.Contains(findings, "NetworkPolicy") {
		t.Errorf("kube-score passed manifests without a NetworkPolicy (%v):\n%s", err, findings)
	}
}

// runKubeScore scores one file; the error is kube-score's non-zero exit.
func runKubeScore(kubeScore, file string) (string, error) {
	out, err := exec.Command(kubeScore, kubeScoreArgs(file)...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("kube-score %s: %w", file, err)
	}
	return string(out), nil
}

// kustomizeYAML builds the kustomization in dir as
// `kubectl kustomize --load-restrictor LoadRestrictionsNone dir` does.
func kustomizeYAML(t *testing.T, dir string) []byte {
	t.Helper()
	y, err := kustomize(t, dir).AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	return y
}
