# Sourced by scripts/services.sh and scripts/dev.sh: installs Debian packages the project needs.
# The sourcing script defines say() and die().

is_root() { [ "$(id -u)" -eq 0 ]; }

APT_UPDATED=0
apt_install() {
  is_root || die "missing: $* — install it with: sudo apt-get install -y $*"
  command -v apt-get >/dev/null || die "missing: $* — and apt-get is not available to install it"
  if [ "$APT_UPDATED" -eq 0 ]; then
    say "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    APT_UPDATED=1
  fi
  say "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
