#!/usr/bin/env bash
# release-check.sh: run the whole release pipeline offline and check what it
# produced, the way users will consume it.
#
#   scripts/release-check.sh            # from anywhere; CI runs it via scripts/test.sh
#
# 1. installs goreleaser v2.15.1 and cyclonedx-gomod (SBOMs) into .cache/bin
#    through the Go module proxy when they are missing or another version;
# 2. `goreleaser check` must pass with no deprecation notice;
# 3. `goreleaser release --snapshot --clean --skip=sign` (no network beyond the
#    Go module proxy: nothing is published, no GitHub API is called), timed;
# 4. asserts on dist/: every target archive, checksums.txt against the files,
#    the Homebrew cask and the Scoop manifest against archive names and hashes,
#    the SBOMs, the linux/amd64 binary's `version` output, the .deb contents and
#    an install of the .deb into a throwaway root.
#
# The expected version is read from dist/metadata.json, never hard-coded: with
# no tag it is a snapshot such as 0.0.1-SNAPSHOT-<short commit>.
# dist/, completions/ and manpages/ are git-ignored; the work tree stays clean.
#
# Environment: RELEASE_CHECK_PARALLELISM (goreleaser --parallelism; default:
# goreleaser's, the number of CPUs).
set -euo pipefail

GORELEASER_VERSION=2.15.1
CYCLONEDX_GOMOD_VERSION=v1.10.0
PROJECT=cdb-setup
TARGETS="linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64"

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
BIN="$REPO/.cache/bin"
DIST="$REPO/dist"
mkdir -p "$BIN"
export PATH="$BIN:$PATH"

step() { printf '\n== %s\n' "$*"; }
ok() { printf '  ok  %s\n' "$*"; }
fail() {
	printf 'release-check: FAIL: %s\n' "$*" >&2
	exit 1
}
need() { command -v "$1" >/dev/null 2>&1 || fail "$1 is required ($2)"; }

need go "the Go toolchain"
need git "goreleaser reads the commit"
need python3 "parses the JSON and Ruby outputs"
need tar "lists the archives"
need unzip "lists the Windows archives"
need sha256sum "coreutils"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/release-check.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# --- tools ------------------------------------------------------------------
step "tools"
# goreleaser: the one on PATH (.cache/bin first) if it is v2.15.1, else built
# into .cache/bin through the Go module proxy.
gr_version() { { "$1" --version 2>/dev/null || true; } | sed -n 's/^GitVersion:[[:space:]]*v\{0,1\}//p'; }
GORELEASER=$(command -v goreleaser || true)
if [[ -z "$GORELEASER" || "$(gr_version "$GORELEASER")" != "$GORELEASER_VERSION" ]]; then
	echo "installing goreleaser v$GORELEASER_VERSION into $BIN (a cold build takes several minutes)"
	GOBIN="$BIN" go install "github.com/goreleaser/goreleaser/v2@v$GORELEASER_VERSION"
	GORELEASER="$BIN/goreleaser"
	[[ "$(gr_version "$GORELEASER")" == "$GORELEASER_VERSION" ]] ||
		fail "$GORELEASER reports '$(gr_version "$GORELEASER")', want $GORELEASER_VERSION"
fi
ok "goreleaser $GORELEASER_VERSION ($GORELEASER)"
# cyclonedx-gomod writes the SBOMs (see sboms in .goreleaser.yaml).
if ! command -v cyclonedx-gomod >/dev/null 2>&1; then
	echo "installing cyclonedx-gomod $CYCLONEDX_GOMOD_VERSION into $BIN"
	GOBIN="$BIN" go install "github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod@$CYCLONEDX_GOMOD_VERSION"
fi
ok "cyclonedx-gomod ($(command -v cyclonedx-gomod))"

# Publishing tokens play no part in a snapshot; two of them at once would make
# goreleaser refuse to pick a forge.
unset GITLAB_TOKEN GITEA_TOKEN

# Without a remote, goreleaser's git step fails and a snapshot then stamps
# commit "none" everywhere. A tag push always has origin, so give this run one
# the way git allows per process (environment, not .git/config: nothing is
# written and no network is used; goreleaser only reads the URL).
if [[ -z "$(git remote)" ]]; then
	n=${GIT_CONFIG_COUNT:-0}
	export "GIT_CONFIG_KEY_$n=remote.origin.url"
	export "GIT_CONFIG_VALUE_$n=https://github.com/claire-de-binare/cdb-setup.git"
	export GIT_CONFIG_COUNT=$((n + 1))
	echo "  (no git remote: using origin=https://github.com/claire-de-binare/cdb-setup.git for this run only)"
fi

# --- goreleaser check ---------------------------------------------------------
step "goreleaser check"
if ! check_out=$("$GORELEASER" check 2>&1); then
	printf '%s\n' "$check_out"
	fail "goreleaser check failed"
fi
if grep -qi 'deprecat' <<<"$check_out"; then
	printf '%s\n' "$check_out"
	fail "goreleaser check reports deprecated properties"
fi
ok "valid, no deprecation notices"

# --- snapshot build -----------------------------------------------------------
step "goreleaser release --snapshot --clean --skip=sign"
args=(release --snapshot --clean --skip=sign)
[[ -n "${RELEASE_CHECK_PARALLELISM:-}" ]] && args+=(--parallelism "$RELEASE_CHECK_PARALLELISM")
log="$TMP/goreleaser.log"
t0=$(date +%s%N)
if ! "$GORELEASER" "${args[@]}" >"$log" 2>&1; then
	tail -n 60 "$log"
	fail "snapshot release failed (full log above)"
fi
t1=$(date +%s%N)
build_secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
if grep -qi 'deprecat' "$log"; then
	grep -i 'deprecat' "$log"
	fail "the snapshot build printed deprecation notices"
fi
ok "built in ${build_secs}s"

[[ -f "$DIST/metadata.json" && -f "$DIST/artifacts.json" ]] || fail "dist/metadata.json or dist/artifacts.json missing"
# artifact TYPE GOOS GOARCH SUFFIX: path of the one such artifact in dist/artifacts.json.
artifact() {
	python3 -c '
import json, sys
t, goos, goarch, suffix = sys.argv[2:6]
for a in json.load(open(sys.argv[1])):
    if a.get("type") == t and a.get("goos") == goos and a.get("goarch") == goarch and a["path"].endswith(suffix):
        print(a["path"])
        break' "$DIST/artifacts.json" "$@"
}
meta() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$DIST/metadata.json" "$1"; }
VERSION=$(meta version)
COMMIT=$(meta commit)
[[ -n "$VERSION" ]] || fail "no version in dist/metadata.json"
[[ "$COMMIT" == "$(git rev-parse HEAD)" ]] || fail "dist/metadata.json has commit '$COMMIT', HEAD is $(git rev-parse HEAD)"
ok "version $VERSION, commit $COMMIT"

# --- dist/ against what users download -----------------------------------------
step "archives, checksums, Homebrew cask, Scoop manifest, SBOMs, packages"
python3 - "$DIST" "$PROJECT" "$VERSION" "$TARGETS" <<'PY'
import hashlib, json, os, re, sys, tarfile, zipfile

dist, project, version, targets = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split()
errors = []
def check(cond, msg):
    if not cond:
        errors.append(msg)
    return cond
def ok(msg):
    print("  ok  " + msg)
def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()

arts = json.load(open(os.path.join(dist, "artifacts.json")))
def of_type(t):
    return [a for a in arts if a.get("type") == t]

# Binaries and archives: one per target, with the documented names.
archives = {}
for target in targets:
    goos, goarch = target.split("/")
    exe = project + (".exe" if goos == "windows" else "")
    bins = [a for a in of_type("Binary") if a["goos"] == goos and a["goarch"] == goarch]
    if check(len(bins) == 1, f"{target}: want 1 binary artifact, got {len(bins)}"):
        check(os.path.isfile(bins[0]["path"]), f"{target}: binary {bins[0]['path']} missing")
    ext = "zip" if goos == "windows" else "tar.gz"
    name = f"{project}_{version}_{goos}_{goarch}.{ext}"
    path = os.path.join(dist, name)
    match = [a for a in of_type("Archive") if a["name"] == name]
    if not (check(len(match) == 1, f"{target}: archive {name} not in artifacts.json")
            and check(os.path.isfile(path), f"{target}: {path} missing")):
        continue
    archives[target] = name
    if ext == "zip":
        with zipfile.ZipFile(path) as z:
            members = set(z.namelist())
    else:
        with tarfile.open(path) as t:
            members = set(m.name for m in t.getmembers())
    want = {exe, "LICENSE", "docs/install.md", "manpages/cdb-setup.1.gz", "manpages/cdb-setup-version.1.gz",
            "completions/cdb-setup.bash", "completions/cdb-setup.zsh",
            "completions/cdb-setup.fish", "completions/cdb-setup.ps1"}
    missing = sorted(want - members)
    check(not missing, f"{name} lacks {missing}")
ok(f"{len(archives)} archives, each with the binary, LICENSE, completions and man pages")

# checksums.txt: every line matches its file; every downloadable is listed.
sums = {}
with open(os.path.join(dist, "checksums.txt")) as f:
    for line in f:
        digest, name = line.split()
        sums[name] = digest
for name, digest in sums.items():
    p = os.path.join(dist, name)
    if check(os.path.isfile(p), f"checksums.txt lists {name}, which is not in dist/"):
        check(sha256(p) == digest, f"checksums.txt: {name} does not match")
downloads = [a["name"] for a in arts if a.get("type") in ("Archive", "Linux Package", "SBOM")]
unlisted = sorted(set(downloads) - set(sums))
check(not unlisted, f"not in checksums.txt: {unlisted}")
ok(f"checksums.txt: {len(sums)} sha256 lines, all match, every archive/package/SBOM listed")

# Linux packages: .deb and .rpm for both architectures.
pkgs = of_type("Linux Package")
for goarch in ("amd64", "arm64"):
    for fmt in ("deb", "rpm"):
        m = [a for a in pkgs if a["goarch"] == goarch and a["name"].endswith("." + fmt)]
        check(len(m) == 1 and os.path.isfile(m[0]["path"]), f"linux/{goarch}: no .{fmt} package")
ok("packages: " + ", ".join(sorted(a["name"] for a in pkgs)))

# Homebrew cask: version, one url+sha256 per darwin/linux archive, the
# quarantine step in its non-deprecated form.
casks = of_type("Homebrew Cask")
if check(len(casks) == 1, f"want 1 Homebrew cask, got {len(casks)}"):
    rb = open(casks[0]["path"]).read()
    check(f'version "{version}"' in rb, f"cask: no version \"{version}\"")
    pairs = re.findall(r'url "([^"]+)"[^\n]*\n\s*sha256 "([0-9a-f]{64})"', rb)
    got = {}
    for url, digest in pairs:
        url = url.replace("#{version}", version)
        check(url.startswith("https://github.com/claire-de-binare/cdb-setup/releases/download/"),
              f"cask: unexpected url {url}")
        got[url.rsplit("/", 1)[-1]] = digest
    for target, name in archives.items():
        if target.startswith("windows/"):
            continue
        if check(name in got, f"cask: no url for {name}"):
            check(got[name] == sums.get(name), f"cask: sha256 of {name} differs from checksums.txt")
    check(len(got) == 4, f"cask: want 4 url/sha256 pairs (darwin+linux x amd64+arm64), got {len(got)}")
    check('binary "cdb-setup"' in rb, "cask: no binary stanza")
    check('manpage "manpages/cdb-setup.1.gz"' in rb, "cask: no manpage stanza")
    for shell in ("bash", "zsh", "fish"):
        check(f'{shell}_completion "completions/cdb-setup.{shell}"' in rb, f"cask: no {shell}_completion")
    check("postflight_steps do" in rb and '"{{staged_path}}/cdb-setup"' in rb and "com.apple.quarantine" in rb,
          "cask: quarantine removal (postflight_steps with {{staged_path}}) missing")
    check(not re.search(r"^\s*(pre|post)flight do", rb, re.M), "cask: uses Homebrew's deprecated (pre|post)flight block")
    ok(f"Homebrew cask {os.path.relpath(casks[0]['path'], dist)}: version, 4 archives with matching sha256, quarantine step")

# Scoop manifest: both Windows archives with their hashes.
scoops = of_type("Scoop Manifest")
if check(len(scoops) == 1, f"want 1 Scoop manifest, got {len(scoops)}"):
    m = json.load(open(scoops[0]["path"]))
    check(m.get("version") == version, f"scoop: version {m.get('version')!r}, want {version!r}")
    arch = m.get("architecture", {})
    for key, goarch in (("64bit", "amd64"), ("arm64", "arm64")):
        name = archives.get(f"windows/{goarch}")
        entry = arch.get(key, {})
        url = entry.get("url", "")
        check(url.rsplit("/", 1)[-1] == name, f"scoop {key}: url {url!r} is not {name}")
        check(entry.get("hash") == sums.get(name), f"scoop {key}: hash differs from checksums.txt")
        check(entry.get("bin") in (["cdb-setup.exe"], "cdb-setup.exe"), f"scoop {key}: bin is {entry.get('bin')!r}")
    ok(f"Scoop manifest {os.path.relpath(scoops[0]['path'], dist)}: version, 64bit+arm64 urls and hashes")

# SBOMs: one CycloneDX document per binary, listing the linked modules.
sboms = of_type("SBOM")
for target in targets:
    goos, goarch = target.split("/")
    name = f"{project}_{version}_{goos}_{goarch}.cdx.json"
    p = os.path.join(dist, name)
    if check(os.path.isfile(p), f"SBOM {name} missing"):
        doc = json.load(open(p))
        check(doc.get("bomFormat") == "CycloneDX", f"{name}: not CycloneDX")
        comps = [c.get("name", "") for c in doc.get("components", [])]
        check(any("spf13/cobra" in c for c in comps), f"{name}: does not list github.com/spf13/cobra")
check(len(sboms) == len(targets), f"want {len(targets)} SBOM artifacts, got {len(sboms)}")
ok(f"{len(sboms)} CycloneDX SBOMs")

# Sizes, for the record; linux/amd64 has a budget (issue 15: 20 MB stripped).
SIZE_BUDGET = 20_000_000
print("\n  stripped binary size per target:")
for target in targets:
    goos, goarch = target.split("/")
    for a in of_type("Binary"):
        if a["goos"] == goos and a["goarch"] == goarch and os.path.isfile(a["path"]):
            size = os.path.getsize(a["path"])
            arch_name = archives.get(target, "")
            asize = os.path.getsize(os.path.join(dist, arch_name)) if arch_name else 0
            print(f"    {target:14} {size / 1048576:6.2f} MiB  ({size} bytes; archive {asize / 1048576:.2f} MiB)")
            if target == "linux/amd64":
                check(size <= SIZE_BUDGET, f"linux/amd64 binary is {size} bytes, over the {SIZE_BUDGET}-byte budget")

if errors:
    print("\n".join("  FAIL " + e for e in errors), file=sys.stderr)
    sys.exit(1)
PY

# --- the linux/amd64 binary -----------------------------------------------------
step "linux/amd64 binary"
bin=$(artifact Binary linux amd64 "")
[[ -x "$bin" ]] || fail "no linux/amd64 binary in dist/"
out=$("$bin" version)
echo "  $out"
[[ "$out" == "cdb-setup $VERSION (commit $COMMIT, built "*", go"*", linux/amd64)" ]] ||
	fail "'cdb-setup version' printed '$out'; want version $VERSION and commit $COMMIT"
json_out=$("$bin" version --json)
python3 - "$json_out" "$VERSION" "$COMMIT" <<'PY' || fail "'cdb-setup version --json' disagrees"
import json, sys
env = json.loads(sys.argv[1])  # the envelope of docs/json.md
assert env["ok"] is True and env["command"] == "cdb-setup version", env
v = env["data"]
assert v["version"] == sys.argv[2] and v["commit"] == sys.argv[3] and v["platform"] == "linux/amd64", v
PY
ok "version and version --json report $VERSION at $COMMIT"
bi=$(go version -m "$bin")
grep -q $'\tbuild\t-trimpath=true' <<<"$bi" || fail "not built with -trimpath"
grep -q $'\tbuild\tCGO_ENABLED=0' <<<"$bi" || fail "not built with CGO_ENABLED=0"
grep -q $'\tpath\tgithub.com/claire-de-binare/cdb-setup/cmd/cdb-setup' <<<"$bi" || fail "module build info missing"
ok "static (CGO_ENABLED=0), -trimpath, module build info readable (go version -m)"
if command -v file >/dev/null 2>&1; then
	desc=$(file -b "$bin")
	[[ "$desc" == *"statically linked"* && "$desc" != *"not stripped"* ]] || fail "file(1) says: $desc"
	ok "file(1): statically linked, stripped"
fi

# --- the .deb ---------------------------------------------------------------------
step ".deb package"
deb=$(artifact "Linux Package" linux amd64 .deb)
[[ -n "$deb" ]] || fail "no amd64 .deb in dist/"
if command -v dpkg-deb >/dev/null 2>&1; then
	listing=$(dpkg-deb -c "$deb")
	for f in ./usr/bin/cdb-setup \
		./usr/share/man/man1/cdb-setup.1.gz \
		./usr/share/man/man1/cdb-setup-version.1.gz \
		./usr/share/bash-completion/completions/cdb-setup \
		./usr/share/zsh/vendor-completions/_cdb-setup \
		./usr/share/fish/vendor_completions.d/cdb-setup.fish \
		./usr/share/doc/cdb-setup/copyright; do
		grep -q " $f\$" <<<"$listing" || fail "$(basename "$deb") does not contain $f"
	done
	ok "$(basename "$deb") contains the binary, man pages, bash/zsh/fish completions, copyright"
	echo "  Package: $(dpkg-deb -f "$deb" Package), Version: $(dpkg-deb -f "$deb" Version), Architecture: $(dpkg-deb -f "$deb" Architecture)"
	if command -v dpkg >/dev/null 2>&1; then
		root="$TMP/root"
		mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
		: >"$root/var/lib/dpkg/status"
		dpkg --root="$root" --log=/dev/null --force-not-root --force-script-chrootless -i "$deb" >"$TMP/dpkg.log" 2>&1 ||
			{ cat "$TMP/dpkg.log"; fail "dpkg -i into a throwaway root failed"; }
		installed=$("$root/usr/bin/cdb-setup" version)
		[[ "$installed" == "cdb-setup $VERSION "* ]] || fail "installed binary printed '$installed'"
		gzip -dc "$root/usr/share/man/man1/cdb-setup.1.gz" | grep -q '^\.TH "CDB-SETUP"' || fail "installed man page has no .TH header"
		status=$(dpkg --root="$root" -s cdb-setup | sed -n 's/^Status: //p')
		[[ "$status" == "install ok installed" ]] || fail "dpkg status is '$status'"
		ok "dpkg -i into a throwaway root: $status; /usr/bin/cdb-setup version -> $installed"
	fi
else
	echo "  (dpkg-deb not installed: .deb contents not checked)"
fi
rpm_file=$(artifact "Linux Package" linux amd64 .rpm)
[[ -n "$rpm_file" ]] || fail "no x86_64 .rpm in dist/"
if command -v rpm >/dev/null 2>&1; then
	rpm -qlp "$rpm_file" 2>/dev/null | grep -qx /usr/bin/cdb-setup || fail "$(basename "$rpm_file") does not contain /usr/bin/cdb-setup"
	ok "$(basename "$rpm_file") contains /usr/bin/cdb-setup"
else
	echo "  (rpm not installed: $(basename "$rpm_file") exists and is in checksums.txt; contents not listed)"
fi

step "release-check passed: $VERSION, snapshot build ${build_secs}s"
