package secrets

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/claire-de-binare/cdb-setup/internal/manifest"
	"github.com/claire-de-binare/cdb-setup/internal/platform"
)

// The catalogue cache: reading and merging the compose files with compose-go
// is ~95% of a no-op `secrets init` or `secrets check` (docs/performance.md),
// yet the answer only changes when one of its inputs does. So Discover keeps
// each catalogue it computed in the state folder, named by a hash of every
// input, and a later run with the same inputs reads it back instead of
// parsing. Any changed byte of any input gives another name: a miss, which
// parses with compose-go exactly as without the cache.
//
// The inputs hashed (catalogueKey):
//   - the cdb-setup binary (path, size, modification time): another build may
//     read the files differently;
//   - the repo path, the secrets folder, the project name and the manifest;
//   - each selected compose file's name and bytes;
//   - the value (or absence) of every variable the files mention ($X, ${X…}),
//     as compose would receive it (ComposeEnv), and every COMPOSE_* variable.
//
// Files that pull in other files (include:, extends: file:) are not cached:
// their full input set is not known without parsing.

// cacheFolder is the cache's folder inside the state folder.
const cacheFolder = "catalogues"

// cacheFormat changes when the key's recipe or the entry's shape does.
const cacheFormat = "cdb-setup catalogue cache v1\n"

// maxCacheEntries bounds the folder: each profile/overlay selection and each
// edit of the files makes an entry; the oldest go first.
const maxCacheEntries = 32

// varRef matches every variable reference compose interpolates ($NAME,
// ${NAME}, ${NAME:-default}, ${NAME?err}); `$$NAME` (an escaped dollar) also
// matches, which only adds a variable to the key.
var varRef = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)`)

// pullsInFiles matches the compose keys that make compose read files other
// than the selected ones.
var pullsInFiles = regexp.MustCompile(`(?m)^\s*(include|extends)\s*:`)

// pullsIn reports whether a compose file may read other files (the cheap
// substring test first: the regexp backtracks over every line).
func pullsIn(b []byte) bool {
	return (bytes.Contains(b, []byte("include")) || bytes.Contains(b, []byte("extends"))) && pullsInFiles.Match(b)
}

// cacheInputs is what catalogueKey hashes, gathered once.
type cacheInputs struct {
	repo, dir, project string
	manifest           *manifest.Manifest
	files              []string
	contents           [][]byte
	env                map[string]string
}

// readCacheInputs reads the compose files. ok is false when the selection
// cannot be cached (a file includes others, or cannot be read: the parse
// reports that).
func readCacheInputs(repo string, files []string) (contents [][]byte, ok bool) {
	contents = make([][]byte, len(files))
	for i, f := range files {
		b, err := os.ReadFile(filepath.Join(repo, filepath.FromSlash(f)))
		if err != nil || pullsIn(b) {
			return nil, false
		}
		contents[i] = b
	}
	return contents, true
}

// catalogueKey is the hex SHA-256 of every input of Discover's result.
func catalogueKey(in cacheInputs) (string, error) {
	h := sha256.New()
	field := func(name string, b []byte) {
		// Length-prefixed, so no two different input sets hash the same
		// byte stream.
		fmt.Fprintf(h, "%s %d\n", name, len(b))
		h.Write(b)
		h.Write([]byte{'\n'})
	}
	h.Write([]byte(cacheFormat))
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	st, err := os.Stat(exe)
	if err != nil {
		return "", err
	}
	field("binary", []byte(fmt.Sprintf("%s %d %d", exe, st.Size(), st.ModTime().UnixNano())))
	field("repo", []byte(in.repo))
	field("dir", []byte(in.dir))
	field("project", []byte(in.project))
	mb, err := json.Marshal(in.manifest)
	if err != nil {
		return "", err
	}
	field("manifest", mb)
	vars := map[string]bool{}
	for i, f := range in.files {
		field("file", []byte(f))
		field("content", in.contents[i])
		for _, m := range varRef.FindAllSubmatch(in.contents[i], -1) {
			vars[string(m[1])] = true
		}
	}
	for k := range in.env {
		if strings.HasPrefix(strings.ToUpper(k), "COMPOSE_") {
			vars[k] = true
		}
	}
	names := make([]string, 0, len(vars))
	for k := range vars {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if v, ok := in.env[k]; ok {
			field("var "+k, []byte(v))
		} else {
			field("unset "+k, nil)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// readCachedCatalogue returns the catalogue stored under key, or nil. An
// entry that does not decode, or names a file outside dir, is a miss: the
// parse then rewrites it.
func readCachedCatalogue(cacheDir, key, dir string) *Catalogue {
	b, err := os.ReadFile(filepath.Join(cacheDir, key+".json"))
	if err != nil {
		return nil
	}
	c, err := decodeCachedCatalogue(b, dir)
	if err != nil {
		return nil
	}
	return c
}

// decodeCachedCatalogue parses a cache entry and checks it the way Discover
// checks the compose files: every secret a plain file directly inside dir.
func decodeCachedCatalogue(b []byte, dir string) (*Catalogue, error) {
	var c Catalogue
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, err
	}
	if c.Dir != dir {
		return nil, errors.New("cache entry is for another secrets folder")
	}
	for _, s := range c.Secrets {
		name, err := fileInDir(filepath.Join(dir, s.Name), dir)
		if err != nil || name != s.Name || s.Path != filepath.Join(dir, s.Name) || len(s.Keys) == 0 {
			return nil, fmt.Errorf("cache entry names an unusable secret %q", s.Name)
		}
	}
	return &c, nil
}

// writeCachedCatalogue stores c under key; failing to is not an error (the
// next run parses again), so nothing is returned.
func writeCachedCatalogue(cacheDir, key string, c *Catalogue) {
	b, err := json.Marshal(c)
	if err != nil {
		return
	}
	if _, err := platform.EnsurePrivateDir(cacheDir, false); err != nil {
		return
	}
	if platform.WriteFileAtomic(filepath.Join(cacheDir, key+".json"), b, 0o600) != nil {
		return
	}
	pruneCache(cacheDir)
}

// pruneCache removes the oldest entries beyond maxCacheEntries.
func pruneCache(cacheDir string) {
	ents, err := os.ReadDir(cacheDir)
	if err != nil {
		return
	}
	type entry struct {
		name string
		info fs.FileInfo
	}
	var all []entry
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		if info, err := e.Info(); err == nil {
			all = append(all, entry{e.Name(), info})
		}
	}
	if len(all) <= maxCacheEntries {
		return
	}
	sort.Slice(all, func(i, j int) bool { return all[i].info.ModTime().After(all[j].info.ModTime()) })
	for _, e := range all[maxCacheEntries:] {
		os.Remove(filepath.Join(cacheDir, e.name))
	}
}

// CacheDir is the catalogue cache's folder inside the state folder
// stateDir (uninstall removes it).
func CacheDir(stateDir string) string { return filepath.Join(stateDir, cacheFolder) }
