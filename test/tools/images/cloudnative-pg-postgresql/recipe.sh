# test/tools/images/cloudnative-pg-postgresql/recipe.sh — the Postgres image of CloudNativePG
# clusters; sourced by build.sh (after postgres/recipe.sh, whose rootfs recipe it shares).
#
# A stand-in for ghcr.io/cloudnative-pg/postgresql: the postgres image's rootfs (build_postgres:
# Debian bookworm PostgreSQL 15, the same excludes, entrypoint, ENV and PATH) plus Debian's
# barman-cli-cloud for the in-tree barmanObjectStore (continuous WAL archiving and base backups to
# object storage, restore from them), with postgres as 26 like upstream's image (CloudNativePG runs
# its pods as spec.postgresUID, 26 by default). CloudNativePG replaces the entrypoint with its
# instance manager; it needs initdb, postgres, pg_ctl, pg_controldata and pg_basebackup on PATH
# (/usr/lib/postgresql/15/bin is on it) and the barman-cloud-* commands (/usr/bin). The tag starts
# with the PostgreSQL version, from which the operator reads the major (15.<minor>-bookworm).
# shellcheck shell=bash

CLOUDNATIVE_PG_POSTGRESQL_REPOSITORY=cloudnative-pg/postgresql
# Beyond the postgres image's packages:
#   barman-cli-cloud  barman-cloud-wal-archive, -wal-restore, -backup, -restore, -check-wal-archive,
#                     -backup-delete, ... (3.4.0 in bookworm); it depends on python3-barman and
#                     python3-boto3 (with botocore, s3transfer: the S3 client), so S3 needs nothing more
# Not python3-snappy: bookworm's 0.5.3 fails under its Python 3.11 ("PY_SSIZE_T_CLEAN macro must be
# defined for '#' formats" on the first --snappy archive), so a Cluster's wal/data compression is
# gzip or bzip2 (Python's own), or none. Azure and Google Cloud Storage clients are left out: the
# drills' object store speaks S3.
CLOUDNATIVE_PG_POSTGRESQL_PACKAGES=barman-cli-cloud
# ghcr.io/cloudnative-pg/postgresql's user: `usermod -u 26 postgres` over the Debian image's
# postgres (999:999), so the group stays 999 (26 is Debian's "tape" group).
CLOUDNATIVE_PG_POSTGRESQL_UID=26
CLOUDNATIVE_PG_POSTGRESQL_GID=999

build_cloudnative_pg_postgresql() {
  # Licenses: PostgreSQL's, the entrypoint's (MIT), barman's (GPL-3.0), boto3's (Apache-2.0).
  build_postgres "$1" cloudnative-pg-postgresql "ghcr.io/cloudnative-pg/postgresql:$POSTGRES_PG_MAJOR" \
    "$CLOUDNATIVE_PG_POSTGRESQL_PACKAGES" "$CLOUDNATIVE_PG_POSTGRESQL_UID" "$CLOUDNATIVE_PG_POSTGRESQL_GID" \
    "PostgreSQL AND MIT AND GPL-3.0-or-later AND Apache-2.0"
}

image_cloudnative_pg_postgresql() {
  cached_or_build cloudnative-pg-postgresql \
    "$(postgres_key "$IMAGES_DIR/cloudnative-pg-postgresql/recipe.sh")" build_cloudnative_pg_postgresql
  progress "pushing cloudnative-pg-postgresql to $REGISTRY/$CLOUDNATIVE_PG_POSTGRESQL_REPOSITORY"
  push_layout "$CACHED_DIR/oci" "$REGISTRY/$CLOUDNATIVE_PG_POSTGRESQL_REPOSITORY" "$(cat "$CACHED_DIR/tag")"
}
