#!/bin/sh
# Makes this Debian machine ready for hop's tests and demo: installs the
# Debian packages they use when absent, starts PostgreSQL and MariaDB when
# they are not running, and lets root reach both over their local sockets.
# Safe to run again: it only acts on what is missing.
set -eu

say() { echo "deps: $*"; }
have() { command -v "$1" >/dev/null 2>&1; }

if ! have cargo; then
    say "cargo is missing: install Rust with rustup (https://rustup.rs) and run make again"
    exit 1
fi
# `make lint` (run by `make test`): rustfmt and clippy.
for pair in fmt:rustfmt clippy:clippy; do
    verb=${pair%%:*} component=${pair#*:}
    cargo "$verb" --version >/dev/null 2>&1 && continue
    if have rustup; then
        rustup component add "$component"
    else
        say "cargo $verb is missing: install it (rustup component add $component) and run make again"
        exit 1
    fi
done

# `make test` runs the suite with cargo-nextest (every test in a process of
# its own, the binaries side by side: .config/nextest.toml).
if ! cargo nextest --version >/dev/null 2>&1; then
    say "installing cargo-nextest (cargo install, a few minutes, once)"
    cargo install --locked --quiet cargo-nextest || {
        say "cargo could not install cargo-nextest: run cargo install --locked cargo-nextest and make again"
        exit 1
    }
fi

# `make el-binaries`: binaries for glibc 2.17 need zig's linker, from PyPI.
if ! have cargo-zigbuild || ! python3 -m ziglang version >/dev/null 2>&1; then
    say "installing ziglang and cargo-zigbuild (pip)"
    python3 -m pip install --quiet ziglang==0.17.1 cargo-zigbuild==0.24.1 || {
        say "pip could not install them: run pip install ziglang cargo-zigbuild and make again"
        exit 1
    }
fi

need=""
# command:Debian package, for each tool the tests and the demo run.
# Services: supervisord; the systemd test host, booted with systemd-nspawn
# in a root file system debootstrap makes; the cluster tests' balancer
# and fleet engine (haproxy, ansible). The check report's test opens its
# HTML page in a headless chromium. Delivery: `hop-build publish` runs
# createrepo_c, the yum test installs with dnf. The PostgreSQL 12/13/14
# matrix fetches its servers with npm. The RPM test reads the man pages.
for pair in rpm:rpm supervisord:supervisor gpg:gnupg ip:iproute2 tar:tar curl:curl \
    pg_dump:postgresql-client mariadb-dump:mariadb-client \
    systemd-nspawn:systemd-container debootstrap:debootstrap \
    haproxy:haproxy ansible-playbook:ansible chromium:chromium \
    createrepo_c:createrepo-c dnf:dnf openssl:openssl npm:npm readelf:binutils man:man-db; do
    have "${pair%%:*}" || need="$need ${pair#*:}"
done
[ -x /usr/bin/time ] || need="$need time"
[ -x /usr/bin/python3 ] || need="$need python3"
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need="$need postgresql"
[ -x /usr/sbin/mariadbd ] || need="$need mariadb-server"
# The sandbox hosts' /bin/sh for RPM scriptlets run inside their root:
# a static busybox (a dynamic one would find no libraries there).
if [ ! -x /bin/busybox ] || ldd /bin/busybox >/dev/null 2>&1; then need="$need busybox-static"; fi

if [ -n "$need" ]; then
    if [ "$(id -u)" != 0 ]; then
        say "missing Debian packages:$need"
        say "run as root, or: sudo apt-get install$need"
        exit 1
    fi
    say "installing$need"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y --no-install-recommends $need >/dev/null 2>&1 \
        || { apt-get update >/dev/null && apt-get install -y --no-install-recommends $need >/dev/null; }
fi

# PostgreSQL: the product's database.
if ! pg_isready -q -h /var/run/postgresql 2>/dev/null; then
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    say "starting PostgreSQL $version"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start
    for _ in 1 2 3 4 5 6 7 8 9 10; do pg_isready -q -h /var/run/postgresql && break; sleep 1; done
fi
if ! psql -h /var/run/postgresql -d postgres -tAc 'select 1' >/dev/null 2>&1; then
    say "creating the PostgreSQL role $(id -un)"
    runuser -u postgres -- createuser --superuser "$(id -un)"
fi

# MariaDB.
if ! mariadb -e 'select 1' >/dev/null 2>&1; then
    say "starting MariaDB"
    mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
    for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do mariadb -e 'select 1' >/dev/null 2>&1 && break; sleep 1; done
fi
mariadb -e 'select 1' >/dev/null 2>&1 || { say "MariaDB does not answer as $(id -un) on its socket"; exit 1; }
# The S3-compatible test server (moto, with authentication on), from PyPI.
if ! python3 -c 'import moto.server, boto3' >/dev/null 2>&1; then
    say "installing moto[server] (the S3 test server) with pip"
    python3 -m pip install --quiet --disable-pip-version-check 'moto[server]>=5,<6' \
        || { say "pip could not install moto: run python3 -m pip install 'moto[server]'"; exit 1; }
fi
say "ready"
