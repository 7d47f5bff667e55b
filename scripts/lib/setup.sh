# Helpers sourced by scripts/test (and the scripts it runs): install what a suite needs,
# idempotently, and time each section. Every install goes under target/ or into the system
# (apt), never into the source tree, so `git status` stays empty after a run.
#
#   ensure_apt PKG...        Debian packages, installed only when missing (one apt-get update)
#   ensure_java              a JRE when no `java` is on PATH
#   ensure_venv DIR REQ...   a Python venv at DIR holding REQ... (recreated when REQ... change)
#   ensure_npm DIR           `npm ci` in DIR from its package-lock.json when node_modules is stale
#   section NAME [WHAT]      starts a timed section (the previous one's time is printed); the
#                            times of all sections are printed when the script exits, and the
#                            section that failed is named
#   tree_state               what `git status` and `git diff` show, to compare before and after

# Keeps Python bytecode caches out of the source tree.
export PYTHONPYCACHEPREFIX="${PYTHONPYCACHEPREFIX:-$PWD/target/pycache}"

_apt_updated=
ensure_apt() {
    local missing=() pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
            missing+=("$pkg")
    done
    [ ${#missing[@]} -gt 0 ] || return 0
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null ||
            { echo "setup: need root (or sudo) to apt-get install ${missing[*]}" >&2; return 2; }
        sudo=(sudo)
    fi
    echo "setup: apt-get install ${missing[*]}"
    if [ -z "$_apt_updated" ]; then
        "${sudo[@]}" apt-get update -qq
        _apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
}

ensure_java() {
    command -v java >/dev/null || ensure_apt default-jre-headless
}

ensure_venv() {
    local dir=$1
    shift
    local want
    want=$(printf '%s\n' "$@")
    if [ -x "$dir/bin/python" ] && [ "$(cat "$dir/.requirements" 2>/dev/null)" = "$want" ]; then
        return 0
    fi
    echo "setup: python venv $dir: $*"
    rm -rf "$dir"
    python3 -m venv "$dir"
    "$dir/bin/pip" install --quiet --disable-pip-version-check "$@"
    printf '%s\n' "$want" >"$dir/.requirements"
}

ensure_npm() {
    local dir=$1
    # npm ci writes node_modules/.package-lock.json; it is current when newer than the lockfile.
    if [ "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ]; then
        return 0
    fi
    echo "setup: npm ci in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
}

_section_names=()
_section_seconds=()
_section_name=
_section_start=
_section_end() {
    [ -n "$_section_name" ] || return 0
    local took=$((SECONDS - _section_start))
    _section_names+=("$_section_name")
    _section_seconds+=("$took")
    printf '<== %s: %dm%02ds\n' "$_section_name" $((took / 60)) $((took % 60))
    _section_name=
}
section() {
    _section_end
    _section_name=$1
    _section_start=$SECONDS
    printf '\n==> %s\n' "$1${2:+: $2}"
}
_print_section_times() {
    local status=$1
    local failed=$_section_name
    _section_end
    [ ${#_section_names[@]} -gt 0 ] || return 0
    local i total=0
    printf '\nsection times:\n'
    for i in "${!_section_names[@]}"; do
        printf '  %4dm%02ds  %s\n' $((_section_seconds[i] / 60)) $((_section_seconds[i] % 60)) \
            "${_section_names[i]}"
        total=$((total + _section_seconds[i]))
    done
    printf '  %4dm%02ds  total\n' $((total / 60)) $((total % 60))
    [ "$status" -eq 0 ] || printf 'FAILED in section: %s (exit %d)\n' "$failed" "$status"
}
trap '_print_section_times $?' EXIT

tree_state() {
    git rev-parse --git-dir >/dev/null 2>&1 || { echo "not a git checkout"; return 0; }
    git status --porcelain=v1 --untracked-files=all
    git diff HEAD | sha256sum
}
