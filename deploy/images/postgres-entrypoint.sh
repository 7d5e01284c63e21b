#!/bin/bash
# darkroom-postgres' entrypoint: on first start (an empty $PGDATA) creates the cluster with
# POSTGRES_USER as superuser, its password from POSTGRES_PASSWORD_FILE or POSTGRES_PASSWORD,
# and the database POSTGRES_DB; then runs PostgreSQL listening on every address, with
# scram-sha-256 for connections over the network and trust on the local socket.
set -euo pipefail

say() { printf 'darkroom-postgres: %s\n' "$*" >&2; }

: "${PGDATA:=/var/lib/postgresql/data}"
POSTGRES_USER="${POSTGRES_USER:-postgres}"
POSTGRES_DB="${POSTGRES_DB:-$POSTGRES_USER}"

if [ "${1:-}" != "postgres" ]; then
    exec "$@"
fi

password() {
    if [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then
        [ -r "$POSTGRES_PASSWORD_FILE" ] || { say "cannot read POSTGRES_PASSWORD_FILE=$POSTGRES_PASSWORD_FILE"; exit 1; }
        # A trailing newline is not part of the password (as the official image reads it).
        local value
        value="$(cat "$POSTGRES_PASSWORD_FILE")"
        printf '%s' "$value"
    elif [ -n "${POSTGRES_PASSWORD:-}" ]; then
        printf '%s' "$POSTGRES_PASSWORD"
    else
        say "set POSTGRES_PASSWORD_FILE (a secret) or POSTGRES_PASSWORD"
        exit 1
    fi
}

init_cluster() {
    say "initialising $PGDATA (user $POSTGRES_USER, database $POSTGRES_DB)"
    local pwfile
    pwfile="$(mktemp)"
    password >"$pwfile"
    # shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a list of options, as in the official image.
    initdb --pgdata="$PGDATA" --username="$POSTGRES_USER" --pwfile="$pwfile" \
        --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 \
        ${POSTGRES_INITDB_ARGS:-} >/dev/null
    rm -f "$pwfile"
    {
        echo "listen_addresses = '*'"
        echo "password_encryption = 'scram-sha-256'"
    } >>"$PGDATA/postgresql.conf"
    {
        echo "# Every address may connect with the password (the container network is the boundary)."
        echo "host all all 0.0.0.0/0 scram-sha-256"
        echo "host all all ::/0 scram-sha-256"
    } >>"$PGDATA/pg_hba.conf"
    if [ "$POSTGRES_DB" != "postgres" ]; then
        # The database is made by a server that listens on no address until it is there.
        pg_ctl --pgdata="$PGDATA" --options="-c listen_addresses=''" --wait --silent start
        psql --no-psqlrc --quiet --set=ON_ERROR_STOP=1 --username="$POSTGRES_USER" --dbname=postgres \
            --set=db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
        pg_ctl --pgdata="$PGDATA" --mode=fast --wait --silent stop
    fi
    say "initialised"
}

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    init_cluster
fi
exec "$@"
