package generator

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"golang.org/x/tools/txtar"
)

// The template trees of earlier gingen releases, so that gingen upgrade can rebuild the text
// an earlier gingen wrote: the base of the three-way merge of a file the user edited. Each is
// the tar of templates/project and templates/resource at the release's commit, made by
//
//	git archive --format=tar COMMIT templates/project templates/resource | gzip -9n > generator/releases/COMMIT.tar.gz
//
// A release's manifests record the digest of its templates (Generation.Templates), which
// picks the tree; the first release (8081e1f) recorded none.
//
//go:embed releases/*.tar.gz
var releaseArchives embed.FS

// firstRelease is the release whose manifests have no generated: key.
const firstRelease = "8081e1f"

// releaseTemplates returns the templates of the earlier release whose digest is sum, or, for
// sum "", of the first release, with overlay (the user's templates; nil for none) laid over
// them; ok is false when this gingen does not have them.
func releaseTemplates(sum string, overlay fs.FS) (tfs fs.FS, ok bool, err error) {
	entries, err := fs.ReadDir(releaseArchives, "releases")
	if err != nil {
		return nil, false, fmt.Errorf("read release templates: %w", err)
	}
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".tar.gz")
		if sum == "" && name != firstRelease {
			continue
		}
		t, err := openReleaseArchive(path.Join("releases", e.Name()))
		if err != nil {
			return nil, false, err
		}
		if overlay != nil {
			t = Overlay(t, overlay)
		}
		if sum == "" {
			return t, true, nil
		}
		got, err := TemplatesDigest(t)
		if err != nil {
			return nil, false, err
		}
		if got == sum {
			return t, true, nil
		}
	}
	return nil, false, nil
}

// openReleaseArchive reads one release's tar.gz into a file system rooted like templates.FS().
func openReleaseArchive(name string) (fs.FS, error) {
	f, err := releaseArchives.Open(name)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	tr := tar.NewReader(zr)
	var a txtar.Archive
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		var buf bytes.Buffer
		if _, err := io.Copy(&buf, tr); err != nil { // our own embedded archive: no size limit needed
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		a.Files = append(a.Files, txtar.File{Name: strings.TrimPrefix(h.Name, "templates/"), Data: buf.Bytes()})
	}
	return txtar.FS(&a)
}
