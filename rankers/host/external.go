package host

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ManifestFile is the name of the manifest in Config.Dir.
const ManifestFile = "rankers.json"

// Manifest lists the external rankers the host may run, by name:
//
//	{
//	  "trending": {"file": "trending-ranker", "sha256": "9f86d081884c7d65..."}
//	}
//
// File is relative to the directory and may not leave it. Executables in
// the directory that the manifest does not list are refused, and so is a
// listed binary whose SHA-256 differs.
type Manifest map[string]ManifestEntry

// ManifestEntry is one external ranker in a Manifest.
type ManifestEntry struct {
	// File is the binary's name in the rankers directory.
	File string `json:"file"`
	// SHA256 is the hex SHA-256 of the binary.
	SHA256 string `json:"sha256"`
}

// FileSHA256 returns the hex SHA-256 of a file, as a Manifest wants it.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// discover reads the manifest in dir and returns a ranker for every entry
// and every unlisted executable; those that may not run are REFUSED.
func (h *Host) discover(dir string) ([]*ranker, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("ranker host: rankers directory: %w", err)
	}
	man := Manifest{}
	raw, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// No manifest: every binary is refused below.
	case err != nil:
		return nil, fmt.Errorf("ranker host: %w", err)
	default:
		if err := json.Unmarshal(raw, &man); err != nil {
			return nil, fmt.Errorf("ranker host: %s: %w", filepath.Join(dir, ManifestFile), err)
		}
	}

	var out []*ranker
	listed := map[string]bool{}
	names := make([]string, 0, len(man))
	for name := range man {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		e := man[name]
		path := filepath.Join(dir, e.File)
		r := &ranker{h: h, name: name, path: path}
		out = append(out, r)
		listed[e.File] = true
		if e.File == "" || filepath.Base(e.File) != e.File || strings.HasPrefix(e.File, ".") {
			r.refuse(fmt.Errorf("%w: %q: manifest file %q must be a plain file name in %s", ErrRefused, name, e.File, dir))
			continue
		}
		want, err := hex.DecodeString(e.SHA256)
		if err != nil || len(want) != sha256.Size {
			r.refuse(fmt.Errorf("%w: %q: manifest sha256 %q is not a hex SHA-256", ErrRefused, name, e.SHA256))
			continue
		}
		got, err := FileSHA256(path)
		if err != nil {
			r.refuse(fmt.Errorf("%w: %q: %w", ErrRefused, name, err))
			continue
		}
		if got != strings.ToLower(e.SHA256) {
			r.refuse(fmt.Errorf("%w: %q: %s has SHA-256 %s, the manifest pins %s", ErrRefused, name, path, got, strings.ToLower(e.SHA256)))
			continue
		}
		r.checksum = want
	}
	for _, de := range entries {
		if de.Name() == ManifestFile || listed[de.Name()] || de.IsDir() {
			continue
		}
		info, err := de.Info()
		if err != nil || !info.Mode().IsRegular() || info.Mode().Perm()&0o111 == 0 {
			continue // not an executable: none of our business
		}
		r := &ranker{h: h, name: de.Name(), path: filepath.Join(dir, de.Name())}
		r.refuse(fmt.Errorf("%w: %s is not listed in %s", ErrRefused, r.path, ManifestFile))
		out = append(out, r)
	}
	return out, nil
}
