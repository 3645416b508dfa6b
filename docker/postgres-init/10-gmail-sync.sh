#!/bin/sh
# Creates the token store's database on the Temporal PostgreSQL of
# docker-compose.yml: a login role `gmail_sync` with the password from
# TOKEN_STORE_DB_PASSWORD and a database `gmail_sync` that it owns. The
# postgres image runs this once, when its data volume is empty; the token
# store creates its table on first use.
set -eu

: "${TOKEN_STORE_DB_PASSWORD:?set TOKEN_STORE_DB_PASSWORD to the token store database password}"

psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres \
  -v password="$TOKEN_STORE_DB_PASSWORD" <<'SQL'
CREATE ROLE gmail_sync LOGIN PASSWORD :'password';
CREATE DATABASE gmail_sync OWNER gmail_sync;
SQL
