#!/usr/bin/env bash
# A real, throw-away PostgreSQL server for tests, from Debian's `postgresql` package.
#
#   scripts/postgres.sh start DIR    install the server if missing (apt-get, slow the first time),
#                                    initdb DIR/data (user paychan, trust auth, UTF8) unless it
#                                    exists, start it on a Unix socket in DIR and on 127.0.0.1 at a
#                                    free port, create database paychan, and print the one line
#                                      postgres://paychan@127.0.0.1:PORT/paychan
#                                    on stdout (also written to DIR/url; the port to DIR/port).
#   scripts/postgres.sh stop DIR     fast shutdown; does nothing if it is not running.
#   scripts/postgres.sh restart DIR  immediate shutdown (like a crash: recovery runs on start),
#                                    then start again on the same data and port; prints the URL.
#
# Everything but the URL goes to stderr; the server log is DIR/log. PostgreSQL refuses to run as
# root: as root the server runs as the `postgres` system user (the Debian package makes it), DIR
# is handed to that user and must be reachable by it (e.g. under /tmp). The cluster runs with
# fsync=off: a crash of the server (restart) loses nothing committed, a crash of the machine would.
# PAYCHAN_PG_FSYNC=on keeps fsync (benchmarks measure with it on).
# Removing the cluster is the caller's job: stop, then rm -rf DIR.
set -euo pipefail

PG_USER=postgres    # the system user the server runs as when this script runs as root
DB_USER=paychan     # the database superuser initdb makes, and the database we create
DB_NAME=paychan

say() { echo "postgres.sh: $*" >&2; }
die() { say "$*"; exit 1; }

usage() {
    echo "usage: $0 start|stop|restart DIR" >&2
    exit 2
}

[ $# -eq 2 ] || usage
CMD=$1
case "$CMD" in start | stop | restart) ;; *) usage ;; esac

# The newest installed server's bin directory, or nothing.
find_bindir() {
    local dir
    printf '%s\n' /usr/lib/postgresql/*/bin | sort -V -r | while read -r dir; do
        if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ]; then
            echo "$dir"
            break
        fi
    done
}

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null; then
        sudo "$@"
    else
        die "PostgreSQL is not installed, and installing it needs root or sudo: apt-get install postgresql"
    fi
}

install_server() {
    say "installing Debian's postgresql package (apt-get update, apt-get install -y --no-install-recommends postgresql)"
    # Concurrent callers (parallel tests) install once: the others wait here, then find it.
    local lock=/tmp/paychan-postgres-install.lock
    touch "$lock" 2>/dev/null || true
    exec 9<"$lock"
    flock 9
    if [ -z "$(find_bindir)" ]; then
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update >&2
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends -o DPkg::Lock::Timeout=300 postgresql >&2
    fi
    flock -u 9
    exec 9>&-
}

[ -n "${2:-}" ] || usage
if [ "$CMD" != stop ]; then
    mkdir -p "$2"
elif [ ! -d "$2" ]; then
    exit 0    # nothing was ever started there
fi
DIR=$(cd "$2" && pwd -P)
DATA=$DIR/data
# The server reads DIR in postgresql.conf and puts its socket DIR/.s.PGSQL.PORT there, whose path
# may not exceed 107 bytes: keep DIR plain and short rather than quote it.
[[ "$DIR" =~ ^[A-Za-z0-9_./+-]+$ ]] || die "DIR must be a plain path (letters, digits, _ . / + -): $DIR"
[ "${#DIR}" -le 90 ] || die "DIR is too long for a Unix socket path (at most 90 bytes): $DIR"
# Neither the server nor its tools may start in a directory the server's user cannot read.
cd /

BIN=$(find_bindir)
if [ -z "$BIN" ]; then
    [ "$CMD" = stop ] && exit 0    # no server installed, so none is running
    install_server
    BIN=$(find_bindir)
    [ -n "$BIN" ] || die "apt-get install postgresql left no initdb, pg_ctl and postgres under /usr/lib/postgresql/*/bin"
fi

# Runs a server command as the user that owns the cluster.
if [ "$(id -u)" -eq 0 ]; then
    if ! id -u "$PG_USER" >/dev/null 2>&1; then
        say "creating the system user $PG_USER to run the server (it refuses to run as root)"
        useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/bash "$PG_USER"
    fi
    as_server() { runuser -u "$PG_USER" -- "$@"; }
else
    as_server() { "$@"; }
fi

running() { as_server "$BIN/pg_ctl" status -D "$DATA" >/dev/null 2>&1; }

stop_server() {    # $1: fast or immediate
    if [ -f "$DATA/PG_VERSION" ] && running; then
        say "stopping the server in $DATA (mode $1)"
        as_server "$BIN/pg_ctl" stop -D "$DATA" -m "$1" -w -t 60 >&2
    fi
}

free_port() {
    if command -v python3 >/dev/null; then
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
    else
        echo $((20000 + RANDOM % 30000))    # a clash is caught at start and another one tried
    fi
}

# Starts the initialized cluster on port $1; returns 3 if the port was taken. The log is kept
# across restarts (appended to), so a test can read what a crash and its recovery did.
start_on() {
    local port=$1 seen=0
    if [ -f "$DIR/log" ]; then
        seen=$(wc -c <"$DIR/log")
    else
        touch "$DIR/log"
        if [ "$(id -u)" -eq 0 ]; then chown "$PG_USER": "$DIR/log"; fi
    fi
    if as_server "$BIN/pg_ctl" start -D "$DATA" -l "$DIR/log" -o "-p $port" -w -t 60 >&2; then
        return 0
    fi
    if tail -c +"$((seen + 1))" "$DIR/log" | grep -qE 'could not (bind|create any TCP/IP)|already in use'; then
        return 3
    fi
    say "the server did not start; the end of its log, $DIR/log:"
    tail -n 30 "$DIR/log" >&2
    exit 1
}

initialize() {
    say "initdb $DATA ($("$BIN/postgres" --version))"
    if [ "$(id -u)" -eq 0 ]; then
        chown "$PG_USER": "$DIR"
        runuser -u "$PG_USER" -- test -w "$DIR" ||
            die "user $PG_USER cannot reach $DIR: use a directory whose parents it may enter, e.g. under /tmp"
    fi
    rm -rf "$DATA"
    if ! as_server "$BIN/initdb" -D "$DATA" -U "$DB_USER" --auth=trust -E UTF8 --locale=C --no-sync \
        >"$DIR/initdb.log" 2>&1; then
        cat "$DIR/initdb.log" >&2
        die "initdb failed"
    fi
    cat >>"$DATA/postgresql.conf" <<EOF

# scripts/postgres.sh: a throw-away test cluster
listen_addresses = '127.0.0.1'
unix_socket_directories = '$DIR'
fsync = ${PAYCHAN_PG_FSYNC:-off}
EOF
}

start_server() {
    local port tries
    if [ ! -f "$DATA/PG_VERSION" ]; then
        initialize
        rm -f "$DIR/port" "$DIR/url"
    fi
    if running; then
        say "already running"
        port=$(cat "$DIR/port")
    elif [ -s "$DIR/port" ]; then
        # The same port as before, so that a URL handed out earlier still works after a restart.
        port=$(cat "$DIR/port")
        start_on "$port" || die "port $port is taken now; the server could not start again on it (see $DIR/log)"
    else
        for tries in 1 2 3 4 5 6 7 8 9 10; do
            port=$(free_port)
            if start_on "$port"; then
                break
            fi
            say "port $port was taken, trying another (try $tries)"
            [ "$tries" -lt 10 ] || die "found no free port in 10 tries"
        done
        echo "$port" >"$DIR/port"
    fi
    local ready=""
    for _ in $(seq 100); do
        if "$BIN/pg_isready" -q -h "$DIR" -p "$port" -U "$DB_USER" -d postgres; then
            ready=1
            break
        fi
        sleep 0.1
    done
    [ -n "$ready" ] || die "the server does not accept connections after 10 s (see $DIR/log)"
    if [ -z "$("$BIN/psql" -h "$DIR" -p "$port" -U "$DB_USER" -d postgres -XAtq \
        -c "select 1 from pg_database where datname = '$DB_NAME'")" ]; then
        "$BIN/createdb" -h "$DIR" -p "$port" -U "$DB_USER" "$DB_NAME" >&2
    fi
    local url="postgres://$DB_USER@127.0.0.1:$port/$DB_NAME"
    echo "$url" >"$DIR/url"
    say "ready: $url (socket in $DIR, log $DIR/log)"
    echo "$url"
}

case "$CMD" in
    start) start_server ;;
    stop) stop_server fast ;;
    restart)
        stop_server immediate
        start_server
        ;;
esac
