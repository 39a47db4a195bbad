#!/bin/sh
# Creates (or upgrades) the Temporal server's two PostgreSQL databases with the server's own SQL tool and
# the schemas built into it: persistence in $DBNAME, visibility (our search attributes) in
# $VISIBILITY_DBNAME. Idempotent: safe at every deployment, and the way to upgrade after a server upgrade.
# Run by docker-compose.yml's `temporal-schema` service (admin-tools image) and by `npm run test:cluster`,
# with the same variables as deploy/temporal/config/production.yaml.
set -eu

SQL_TOOL="${TEMPORAL_SQL_TOOL:-temporal-sql-tool}"
export SQL_PLUGIN=postgres12
export SQL_HOST="${POSTGRES_SEEDS:-postgresql}"
export SQL_PORT="${DB_PORT:-5432}"
export SQL_USER="${POSTGRES_USER:-temporal}"
export SQL_PASSWORD="${POSTGRES_PWD:-}"

setup_database() {
  database="$1"
  schema="$2"
  # create-database fails when the database exists; setup-schema then only adds what is missing.
  "$SQL_TOOL" --db "$database" create-database >/dev/null 2>&1 || echo "database $database exists"
  "$SQL_TOOL" --db "$database" setup-schema -v 0.0
  "$SQL_TOOL" --db "$database" update-schema --schema-name "$schema"
  echo "database $database: schema $schema up to date"
}

setup_database "${DBNAME:-temporal}" postgresql/v12/temporal
setup_database "${VISIBILITY_DBNAME:-temporal_visibility}" postgresql/v12/visibility
