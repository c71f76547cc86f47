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

# `make el-binaries`: binaries for glibc 2.17 need zig's linker, from PyPI.
if ! have cargo-zigbuild || ! python3 -m ziglang version >/dev/null 2>&1; then
    say "installing ziglang and cargo-zigbuild (pip)"
    python3 -m pip install --quiet ziglang==0.17.1 cargo-zigbuild==0.24.1 || {
        say "pip could not install them: run pip install ziglang cargo-zigbuild and make again"
        exit 1
    }
fi

need=""
have rpm || need="$need rpm"
have supervisord || need="$need supervisor"
have gpg || need="$need gnupg"
have ip || need="$need iproute2"
have tar || need="$need tar"
have curl || need="$need curl"
[ -x /usr/bin/time ] || need="$need time"
[ -x /usr/bin/python3 ] || need="$need python3"
have pg_dump || need="$need postgresql-client"
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need="$need postgresql"
have mariadb-dump || need="$need mariadb-client"
[ -x /usr/sbin/mariadbd ] || need="$need mariadb-server"
# The systemd test host: a container booted with systemd-nspawn.
have systemd-nspawn || need="$need systemd-container"
have debootstrap || need="$need debootstrap"
# The cluster tests and `make demo-cluster`: the balancer and the fleet engine.
have haproxy || need="$need haproxy"
have ansible-playbook || need="$need ansible"
# The check report's test opens the HTML page in a real headless browser.
have chromium || need="$need chromium"
# Delivery: `hop-build publish` runs createrepo_c; the yum test installs with real dnf.
have createrepo_c || need="$need createrepo-c"
have dnf || need="$need dnf"
have openssl || need="$need openssl"
# The PostgreSQL 12/13/14 matrix fetches its servers from the npm registry.
have npm || need="$need npm"
have readelf || need="$need binutils"
# The RPM test reads the man pages as a customer would.
have man || need="$need man-db"
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
