package generator

import (
	"fmt"
	"io"
	"io/fs"
)

// MaxManifestSize bounds the gingen.yaml gingen reads. The one of a project with hundreds of
// resources is a few hundred KiB; a bigger one was not written by gingen, and reading it whole
// (then parsing it) would take the memory and time of its size.
const MaxManifestSize = 1 << 20

// ReadManifestFile reads the project's gingen.yaml: a regular file of at most MaxManifestSize
// bytes, refused before it is read otherwise.
func ReadManifestFile(project fs.FS) ([]byte, error) {
	f, err := project.Open(ManifestName)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", ManifestName, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", ManifestName, err)
	}
	if !info.Mode().IsRegular() {
		return nil, inputErrorf("%s is not a regular file; restore it from version control", ManifestName)
	}
	if info.Size() > MaxManifestSize {
		return nil, manifestTooBig(info.Size())
	}
	// The file may grow between the Stat and the read: never more than the bound is read.
	b, err := io.ReadAll(io.LimitReader(f, MaxManifestSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", ManifestName, err)
	}
	if len(b) > MaxManifestSize {
		return nil, manifestTooBig(int64(len(b)))
	}
	return b, nil
}

func manifestTooBig(size int64) error {
	return inputErrorf("%s is %.1f MiB, more than the %d MiB gingen reads (gingen writes far smaller ones); restore it from version control", ManifestName, float64(size)/(1<<20), MaxManifestSize>>20)
}
