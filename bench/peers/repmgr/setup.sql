-- Run as postgres through the node's unix socket, on n1 (after its first
-- start, before "repmgr primary register") and on the witness (before
-- "repmgr witness register"); n2 gets both through the clone.
-- psql runs each statement on its own (CREATE DATABASE refuses a
-- transaction block).
--
-- A dedicated superuser and database for repmgr's metadata, as the
-- quickstart does with createuser -s / createdb -O
-- (https://repmgr.org/docs/current/quickstart-repmgr-user-database.html).
-- Superuser, as the quickstart does: "repmgr primary register" then creates
-- the repmgr extension itself (only a superuser can), and the failover path
-- may call pg_promote() and pg_wal_replay_resume() without extra GRANTs
-- (https://repmgr.org/docs/current/configuration-permissions.html).
-- Replication connections also use this role (replication_user is left at
-- its default, the conninfo user); pglab's pg_hba.conf trusts the lab subnet
-- for every user, replication included.
CREATE ROLE repmgr WITH LOGIN SUPERUSER;
CREATE DATABASE repmgr OWNER repmgr;
-- The quickstart's recommendation, so psql sessions as repmgr see its schema.
ALTER ROLE repmgr SET search_path TO repmgr, "$user", public;
