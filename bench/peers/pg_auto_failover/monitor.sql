-- pg_auto_failover 2.0 monitor settings for the issue 12 lab (Debian 12:
-- postgresql-15-auto-failover 2.0-2+b1, pg-auto-failover-cli 2.0-2+b1).
--
-- Run once on the monitor, after `pg_autoctl create monitor` and while its
-- `pg_autoctl run` is up, as the postgres user, through the monitor's own
-- socket (autocommit: ALTER SYSTEM refuses to run inside a transaction, so
-- no psql -1):
--   psql -X -v ON_ERROR_STOP=1 -h @SOCKET_DIR@ -p @PGPORT@ -U postgres \
--        -d pg_auto_failover -f monitor.sql
-- Every pgautofailover.* GUC below is reloadable (PGC_SIGHUP in the
-- extension's _PG_init; src/monitor/pg_auto_failover.c), so the
-- pg_reload_conf() at the end is enough: the backends that serve
-- node_active() and the health-check worker both re-read them (the worker
-- calls ProcessConfigFile when it gets SIGHUP; src/monitor/health_check_worker.c).
--
-- Placeholders: @SOCKET_DIR@, @PGPORT@ (only in the command above).
--
-- Sources (paraphrased; the same 2.0 text is installed as the man page
-- pg_auto_failover(1), sections named the same):
--   [CFG] https://pg-auto-failover.readthedocs.io/en/v2.0/ref/configuration.html
--         "Configuring pg_auto_failover" and "pg_auto_failover Monitor"
--   [FT]  https://pg-auto-failover.readthedocs.io/en/v2.0/fault-tolerance.html
--         "Unhealthy Nodes", "Network Partitions",
--         "Failure handling and network partition detection"
--   [FAQ] https://pg-auto-failover.readthedocs.io/en/v2.0/faq.html
--         "I stopped the primary and no failover is happening for 20s to 30s, why?"
--   [SRC] github.com/hapostgres/pg_auto_failover, read where the pages are
--         silent: src/monitor/group_state_machine.c (IsUnhealthy,
--         IsDrainTimeExpired), src/monitor/health_check_worker.c; the GUC
--         names and descriptions match the installed pgautofailover.so.
--   [I507] maintainer's explanation of the detection delay:
--         https://github.com/hapostgres/pg_auto_failover/issues/507
--
-- How the monitor decides (NOTES.md, "What bounds the failover time"): a
-- primary is unhealthy when it has not called node_active() for
-- node_considered_unhealthy_timeout AND its last health check failed
-- (or at once if its keeper reports PostgreSQL not running) [SRC IsUnhealthy].
-- The standby is then promoted, but made writable (wait_primary) only
-- primary_demote_timeout after the old primary was told to demote, unless
-- the old primary confirms it stopped first [FT, SRC IsDrainTimeExpired].
-- Expected kill-to-writable with the values below: about 18-21 s (defaults:
-- about 50-55 s). No minimum values are documented; the extension accepts
-- 1 ms and up for every timer, and max_retries >= 1.


-- Health checks: how fast the monitor itself sees a dead node.
-- The monitor connects to every node like pg_isready would, every
-- health_check_period; a node is marked bad after max_retries+1 failed
-- attempts, each bounded by health_check_timeout, spaced by
-- health_check_retry_delay [FT "Unhealthy Nodes"; CFG "Deciding when to
-- promote the secondary"]. Worst case to "bad" for a node that answers
-- nothing (link down): 1 + 3 x 1 + 2 x 0.5 = 5 s; with the defaults
-- 5 + 3 x 5 + 2 x 2 = 24 s, which would dominate [I507 gives 15-30 s].
-- These values only bring that bound down to node_considered_unhealthy_timeout
-- below; a failed check alone never fails a reporting node over [SRC].

-- Default 5000 ms. 1 s: a check round per second, the keeper's own report
-- rhythm (it calls node_active every second; [SRC] hard-codes that 1 s too).
-- The pg_auto_failover developers tried 1 s in their own test runs
-- (https://github.com/hapostgres/pg_auto_failover/pull/332, not merged as a
-- default for fear of flapping, which the 5 s report timeout below guards).
ALTER SYSTEM SET pgautofailover.health_check_period = '1000';

-- Default 5000 ms. The lab's round trip is microseconds; 1 s still leaves
-- room for a backend fork on the loaded 2-core machine.
ALTER SYSTEM SET pgautofailover.health_check_timeout = '1000';

-- Default 2000 ms. 0.5 s between the failed attempts, so that three
-- attempts (max_retries stays at its default 2) fit in 5 s.
ALTER SYSTEM SET pgautofailover.health_check_retry_delay = '500';

-- pgautofailover.health_check_max_retries: default 2, left alone.


-- Default 20000 ms [CFG; FAQ calls it the 20 s before acting on a node].
-- A primary must have been silent this long (and failed its health check)
-- to be declared unhealthy. 5 s = five missed one-second reports: the
-- keeper would have to stall 5 s while two health-check attempts also fail
-- for a false failover on the loaded machine. What safety needs is the SUM
-- of this and primary_demote_timeout (next setting), so a larger value here
-- costs no speed as long as primary_demote_timeout shrinks by as much.
ALTER SYSTEM SET pgautofailover.node_considered_unhealthy_timeout = '5000';

-- Default 30000 ms [CFG "Time taken to promote the secondary"; FT "Network
-- Partitions"]. Once the standby has been promoted read-only
-- (stop_replication; it sets default_transaction_read_only so that
-- target_session_attrs=read-write clients skip it), the monitor waits this
-- long for a silent old primary before it lets the standby take writes
-- (wait_primary) [SRC]. It exists so that an old primary that is alive but
-- cut off has shut itself down first: its keeper stops PostgreSQL when it
-- has reached neither the monitor nor a standby (pg_stat_replication) for
-- timeout.network_partition_timeout [FT; CFG "pg_auto_failover Keeper
-- Service"]. The rule kept here (NOTES.md, "Safety margin"):
--   node_considered_unhealthy_timeout + primary_demote_timeout (5 + 13 = 18 s,
--   counted from the old primary's last report, at most 1 s before the cut)
--   > last standby reply + wal_sender_timeout + network_partition_timeout
--     + one keeper loop + a fast stop (1 + 5 + 3 + up to 3 + 1 = about 13-14 s)
-- The defaults keep the same order (20 + 30 = 50 s against 30 + 20 s plus
-- the loop), with less margin than these values.
-- A dead primary (fault b) always costs this whole wait: it cannot confirm.
ALTER SYSTEM SET pgautofailover.primary_demote_timeout = '13000';

-- Left at their defaults, on purpose:
--   pgautofailover.startup_grace_period = 10000 ms: no failover in the
--     first 10 s after the MONITOR starts [CFG]; the lab's first fault comes
--     much later (two nodes to create first).
--   pgautofailover.promote_wal_log_threshold and
--   pgautofailover.enable_sync_wal_log_threshold = 16 MB: a standby more
--     than one WAL segment behind is not promoted / not made synchronous
--     [CFG "Preventing promotion of the secondary"]; with synchronous
--     replication the lag at a failover is 0.


-- Lab parity, not an HA setting: every server of pgvrrpd's lab runs with
-- fsync off (test/integration/pglab.py COMMON_CONF). The monitor writes a
-- row per node_active state change and an event per decision; on the
-- shared, loaded disk an fsync per commit would slow the decisions being
-- measured. The monitor's own durability is not part of the comparison.
ALTER SYSTEM SET fsync = 'off';

SELECT pg_reload_conf();

-- What the driver should log with each run (and check):
SELECT name, setting, unit
  FROM pg_settings
 WHERE name LIKE 'pgautofailover.%' OR name = 'fsync'
 ORDER BY name;
