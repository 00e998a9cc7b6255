import type { Migration } from '../../postgres/migrate.ts';
import { appendBatchMigration, setBasedAppendBatchMigration } from './append-batch.ts';
import { cheaperHorizonMigration, visibilityMigration } from './visibility.ts';

/**
 * The whole PostgreSQL event store: a few tables and functions, after Message DB.
 *
 * Positions are (epoch, transaction_id, global_position); visibility.ts says
 * which of them a reader may see, and why it never skips one.
 *
 * An append checks the expected revision and writes in one round trip:
 * `tally_append_one` for a single event, `tally_append_many` for a batch sent
 * as one jsonb array (arrays of columns through unnest cost a fifth of the
 * throughput: docs/benchmarks.md). Both claim revisions with `tally_claim`.
 * p_expected: >= 0 exact revision, -1 no_stream, -2 any, -3 stream_exists.
 */
export const eventStoreMigrations: readonly Migration[] = [
  {
    name: '001_event_store',
    up: async (knex) => {
      await knex.raw(`
        create table tally_streams (
          stream_id text primary key,
          revision bigint not null
        );
        create table tally_events (
          global_position bigserial not null,
          transaction_id xid8 not null default pg_current_xact_id(),
          stream_id text not null,
          revision bigint not null,
          event_id uuid not null,
          type text not null,
          data jsonb not null,
          metadata jsonb not null,
          recorded_at timestamptz not null default now(),
          primary key (transaction_id, global_position),
          unique (stream_id, revision)
        );
        create function tally_append(
          p_stream text, p_expected bigint,
          p_ids uuid[], p_types text[], p_data jsonb[], p_metadata jsonb[]
        ) returns table (next_revision bigint, transaction_id xid8, global_position bigint)
        language plpgsql as $$
        declare
          v_current bigint;
          v_count int := cardinality(p_types);
        begin
          select s.revision into v_current from tally_streams s where s.stream_id = p_stream for update;
          if not found then v_current := -1; end if;
          if (p_expected >= -1 and p_expected <> v_current) or (p_expected = -3 and v_current = -1) then
            raise exception using errcode = 'TA001', message = 'wrong expected revision',
              detail = v_current::text;
          end if;
          if v_current = -1 then
            insert into tally_streams (stream_id, revision) values (p_stream, v_count - 1);
          else
            update tally_streams set revision = v_current + v_count where stream_id = p_stream;
          end if;
          return query
            with inserted as (
              insert into tally_events (stream_id, revision, event_id, type, data, metadata)
              select p_stream, v_current + u.n, u.i, u.t, u.d, u.m
                from unnest(p_ids, p_types, p_data, p_metadata) with ordinality as u(i, t, d, m, n)
              returning tally_events.global_position
            )
            select v_current + v_count, pg_current_xact_id(), max(inserted.global_position) from inserted;
        end $$;
      `);
    },
    down: async (knex) => {
      await knex.raw('drop function tally_append; drop table tally_events; drop table tally_streams;');
    },
  },
  {
    name: '002_append_one_and_many',
    up: async (knex) => {
      await knex.raw(`
        -- tally_append (arrays of columns) stays for instances still running the previous release.
        -- Locks the stream, checks the expected revision, moves it on by p_count; returns the revision before.
        create function tally_claim(p_stream text, p_expected bigint, p_count int) returns bigint
        language plpgsql as $$
        declare
          v_current bigint;
        begin
          select s.revision into v_current from tally_streams s where s.stream_id = p_stream for update;
          if not found then v_current := -1; end if;
          if (p_expected >= -1 and p_expected <> v_current) or (p_expected = -3 and v_current = -1) then
            raise exception using errcode = 'TA001', message = 'wrong expected revision', detail = v_current::text;
          end if;
          if v_current = -1 then
            insert into tally_streams (stream_id, revision) values (p_stream, p_count - 1);
          else
            update tally_streams set revision = v_current + p_count where stream_id = p_stream;
          end if;
          return v_current;
        end $$;
        create function tally_append_one(p_stream text, p_expected bigint, p_id uuid, p_type text, p_data jsonb, p_metadata jsonb)
        returns table (next_revision bigint, transaction_id xid8, global_position bigint)
        language plpgsql as $$
        declare
          v_revision bigint := tally_claim(p_stream, p_expected, 1) + 1;
        begin
          return query
            insert into tally_events (stream_id, revision, event_id, type, data, metadata)
            values (p_stream, v_revision, p_id, p_type, p_data, p_metadata)
            returning tally_events.revision, tally_events.transaction_id, tally_events.global_position;
        end $$;
        create function tally_append_many(p_stream text, p_expected bigint, p_events jsonb)
        returns table (next_revision bigint, transaction_id xid8, global_position bigint)
        language plpgsql as $$
        declare
          v_count int := jsonb_array_length(p_events);
          v_current bigint := tally_claim(p_stream, p_expected, v_count);
        begin
          return query
            with inserted as (
              insert into tally_events (stream_id, revision, event_id, type, data, metadata)
              select p_stream, v_current + e.n, (e.value->>'id')::uuid, e.value->>'type', e.value->'data', e.value->'metadata'
                from jsonb_array_elements(p_events) with ordinality as e(value, n)
               order by e.n
              returning tally_events.global_position
            )
            select v_current + v_count, pg_current_xact_id(), max(inserted.global_position) from inserted;
        end $$;
      `);
    },
    down: async () => {
      throw new Error('002_append_one_and_many cannot be undone');
    },
  },
  visibilityMigration,
  appendBatchMigration,
  setBasedAppendBatchMigration,
  cheaperHorizonMigration,
];
