package secrets

import (
	"context"
	"encoding/json"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/manifest"
	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

// cacheRepo is a stack the cache tests run on: the fixture modelled on CDB,
// the real CDB repository and the demo.
type cacheRepo struct {
	name, repo string
}

func cacheRepos(t *testing.T, withReal bool) []cacheRepo {
	t.Helper()
	fixture, _ := filepath.Abs("testdata/cdbrepo")
	demo, _ := filepath.Abs("../../examples/demo")
	out := []cacheRepo{{"fixture", fixture}, {"demo", demo}}
	if withReal {
		out = append(out, cacheRepo{"cdb", ""})
	}
	return out
}

// path is the repo; the real CDB repository's is resolved inside the
// subtest, so that only that subtest skips when it is absent.
func (r cacheRepo) path(t *testing.T) string {
	t.Helper()
	if r.repo == "" {
		return testenv.CDBReference(t)
	}
	return r.repo
}

// selections is every profile with every subset of the overlays (distinct
// file lists; Discover's default, no files, is the default profile with
// every overlay).
func selections(t *testing.T, m *manifest.Manifest) [][]string {
	t.Helper()
	var overlays, profiles []string
	for o := range m.Overlays {
		overlays = append(overlays, o)
	}
	for p := range m.Profiles {
		profiles = append(profiles, p)
	}
	sort.Strings(overlays)
	sort.Strings(profiles)
	var out [][]string
	seen := map[string]bool{}
	for _, p := range profiles {
		for mask := 0; mask < 1<<len(overlays); mask++ {
			var sel []string
			for i, o := range overlays {
				if mask&(1<<i) != 0 {
					sel = append(sel, o)
				}
			}
			files, err := m.ComposeFiles(manifest.Selection{Profile: p, Overlays: sel})
			if err != nil {
				t.Fatalf("profile %s overlays %v: %v", p, sel, err)
			}
			if k := strings.Join(files, ","); !seen[k] {
				seen[k] = true
				out = append(out, files)
			}
		}
	}
	return out
}

// cacheEnv is a user environment that sets some of the variables the files
// interpolate.
func cacheEnv() platform.MapEnvironment {
	return platform.MapEnvironment{"POSTGRES_USER": "alice", "STACK_NAME": "mystack", "UNRELATED": "x"}
}

func loadManifest(t *testing.T, repo string) *manifest.Manifest {
	t.Helper()
	m, _, err := manifest.Load(repo)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestCatalogueCacheHitEqualsFreshParse: for every profile and overlay
// selection of the CDB files (fixture and the real repository) and the demo,
// the first Discover with a cache parses (a miss) and the second answers from
// the cache (a hit), and both equal a Discover without a cache.
func TestCatalogueCacheHitEqualsFreshParse(t *testing.T) {
	for _, r := range cacheRepos(t, true) {
		t.Run(r.name, func(t *testing.T) {
			r.repo = r.path(t)
			m := loadManifest(t, r.repo)
			dir := filepath.Join(testenv.TempDir(t), "secrets")
			cacheDir := filepath.Join(testenv.TempDir(t), "state", cacheFolder)
			keys := map[string]string{}
			failures := 0
			all := selections(t, m)
			for _, files := range all {
				opts := DiscoverOptions{Repo: r.repo, Manifest: m, Files: files, Dir: dir, Env: cacheEnv()}
				fresh, err := Discover(context.Background(), opts)
				if err != nil {
					// Some combinations do not load (the real prod profile
					// with network-prod.yml alone): the cached path must
					// fail too, every time, and store nothing (compose-go
					// names whichever bad service it meets first, so the
					// messages may differ).
					opts.CacheDir = cacheDir
					for i := range 2 {
						if _, hit, cerr := discoverFor(t, opts); cerr == nil || hit {
							t.Fatalf("%v run %d: hit %v err %v, want the fresh parse's error %v", files, i, hit, cerr, err)
						}
					}
					failures++
					continue
				}
				if len(fresh.Secrets) == 0 {
					t.Fatalf("%v: no secrets: the comparison would prove nothing", files)
				}
				opts.CacheDir = cacheDir
				for i, wantHit := range []bool{false, true, true} {
					got, hit, err := discoverFor(t, opts)
					if err != nil {
						t.Fatalf("%v run %d: %v", files, i, err)
					}
					if hit != wantHit {
						t.Fatalf("%v run %d: cache hit %v, want %v", files, i, hit, wantHit)
					}
					if !reflect.DeepEqual(got, fresh) {
						t.Fatalf("%v run %d (hit %v): catalogue differs from a fresh parse:\n got %+v\nwant %+v", files, i, hit, got, fresh)
					}
				}
				// Distinct selections never share an entry.
				k := keyFor(t, opts)
				if prev, ok := keys[k]; ok && prev != strings.Join(fresh.Files, ",") {
					t.Fatalf("selections %s and %v have the same key", prev, fresh.Files)
				}
				keys[k] = strings.Join(fresh.Files, ",")
			}
			t.Logf("%d selections: %d compared, %d do not load", len(all), len(all)-failures, failures)
			if failures*2 > len(all) {
				t.Fatalf("most selections do not load: the comparison proves little")
			}
		})
	}
}

// discoverFor runs Discover's cached path and says whether it hit.
func discoverFor(t *testing.T, opts DiscoverOptions) (*Catalogue, bool, error) {
	t.Helper()
	in := inputsFor(t, opts)
	return discoverCached(context.Background(), opts.CacheDir, in)
}

func inputsFor(t *testing.T, opts DiscoverOptions) cacheInputs {
	t.Helper()
	in, err := discoverInputs(opts)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func keyFor(t *testing.T, opts DiscoverOptions) string {
	t.Helper()
	in := inputsFor(t, opts)
	contents, ok := readCacheInputs(in.repo, in.files)
	if !ok {
		t.Fatalf("%v: not cacheable", in.files)
	}
	in.contents = contents
	k, err := catalogueKey(in)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestCatalogueCacheKeyChangesWithEveryInputByte: changing any byte of any
// compose file changes the key (every byte of the fixture's and the demo's
// files; a seeded sample of the larger real CDB files), and so does every
// other input: a variable the files interpolate, a COMPOSE_* variable, the
// manifest, the repo, the secrets folder, the project. A variable the files
// do not mention does not.
func TestCatalogueCacheKeyChangesWithEveryInputByte(t *testing.T) {
	for _, r := range cacheRepos(t, true) {
		t.Run(r.name, func(t *testing.T) {
			r.repo = r.path(t)
			m := loadManifest(t, r.repo)
			opts := DiscoverOptions{Repo: r.repo, Manifest: m, Dir: filepath.Join(testenv.TempDir(t), "secrets"), Env: cacheEnv()}
			in := inputsFor(t, opts)
			contents, ok := readCacheInputs(in.repo, in.files)
			if !ok {
				t.Fatal("not cacheable")
			}
			in.contents = contents
			base := mustKey(t, in)
			rng := rand.New(rand.NewSource(15))
			for fi, content := range contents {
				positions := make([]int, 0, len(content))
				if r.name == "cdb" && len(content) > 256 {
					for range 256 {
						positions = append(positions, rng.Intn(len(content)))
					}
				} else {
					for p := range content {
						positions = append(positions, p)
					}
				}
				for _, p := range positions {
					changed := slices.Clone(content)
					changed[p]++
					mut := in
					mut.contents = slices.Clone(contents)
					mut.contents[fi] = changed
					if mustKey(t, mut) == base {
						t.Fatalf("%s byte %d changed (%q → %q): same key", in.files[fi], p, content[p], changed[p])
					}
				}
			}

			vars := map[string]bool{"COMPOSE_PROFILES": true}
			for _, c := range contents {
				for _, m := range varRef.FindAllSubmatch(c, -1) {
					vars[string(m[1])] = true
				}
			}
			if len(vars) < 2 {
				t.Fatalf("the files mention no variables: %v", vars)
			}
			for v := range vars {
				for _, val := range []string{"changed", ""} {
					mut := in
					mut.env = maps(in.env)
					if in.env[v] == val {
						continue
					}
					mut.env[v] = val
					if mustKey(t, mut) == base {
						t.Fatalf("variable %s=%q: same key", v, val)
					}
				}
				if _, set := in.env[v]; set {
					mut := in
					mut.env = maps(in.env)
					delete(mut.env, v)
					if mustKey(t, mut) == base {
						t.Fatalf("variable %s unset: same key", v)
					}
				}
			}
			unrelated := in
			unrelated.env = maps(in.env)
			unrelated.env["CDB_SETUP_UNRELATED_TEST_VAR"] = "y"
			if mustKey(t, unrelated) != base {
				t.Fatal("a variable no file mentions changed the key: every shell would miss")
			}

			others := map[string]func(*cacheInputs){
				"repo":    func(c *cacheInputs) { c.repo += "x" },
				"dir":     func(c *cacheInputs) { c.dir += "x" },
				"project": func(c *cacheInputs) { c.project += "x" },
				"manifest": func(c *cacheInputs) {
					mm := *c.manifest
					mm.Secrets = map[string]manifest.Secret{}
					for k, v := range c.manifest.Secrets {
						v.Prompt += "!"
						mm.Secrets[k] = v
					}
					c.manifest = &mm
				},
				"file name": func(c *cacheInputs) {
					c.files = slices.Clone(c.files)
					c.files[0] = "./" + c.files[0]
				},
			}
			for name, change := range others {
				mut := in
				change(&mut)
				if mustKey(t, mut) == base {
					t.Fatalf("%s changed: same key", name)
				}
			}
		})
	}
}

func maps(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func mustKey(t *testing.T, in cacheInputs) string {
	t.Helper()
	k, err := catalogueKey(in)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestCatalogueCacheMissAfterEditParsesTheEditedFiles: on disk, an edited
// compose file (a secret added), a changed interpolated variable and a
// changed manifest each miss, and the answer is the fresh parse of the new
// inputs, not the cached one.
func TestCatalogueCacheMissAfterEditParsesTheEditedFiles(t *testing.T) {
	src, _ := filepath.Abs("testdata/cdbrepo")
	repo := filepath.Join(testenv.TempDir(t), "repo")
	copyTree(t, src, repo)
	m := loadManifest(t, repo)
	dir := filepath.Join(testenv.TempDir(t), "secrets")
	cacheDir := filepath.Join(testenv.TempDir(t), "state", cacheFolder)
	opts := DiscoverOptions{Repo: repo, Manifest: m, Files: []string{"infrastructure/compose/base.yml"}, Dir: dir, Env: cacheEnv(), CacheDir: cacheDir}
	check := func(what string, wantHit bool) *Catalogue {
		t.Helper()
		got, hit, err := discoverFor(t, opts)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if hit != wantHit {
			t.Fatalf("%s: hit %v, want %v", what, hit, wantHit)
		}
		noCache := opts
		noCache.CacheDir = ""
		fresh, err := Discover(context.Background(), noCache)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, fresh) {
			t.Fatalf("%s: cached answer differs from a fresh parse:\n got %+v\nwant %+v", what, got, fresh)
		}
		return got
	}
	before := check("first", false)
	check("again", true)

	base := filepath.Join(repo, "infrastructure", "compose", "base.yml")
	b, err := os.ReadFile(base)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(b), "\nsecrets:\n", "\nsecrets:\n  extra_token:\n    file: ${SECRETS_PATH}/EXTRA_TOKEN\n", 1)
	if edited == string(b) {
		t.Fatal("fixture base.yml has no top-level secrets: block")
	}
	if err := os.WriteFile(base, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	after := check("edited file", false)
	if _, ok := after.Get("EXTRA_TOKEN"); !ok || len(after.Secrets) != len(before.Secrets)+1 {
		t.Fatalf("edited file: got %v, want the new EXTRA_TOKEN too", after.Names())
	}
	check("edited file again", true)

	opts.Env = platform.MapEnvironment{"POSTGRES_USER": "bob"}
	check("changed variable", false)

	mm := *m
	mm.Secrets = map[string]manifest.Secret{}
	for k, v := range m.Secrets {
		mm.Secrets[k] = v
	}
	mm.Secrets["EXTRA_TOKEN"] = manifest.Secret{Kind: manifest.KindExternal, Prompt: "Extra token"}
	opts.Manifest = &mm
	got := check("changed manifest", false)
	if s, _ := got.Get("EXTRA_TOKEN"); !s.Described {
		t.Fatal("changed manifest: EXTRA_TOKEN is not described by it")
	}
}

// TestCatalogueCacheRefusesATamperedEntry: an entry that names a file
// outside the secrets folder (or does not decode) is a miss, and the parse
// replaces it.
func TestCatalogueCacheRefusesATamperedEntry(t *testing.T) {
	repo, _ := filepath.Abs("testdata/cdbrepo")
	m := loadManifest(t, repo)
	dir := filepath.Join(testenv.TempDir(t), "secrets")
	cacheDir := filepath.Join(testenv.TempDir(t), "state", cacheFolder)
	opts := DiscoverOptions{Repo: repo, Manifest: m, Dir: dir, Env: cacheEnv(), CacheDir: cacheDir}
	want, _, err := discoverFor(t, opts)
	if err != nil {
		t.Fatal(err)
	}
	entry := filepath.Join(cacheDir, keyFor(t, opts)+".json")
	for name, tamper := range map[string]func(c *Catalogue) []byte{
		"outside": func(c *Catalogue) []byte {
			c.Secrets[0].Name = "../escape"
			c.Secrets[0].Path = filepath.Join(dir, "../escape")
			b, _ := json.Marshal(c)
			return b
		},
		"path elsewhere": func(c *Catalogue) []byte {
			c.Secrets[0].Path = "/etc/passwd"
			b, _ := json.Marshal(c)
			return b
		},
		"garbage": func(*Catalogue) []byte { return []byte("{not json") },
	} {
		c, _, err := discoverFor(t, opts)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(entry, tamper(c), 0o600); err != nil {
			t.Fatal(err)
		}
		got, hit, err := discoverFor(t, opts)
		if err != nil || hit || !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: hit %v err %v, want a miss that parses", name, hit, err)
		}
		if _, hit, _ := discoverFor(t, opts); !hit {
			t.Fatalf("%s: the parse did not replace the entry", name)
		}
	}
}

// TestCatalogueCacheSkipsFilesThatIncludeOthers: a selection whose files
// include others is never cached (its inputs are not known without parsing).
func TestCatalogueCacheSkipsFilesThatIncludeOthers(t *testing.T) {
	repo := testenv.TempDir(t)
	os.WriteFile(filepath.Join(repo, "other.yml"), []byte("services:\n  b:\n    image: x\n"), 0o644)
	os.WriteFile(filepath.Join(repo, "main.yml"), []byte("include:\n  - other.yml\nservices:\n  a:\n    image: x\n    secrets: [s]\nsecrets:\n  s:\n    file: ${SECRETS_PATH}/S\n"), 0o644)
	m := &manifest.Manifest{Project: "inc", Secrets: map[string]manifest.Secret{}}
	dir := filepath.Join(testenv.TempDir(t), "secrets")
	cacheDir := filepath.Join(testenv.TempDir(t), "cache")
	in := cacheInputs{repo: repo, dir: dir, project: "inc", manifest: m, files: []string{"main.yml"}, env: map[string]string{"SECRETS_PATH": dir}}
	for i := range 2 {
		c, hit, err := discoverCached(context.Background(), cacheDir, in)
		if err != nil {
			t.Fatal(err)
		}
		if hit || len(c.Secrets) != 1 {
			t.Fatalf("run %d: hit %v secrets %v", i, hit, c.Names())
		}
	}
	if ents, _ := os.ReadDir(cacheDir); len(ents) != 0 {
		t.Fatalf("cache has %d entries, want none", len(ents))
	}
}

func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// FuzzCatalogueCacheKey: a compose file changed at any position to any other
// byte gives another key.
func FuzzCatalogueCacheKey(f *testing.F) {
	b, _ := os.ReadFile("testdata/cdbrepo/infrastructure/compose/base.yml")
	f.Add(b, uint(0), byte('x'))
	f.Add([]byte("services: {}\n"), uint(3), byte(0))
	f.Fuzz(func(t *testing.T, content []byte, pos uint, to byte) {
		if len(content) == 0 {
			return
		}
		p := int(pos % uint(len(content)))
		if content[p] == to {
			return
		}
		in := cacheInputs{repo: "/r", dir: "/d", project: "p", manifest: manifest.Default(), files: []string{"a.yml"}, contents: [][]byte{content}, env: map[string]string{"A": "1"}}
		k1 := mustKey(t, in)
		changed := slices.Clone(content)
		changed[p] = to
		in.contents = [][]byte{changed}
		if mustKey(t, in) == k1 {
			t.Fatalf("byte %d → %q: same key", p, to)
		}
	})
}

// FuzzDecodeCachedCatalogue: whatever a cache entry holds, decoding never
// panics and never accepts a secret outside the folder.
func FuzzDecodeCachedCatalogue(f *testing.F) {
	dir := filepath.Join(os.TempDir(), "fuzzsecrets")
	good, _ := json.Marshal(&Catalogue{Dir: dir, Secrets: []Secret{{Name: "A", Keys: []string{"a"}, Path: filepath.Join(dir, "A")}}})
	f.Add(good)
	f.Add([]byte(`{"dir":"/x","secrets":[{"name":"../a","compose_keys":["a"],"path":"/a"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := decodeCachedCatalogue(b, dir)
		if err != nil {
			return
		}
		for _, s := range c.Secrets {
			if filepath.Dir(s.Path) != dir || filepath.Base(s.Path) != s.Name {
				t.Fatalf("accepted %q at %q", s.Name, s.Path)
			}
		}
	})
}

// BenchmarkDiscover compares a catalogue cache hit with the parse it
// replaces (the fixture modelled on CDB, every overlay).
func BenchmarkDiscover(b *testing.B) {
	repo, _ := filepath.Abs("testdata/cdbrepo")
	m, _, err := manifest.Load(repo)
	if err != nil {
		b.Fatal(err)
	}
	dir := filepath.Join(b.TempDir(), "secrets")
	for _, bc := range []struct {
		name  string
		cache string
	}{{"parse", ""}, {"cache-hit", filepath.Join(b.TempDir(), cacheFolder)}} {
		b.Run(bc.name, func(b *testing.B) {
			opts := DiscoverOptions{Repo: repo, Manifest: m, Dir: dir, Env: cacheEnv(), CacheDir: bc.cache}
			if _, err := Discover(context.Background(), opts); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for range b.N {
				if _, err := Discover(context.Background(), opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
