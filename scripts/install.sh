#!/usr/bin/env bash
# Install one released version of cognito-sync: the prebuilt binary for this machine when the
# release has one, its SHA-256 checked against the release's `sha256.sum`; otherwise
# `cargo install --locked` at the release tag. Used by the GitHub Action (action.yml) and by
# the pre-commit hook (scripts/pre-commit-validate.sh); usable on its own:
#
#   COGNITO_SYNC_VERSION=v0.1.0 COGNITO_SYNC_REPOSITORY=OWNER/cognito-sync scripts/install.sh
#
# Environment (only the version and the repository are required):
#   COGNITO_SYNC_VERSION       release tag, `v0.1.0` (a bare `0.1.0` means `v0.1.0`)
#   COGNITO_SYNC_REPOSITORY    OWNER/NAME of the repository that publishes the releases
#   COGNITO_SYNC_INSTALL_DIR   where the binary goes (default: ~/.cache/cognito-sync/VERSION-TARGET);
#                              a binary already there at the right version is reused
#   COGNITO_SYNC_DOWNLOAD_URL  release download base (default: https://github.com/REPO/releases/download)
#   COGNITO_SYNC_GIT_URL       repository for the fallback build (default: https://github.com/REPO)
#   COGNITO_SYNC_TARGET        target triple to download, instead of detecting this machine's
#   COGNITO_SYNC_CARGO_FLAGS   extra flags for the fallback `cargo install` (e.g. `--debug`)
#   CARGO                      the cargo to run for the fallback (default: cargo)
#
# Prints the binary's path on stdout (progress goes to stderr). In GitHub Actions it also adds
# the binary's directory to GITHUB_PATH and sets the step outputs `path` and `source`
# (`cached`, `release` or `cargo`).
set -euo pipefail

say() { printf 'cognito-sync install: %s\n' "$*" >&2; }
die() {
  printf 'error: %s\n' "$1" >&2
  shift
  for help in "$@"; do printf '  help: %s\n' "$help" >&2; done
  exit 1
}

version="${COGNITO_SYNC_VERSION:-}"
repo="${COGNITO_SYNC_REPOSITORY:-}"
[[ -n "$version" ]] || die "no version to install" "set COGNITO_SYNC_VERSION (the action's \`version\` input) to a release tag such as v0.1.0"
[[ -n "$repo" ]] || die "no repository to install from" "set COGNITO_SYNC_REPOSITORY to OWNER/NAME of the repository that publishes the releases"
if [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+ ]]; then
  version="v$version"
fi
[[ "$version" =~ ^v[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]*)?$ ]] \
  || die "\`$version\` is not a release tag" \
    "give a version such as v0.1.0; when the action is pinned to a commit, set its \`version\` input to the release that commit belongs to"
bare="${version#v}"

# The release's target triple for this machine, or "" when the release has no build for it.
detect_target() {
  local os arch
  os="$(uname -s)"
  arch="$(uname -m)"
  case "$arch" in
    x86_64 | amd64) arch=x86_64 ;;
    aarch64 | arm64) arch=aarch64 ;;
    *) echo ""; return ;;
  esac
  case "$os" in
    Linux) echo "$arch-unknown-linux-musl" ;;
    Darwin) echo "$arch-apple-darwin" ;;
    # Windows on Arm runs x86_64 binaries.
    MINGW* | MSYS* | CYGWIN* | Windows_NT) echo "x86_64-pc-windows-msvc" ;;
    *) echo "" ;;
  esac
}

target="${COGNITO_SYNC_TARGET-$(detect_target)}"
exe=cognito-sync
if [[ "$target" == *windows* ]]; then exe=cognito-sync.exe; fi
dir="${COGNITO_SYNC_INSTALL_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/cognito-sync/$version-${target:-source}}"
bin="$dir/$exe"

finish() { # $1 = source
  if [[ -n "${GITHUB_PATH:-}" ]]; then echo "$dir" >>"$GITHUB_PATH"; fi
  if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
    { echo "path=$bin"; echo "source=$1"; } >>"$GITHUB_OUTPUT"
  fi
  echo "$bin"
  exit 0
}

# "cognito-sync 0.1.0" from a binary that runs; nothing from one that does not.
has_version() { [[ -x "$1" ]] && [[ "$("$1" --version 2>/dev/null)" == "cognito-sync $bare" ]]; }

if has_version "$bin"; then
  say "cognito-sync $bare is already installed at $bin"
  finish cached
fi

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  else
    shasum -a 256 "$1" | cut -d' ' -f1
  fi
}

# HTTPS only, redirects included, unless the download URL was set to plain HTTP on purpose
# (a local mirror, the tests' loopback server).
proto='=https'
if [[ "${COGNITO_SYNC_DOWNLOAD_URL:-}" == http://* ]]; then proto='=http,https'; fi
fetch() { # url, file
  curl --proto "$proto" --fail --silent --show-error --location --retry 3 --output "$2" "$1"
}

install_with_cargo() { # reason
  local git_url="${COGNITO_SYNC_GIT_URL:-https://github.com/$repo}" cargo="${CARGO:-cargo}"
  say "$1; building $version from source with cargo install (this takes minutes)"
  command -v "$cargo" >/dev/null 2>&1 \
    || die "$1, and cargo is not installed to build it" \
      "install Rust first (for example with a rust-toolchain action), or run on a platform the release has a binary for"
  mkdir -p "$dir"
  local root
  root="$(mktemp -d "${TMPDIR:-/tmp}/cognito-sync-cargo.XXXXXX")"
  # shellcheck disable=SC2086 # COGNITO_SYNC_CARGO_FLAGS is a list of flags
  if ! "$cargo" install --locked --git "$git_url" --tag "$version" --root "$root" \
    ${COGNITO_SYNC_CARGO_FLAGS:-} cognito-sync >&2; then
    rm -rf "$root"
    die "cargo install of cognito-sync $version from $git_url failed (output above)"
  fi
  mv -f "$root/bin/$exe" "$bin"
  rm -rf "$root"
  has_version "$bin" || die "the binary built from $version does not report version $bare"
  say "built cognito-sync $bare into $bin"
  finish cargo
}

if [[ -z "$target" ]]; then
  install_with_cargo "no prebuilt binary for $(uname -s) $(uname -m)"
fi

base="${COGNITO_SYNC_DOWNLOAD_URL:-https://github.com/$repo/releases/download}/$version"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/cognito-sync-install.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

fetch "$base/sha256.sum" "$tmp/sha256.sum" \
  || die "could not download the checksum file $base/sha256.sum" \
    "check that release $version exists in $repo and has finished publishing"

# The archive for this target, and its expected hash, from the checksum file.
archive="" want=""
while read -r hash name; do
  name="${name#\*}"
  case "$name" in
    "cognito-sync-$target.tar.gz" | "cognito-sync-$target.tar.xz" | "cognito-sync-$target.zip")
      archive="$name" want="$hash"
      break
      ;;
  esac
done <"$tmp/sha256.sum"

if [[ -z "$archive" ]]; then
  install_with_cargo "release $version has no binary for $target"
fi
[[ "$want" =~ ^[0-9a-fA-F]{64}$ ]] || die "the checksum file of $version has no valid SHA-256 for $archive"

say "downloading $archive ($version)"
fetch "$base/$archive" "$tmp/$archive" || die "could not download $base/$archive"
got="$(sha256_of "$tmp/$archive")"
want="$(printf '%s' "$want" | tr 'A-F' 'a-f')"
if [[ "$got" != "$want" ]]; then
  die "checksum mismatch for $archive: sha256.sum says $want, the download is $got" \
    "nothing was installed; the download is corrupt or not the published file, so do not use it" \
    "run again; if it persists, report it to the maintainers of $repo"
fi

mkdir -p "$tmp/x"
case "$archive" in
  *.zip)
    if command -v unzip >/dev/null 2>&1; then unzip -q "$tmp/$archive" -d "$tmp/x"; else tar -xf "$tmp/$archive" -C "$tmp/x"; fi
    ;;
  *) tar -xf "$tmp/$archive" -C "$tmp/x" ;;
esac
found="$(find "$tmp/x" -type f -name "$exe" | head -n 1)"
[[ -n "$found" ]] || die "$archive holds no $exe"
mkdir -p "$dir"
chmod +x "$found"
mv -f "$found" "$bin"
has_version "$bin" || die "the binary in $archive does not report version $bare (\`$bin --version\`)"
say "installed cognito-sync $bare ($target, sha256 $got) into $dir"
finish release
