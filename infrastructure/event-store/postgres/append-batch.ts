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
