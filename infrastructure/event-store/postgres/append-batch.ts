import type { Migration } from '../../postgres/migrate.ts';

/**
 * Appends to many streams in one statement and one transaction (registering a
 * batch of tracked events, the rule engine's decisions): one round trip where
 * there used to be one per stream. Each item is checked against its expected
 * revision on its own; a mismatch skips that item and is reported in its
 * place, the others are written in the order given.
 *
 * p_items: [{stream, expected, events: [{id, type, data, metadata}]}], with
 * expected as in tally_claim (>= 0 exact, -1 no_stream, -2 any, -3 stream_exists).
 */
export const appendBatchMigration: Migration = {
  name: '004_append_batch',
  up: async (knex) => {
    await knex.raw(`
      -- tally_claim without raising: a refusal is an answer here, not an error.
      -- A stream created at once by another transaction is waited for, then checked.
      create function tally_try_claim(p_stream text, p_expected bigint, p_count int, out ok boolean, out current bigint)
      language plpgsql as $$
      begin
        select s.revision into current from tally_streams s where s.stream_id = p_stream for update;
        if not found then
          current := -1;
          if p_expected >= 0 or p_expected = -3 then ok := false; return; end if;
          insert into tally_streams (stream_id, revision) values (p_stream, p_count - 1) on conflict do nothing;
          if found then ok := true; return; end if;
          select s.revision into current from tally_streams s where s.stream_id = p_stream for update;
          if p_expected = -1 then ok := false; return; end if;
        elsif p_expected >= -1 and p_expected <> current then
          ok := false; return;
        end if;
        update tally_streams set revision = current + p_count where stream_id = p_stream;
        ok := true;
      end $$;

      create function tally_append_batch(p_items jsonb)
      returns table (item int, ok boolean, actual bigint, next_revision bigint, epoch int, transaction_id xid8, global_position bigint)
      language plpgsql as $$
      declare
        v_epoch int := tally_begin_append();
        v_item record;
        v_claim record;
        v_count int;
        v_last bigint;
      begin
        for v_item in select e.value, e.n from jsonb_array_elements(p_items) with ordinality as e(value, n) order by e.n loop
          v_count := jsonb_array_length(v_item.value->'events');
          select * into v_claim from tally_try_claim(v_item.value->>'stream', (v_item.value->>'expected')::bigint, v_count);
          if not v_claim.ok then
            return query select v_item.n::int, false, v_claim.current, null::bigint, null::int, null::xid8, null::bigint;
            continue;
          end if;
          with inserted as (
            insert into tally_events (epoch, stream_id, revision, event_id, type, data, metadata)
            select v_epoch, v_item.value->>'stream', v_claim.current + e.n, (e.value->>'id')::uuid, e.value->>'type', e.value->'data', e.value->'metadata'
              from jsonb_array_elements(v_item.value->'events') with ordinality as e(value, n)
             order by e.n
            returning tally_events.global_position
          )
          select max(inserted.global_position) into v_last from inserted;
          return query select v_item.n::int, true, v_claim.current, v_claim.current + v_count, v_epoch, pg_current_xact_id(), v_last;
        end loop;
      end $$;
    `);
  },
  down: async () => {
    throw new Error('004_append_batch cannot be undone');
  },
};

/**
 * The same function, set-based: the streams of a batch are created with one
 * insert and moved on with one update, and all events go in with one insert,
 * so a batch costs a few statements instead of three per stream (about 1.5×
 * faster for 100 items; docs/benchmarks.md). Items the two statements do not
 * settle (a stream named twice, a wrong expected revision, a stream another
 * transaction is creating) go through tally_try_claim one by one, in order, as
 * before. Same signature and answers as 004.
 */
export const setBasedAppendBatchMigration: Migration = {
  name: '005_append_batch_set_based',
  up: async (knex) => {
    await knex.raw(`
      create or replace function tally_append_batch(p_items jsonb)
      returns table (item int, ok boolean, actual bigint, next_revision bigint, epoch int, transaction_id xid8, global_position bigint)
      language plpgsql as $$
      declare
        v_epoch int := tally_begin_append();
        v_stream text[];
        v_expected bigint[];
        v_count int[];
        v_twice text[];
        v_new text[];
        v_moved_stream text[];
        v_moved_current bigint[];
        v_ok boolean[];
        v_current bigint[];
        v_claim record;
      begin
        select array_agg(e.value->>'stream' order by e.n), array_agg((e.value->>'expected')::bigint order by e.n),
               array_agg(jsonb_array_length(e.value->'events') order by e.n)
          into v_stream, v_expected, v_count
          from jsonb_array_elements(p_items) with ordinality as e(value, n);
        if v_stream is null then return; end if;
        -- A stream named by more than one item is claimed item by item below, in order.
        select coalesce(array_agg(s), '{}') into v_twice from (select s from unnest(v_stream) as s group by s having count(*) > 1) as d;

        -- Streams that do not exist yet, created in one statement. One another transaction
        -- is creating at this moment is waited for and left to the item-by-item claim.
        with inserted as (
          insert into tally_streams (stream_id, revision)
          select u.s, u.c - 1 from unnest(v_stream, v_expected, v_count) as u(s, x, c)
           where u.x in (-1, -2) and u.s <> all(v_twice)
          on conflict do nothing
          returning stream_id
        ) select coalesce(array_agg(stream_id), '{}') into v_new from inserted;

        -- Existing streams at the expected revision, moved on in one statement. The revision is
        -- checked again on the locked row (READ COMMITTED re-evaluates it), so nothing is lost.
        with moved as (
          update tally_streams s set revision = s.revision + u.c
            from unnest(v_stream, v_expected, v_count) as u(s, x, c)
           where s.stream_id = u.s and u.s <> all(v_twice) and (u.x in (-2, -3) or u.x = s.revision)
             and u.s not in (select unnest(v_new))
          returning s.stream_id, s.revision - u.c as current
        ) select coalesce(array_agg(moved.stream_id), '{}'), coalesce(array_agg(moved.current), '{}')
            into v_moved_stream, v_moved_current from moved;

        select array_agg(case when nw.s is not null or mv.s is not null then true end order by u.i),
               array_agg(case when nw.s is not null then -1 else mv.cur end order by u.i)
          into v_ok, v_current
          from unnest(v_stream) with ordinality as u(s, i)
          left join unnest(v_new) as nw(s) on nw.s = u.s
          left join unnest(v_moved_stream, v_moved_current) as mv(s, cur) on mv.s = u.s;

        -- The rest (a stream named twice, a wrong expected revision, a race): one claim each, in order.
        for i in 1 .. cardinality(v_stream) loop
          continue when v_ok[i];
          select * into v_claim from tally_try_claim(v_stream[i], v_expected[i], v_count[i]);
          v_ok[i] := v_claim.ok;
          v_current[i] := v_claim.current;
        end loop;

        return query
          with claims as (
            select u.i, u.s, u.cur, u.c from unnest(v_stream, v_current, v_count, v_ok) with ordinality as u(s, cur, c, ok, i) where u.ok
          ), inserted as (
            insert into tally_events (epoch, stream_id, revision, event_id, type, data, metadata)
            select v_epoch, c.s, c.cur + e.n, (e.value->>'id')::uuid, e.value->>'type', e.value->'data', e.value->'metadata'
              from claims c cross join lateral jsonb_array_elements(p_items->(c.i::int - 1)->'events') with ordinality as e(value, n)
             order by c.i, e.n
            returning tally_events.stream_id, tally_events.revision, tally_events.global_position
          ), last as (
            select c.i, max(ins.global_position) as g
              from claims c join inserted ins on ins.stream_id = c.s and ins.revision > c.cur and ins.revision <= c.cur + c.c
             group by c.i
          )
          select u.i::int, u.ok, u.cur, case when u.ok then u.cur + u.c end, case when u.ok then v_epoch end,
                 case when u.ok then pg_current_xact_id() end, last.g
            from unnest(v_current, v_count, v_ok) with ordinality as u(cur, c, ok, i)
            left join last on last.i = u.i
           order by u.i;
      end $$;
    `);
  },
  down: async () => {
    throw new Error('005_append_batch_set_based cannot be undone');
  },
};
