import type { Migration } from '../../postgres/migrate.ts';

/**
 * Which events a subscriber may see, and why it can never skip one (DESIGN §3).
 *
 * An event's position is (epoch, transaction_id, global_position). Positions
 * are handed out before commit, and transactions commit in any order, so a
 * reader must not pass a position below which an event may still appear.
 *
 * **Only appenders hold readers back.** Every append takes a transaction-level
 * *shared* advisory lock (APPEND_LOCK) before its transaction has an id; an
 * append into a transaction that already has one is refused (TA002). A reader
 * takes its snapshot S, then reads who holds the lock, then their transaction
 * ids, then the status of every transaction S saw running (xip). Its horizon is
 * the lowest transaction of xip that held the lock or is no longer running (it
 * may have appended and committed since S), else S's xmax. It sees only events
 * of transactions below the horizon:
 * - a transaction below the horizon that is not in xip ended before S: its
 *   events are in S, or it appended nothing and never will;
 * - one in xip, below the horizon, was still running after the locks were
 *   read, without the lock, though it already had an id: it has appended
 *   nothing, and can no longer (TA002);
 * - every transaction that starts after S gets an id at or above xmax.
 * So nothing can ever commit below the horizon that the reader has not seen;
 * and a transaction that appends nothing (a report, an idle session in another
 * database, CREATE INDEX CONCURRENTLY) never delays a reader.
 *
 * **Positions survive a move.** Transaction ids belong to a server: after
 * pg_dump/pg_restore or logical replication onto another server, new ids may
 * be far below the old ones. Each epoch of `tally_log_epochs` records the
 * server (pg_control_system's system identifier) it was written on. The first
 * session on a new server opens a new epoch, so every later event sorts after
 * the whole copied log, and every stored checkpoint stays valid. Events of
 * earlier epochs are complete copies and always visible; the horizon applies
 * to the current epoch only. A session remembers its epoch in the `tally.epoch`
 * setting, so the check costs one file read per connection, not per append.
 */
export const APPEND_LOCK = { classId: 0x74616c6c /* 'tall' */, objectId: 1 } as const;

export const visibilityMigration: Migration = {
  name: '003_epochs_and_append_lock',
  up: async (knex) => {
    await knex.raw(`
      create table tally_log_epochs (
        epoch int primary key,
        system_identifier bigint not null,
        started_at timestamptz not null default now()
      );
      insert into tally_log_epochs (epoch, system_identifier) select 0, system_identifier from pg_control_system();

      alter table tally_events add column epoch int not null default 0;
      alter table tally_events alter column epoch drop default;
      alter table tally_events drop constraint tally_events_pkey;
      alter table tally_events add primary key (epoch, transaction_id, global_position);

      -- The epoch of this server, opening a new one when the log was written elsewhere.
      create function tally_epoch() returns int language plpgsql as $$
      declare
        v_cached text := current_setting('tally.epoch', true);
        v_system bigint;
        v_epoch int;
        v_epoch_system bigint;
      begin
        if v_cached is not null and v_cached <> '' then return v_cached::int; end if;
        select system_identifier into v_system from pg_control_system();
        select epoch, system_identifier into v_epoch, v_epoch_system from tally_log_epochs order by epoch desc limit 1;
        if v_epoch_system is distinct from v_system then
          lock table tally_log_epochs in exclusive mode;
          select epoch, system_identifier into v_epoch, v_epoch_system from tally_log_epochs order by epoch desc limit 1;
          if v_epoch_system is distinct from v_system then
            v_epoch := coalesce(v_epoch + 1, 0);
            insert into tally_log_epochs (epoch, system_identifier) values (v_epoch, v_system);
            raise log 'tally: the event log moved to server %; epoch % begins', v_system, v_epoch;
          end if;
        end if;
        perform set_config('tally.epoch', v_epoch::text, false);
        return v_epoch;
      end $$;

      -- Called by every append before its first write: takes the append lock, returns the epoch.
      create function tally_begin_append() returns int language plpgsql as $$
      begin
        if current_setting('tally.appending', true) is distinct from 'on' then
          if pg_current_xact_id_if_assigned() is not null then
            raise exception using errcode = 'TA002',
              message = 'an append must come before any other write in its transaction',
              hint = 'readers would otherwise not know to wait for this transaction; append first, or in a transaction of its own';
          end if;
          perform pg_advisory_xact_lock_shared(${APPEND_LOCK.classId}, ${APPEND_LOCK.objectId});
          perform set_config('tally.appending', 'on', true);
        end if;
        return tally_epoch();
      end $$;

      -- The horizon of the calling statement's snapshot (stable: it sees that snapshot).
      -- Three reads, strictly in this order: lock holders, their transaction ids, statuses.
      create function tally_visible_before() returns xid8 language plpgsql stable as $$
      declare
        v_snapshot pg_snapshot := pg_current_snapshot();
        v_holders int[];
        v_unknown boolean;
        v_appenders bigint[];
        v_running xid8;
      begin
        if pg_snapshot_xmin(v_snapshot) = pg_snapshot_xmax(v_snapshot) then return pg_snapshot_xmax(v_snapshot); end if;
        select array_agg(pid), bool_or(pid is null) into v_holders, v_unknown from pg_locks
         where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database())
           and classid = ${APPEND_LOCK.classId} and objid = ${APPEND_LOCK.objectId} and objsubid = 2;
        -- A prepared transaction holds the lock without a backend: its id cannot be told here.
        if v_unknown then return pg_snapshot_xmin(v_snapshot); end if;
        if v_holders is not null then
          -- backend_xid is set when a transaction id is handed out, as the snapshot sees it
          -- (pg_locks' transactionid row comes a moment later, so it cannot be used).
          perform pg_stat_clear_snapshot();
          select coalesce(array_agg(backend_xid::text::bigint) filter (where backend_xid is not null), '{}'),
                 coalesce(bool_or(query = '<insufficient privilege>'), false)
            into v_appenders, v_unknown
            from pg_stat_activity where pid = any(v_holders);
          -- An appender under a role whose sessions this one may not see: wait for everything.
          if v_unknown then return pg_snapshot_xmin(v_snapshot); end if;
        end if;
        -- pg_stat_activity shows 32-bit ids, which are unique among running transactions.
        for v_running in select x from pg_snapshot_xip(v_snapshot) as x order by x loop
          if (v_running::text::bigint % 4294967296) = any(coalesce(v_appenders, '{}'))
             or pg_xact_status(v_running) is distinct from 'in progress' then
            return v_running;
          end if;
        end loop;
        return pg_snapshot_xmax(v_snapshot);
      end $$;

      drop function tally_append_one(text, bigint, uuid, text, jsonb, jsonb);
      drop function tally_append_many(text, bigint, jsonb);
      drop function tally_append(text, bigint, uuid[], text[], jsonb[], jsonb[]);

      create function tally_append_one(p_stream text, p_expected bigint, p_id uuid, p_type text, p_data jsonb, p_metadata jsonb)
      returns table (next_revision bigint, epoch int, transaction_id xid8, global_position bigint)
      language plpgsql as $$
      declare
        v_epoch int := tally_begin_append();
        v_revision bigint := tally_claim(p_stream, p_expected, 1) + 1;
      begin
        return query
          insert into tally_events (epoch, stream_id, revision, event_id, type, data, metadata)
          values (v_epoch, p_stream, v_revision, p_id, p_type, p_data, p_metadata)
          returning tally_events.revision, tally_events.epoch, tally_events.transaction_id, tally_events.global_position;
      end $$;

      create function tally_append_many(p_stream text, p_expected bigint, p_events jsonb)
      returns table (next_revision bigint, epoch int, transaction_id xid8, global_position bigint)
      language plpgsql as $$
      declare
        v_epoch int := tally_begin_append();
        v_count int := jsonb_array_length(p_events);
        v_current bigint := tally_claim(p_stream, p_expected, v_count);
      begin
        return query
          with inserted as (
            insert into tally_events (epoch, stream_id, revision, event_id, type, data, metadata)
            select v_epoch, p_stream, v_current + e.n, (e.value->>'id')::uuid, e.value->>'type', e.value->'data', e.value->'metadata'
              from jsonb_array_elements(p_events) with ordinality as e(value, n)
             order by e.n
            returning tally_events.global_position
          )
          select v_current + v_count, v_epoch, pg_current_xact_id(), max(inserted.global_position) from inserted;
      end $$;
    `);
  },
  down: async () => {
    throw new Error('003_epochs_and_append_lock cannot be undone');
  },
};

/**
 * The same horizon, cheaper: the transaction ids of the lock's holders are
 * read from `pg_stat_get_activity(pid)`, one backend each, instead of from
 * the `pg_stat_activity` view, which builds a row for every backend and joins
 * it with the catalogs on every log read. Same reads, same order, same answer.
 */
export const cheaperHorizonMigration: Migration = {
  name: '006_cheaper_horizon',
  up: async (knex) => {
    await knex.raw(`
      create or replace function tally_visible_before() returns xid8 language plpgsql stable as $$
      declare
        v_snapshot pg_snapshot := pg_current_snapshot();
        v_holders int[];
        v_unknown boolean;
        v_appenders bigint[];
        v_running xid8;
      begin
        if pg_snapshot_xmin(v_snapshot) = pg_snapshot_xmax(v_snapshot) then return pg_snapshot_xmax(v_snapshot); end if;
        select array_agg(pid), bool_or(pid is null) into v_holders, v_unknown from pg_locks
         where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database())
           and classid = ${APPEND_LOCK.classId} and objid = ${APPEND_LOCK.objectId} and objsubid = 2;
        if v_unknown then return pg_snapshot_xmin(v_snapshot); end if;
        if v_holders is not null then
          perform pg_stat_clear_snapshot();
          select coalesce(array_agg(a.backend_xid::text::bigint) filter (where a.backend_xid is not null), '{}'),
                 coalesce(bool_or(a.query = '<insufficient privilege>'), false)
            into v_appenders, v_unknown
            from unnest(v_holders) as h(pid), lateral pg_stat_get_activity(h.pid) as a;
          if v_unknown then return pg_snapshot_xmin(v_snapshot); end if;
        end if;
        for v_running in select x from pg_snapshot_xip(v_snapshot) as x order by x loop
          if (v_running::text::bigint % 4294967296) = any(coalesce(v_appenders, '{}'))
             or pg_xact_status(v_running) is distinct from 'in progress' then
            return v_running;
          end if;
        end loop;
        return pg_snapshot_xmax(v_snapshot);
      end $$;
    `);
  },
  down: async () => {
    throw new Error('006_cheaper_horizon cannot be undone');
  },
};
