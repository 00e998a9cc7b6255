import type { Migration } from '../infrastructure/postgres/migrate.ts';

export const READ_MODEL_MIGRATIONS_TABLE = 'tally_read_model_migrations';

export const readModelMigrations: readonly Migration[] = [
  {
    name: '001_campaigns_events_earnings',
    up: async (knex) => {
      await knex.schema.createTable('rm_campaigns', (t) => {
        t.text('id').primary();
        t.text('name').notNullable();
        t.text('description');
        t.text('currency').notNullable();
        t.decimal('budget', 20, 4);
        t.timestamp('starts_at', { useTz: true });
        t.timestamp('ends_at', { useTz: true });
        t.text('status').notNullable();
        t.timestamp('created_at', { useTz: true }).notNullable();
        t.bigInteger('revision').notNullable();
      });
      await knex.schema.createTable('rm_rules', (t) => {
        t.text('id').primary();
        t.text('campaign_id').notNullable().index();
        t.text('name').notNullable();
        t.integer('priority').notNullable();
        t.jsonb('conditions').notNullable();
        t.jsonb('reward').notNullable();
        t.text('beneficiary').notNullable();
        t.timestamp('added_at', { useTz: true }).notNullable();
      });
      await knex.schema.createTable('rm_tracked_events', (t) => {
        t.text('id').primary();
        t.text('type');
        t.timestamp('occurred_at', { useTz: true }).notNullable();
        t.timestamp('registered_at', { useTz: true }).notNullable();
        t.jsonb('document').notNullable();
        t.text('status').notNullable();
        t.specificType('matched_rule_ids', 'text[]').notNullable().defaultTo('{}');
        t.jsonb('earnings').notNullable().defaultTo('[]');
        t.jsonb('skip_reasons');
        t.text('position').notNullable();
      });
      await knex.schema.createTable('rm_earnings', (t) => {
        t.text('id').primary();
        t.text('event_id').notNullable();
        t.text('campaign_id').notNullable();
        t.text('rule_id').notNullable();
        t.text('beneficiary_id').notNullable();
        t.decimal('amount', 20, 4).notNullable();
        t.text('currency').notNullable();
        t.text('status').notNullable();
        t.timestamp('granted_at', { useTz: true }).notNullable();
        t.index(['beneficiary_id', 'granted_at']);
        t.index(['campaign_id', 'granted_at']);
      });
    },
    down: async (knex) => {
      for (const table of ['rm_earnings', 'rm_tracked_events', 'rm_rules', 'rm_campaigns']) await knex.schema.dropTable(table);
    },
  },
  {
    name: '002_rule_limits',
    up: async (knex) => {
      await knex.schema.alterTable('rm_rules', (t) => {
        t.jsonb('limits').notNullable().defaultTo(JSON.stringify({ maxPerBeneficiary: null }));
      });
    },
    down: async (knex) => {
      await knex.schema.alterTable('rm_rules', (t) => t.dropColumn('limits'));
    },
  },
  {
    // Messages (issue 10): one row each, and one row per delivery attempt.
    name: '003_messages',
    up: async (knex) => {
      await knex.schema.createTable('rm_messages', (t) => {
        t.text('id').primary();
        t.text('earning_id');
        t.text('campaign_id');
        t.text('channel').notNullable();
        t.text('recipient').notNullable();
        t.text('status').notNullable();
        t.text('subject');
        t.text('body');
        t.text('provider');
        t.text('model');
        t.boolean('cached');
        t.integer('attempts').notNullable().defaultTo(0);
        t.text('last_error');
        t.timestamp('next_attempt_at', { useTz: true });
        t.timestamp('requested_at', { useTz: true }).notNullable();
        t.timestamp('sent_at', { useTz: true });
        t.index(['recipient', 'requested_at']);
        t.index(['campaign_id', 'requested_at']);
        t.index(['status', 'next_attempt_at']);
      });
      await knex.schema.createTable('rm_message_attempts', (t) => {
        t.text('message_id').notNullable();
        t.integer('attempt').notNullable();
        t.text('outcome').notNullable();
        t.text('error');
        t.timestamp('next_attempt_at', { useTz: true });
        t.timestamp('at', { useTz: true }).notNullable();
        t.primary(['message_id', 'attempt']);
      });
    },
    down: async (knex) => {
      await knex.schema.dropTable('rm_message_attempts');
      await knex.schema.dropTable('rm_messages');
    },
  },
  {
    // Campaign copy (issue 10): who wrote the description; and the campaign's notifications, without their secret.
    name: '004_campaign_copy_and_notifications',
    up: async (knex) => {
      await knex.schema.alterTable('rm_campaigns', (t) => {
        t.text('description_status');
        t.text('description_prompt');
        t.text('description_provider');
        t.text('description_model');
        t.boolean('description_cached');
        t.timestamp('description_generated_at', { useTz: true });
        t.jsonb('notifications');
      });
    },
    down: async (knex) => {
      await knex.schema.alterTable('rm_campaigns', (t) => {
        for (const column of ['description_status', 'description_prompt', 'description_provider', 'description_model', 'description_cached', 'description_generated_at', 'notifications']) t.dropColumn(column);
      });
    },
  },
  {
    // Earning hold and approval (issue 11). Earnings projected before holds existed were approved when granted: 'granted' becomes 'approved'.
    name: '005_earning_approval',
    up: async (knex) => {
      await knex.schema.alterTable('rm_earnings', (t) => {
        t.timestamp('approves_at', { useTz: true });
        t.timestamp('approved_at', { useTz: true });
        t.index(['beneficiary_id', 'currency', 'status']);
      });
      await knex('rm_earnings').update({ status: 'approved', approves_at: knex.ref('granted_at'), approved_at: knex.ref('granted_at') });
      await knex.schema.alterTable('rm_earnings', (t) => t.dropNullable('approves_at'));
    },
    down: async (knex) => {
      await knex('rm_earnings').update({ status: 'granted' });
      await knex.schema.alterTable('rm_earnings', (t) => {
        t.dropIndex(['beneficiary_id', 'currency', 'status']);
        t.dropColumn('approves_at');
        t.dropColumn('approved_at');
      });
    },
  },
  {
    // Refunds (issue 11): what reversals took back of each earning (remaining = amount − reversed), and each earning's
    // history, one row per domain event of its stream. Earlier earnings get the history their streams hold: a grant, and an
    // approval when the campaign held it (a grant with no hold was approved by itself, with no EarningApproved).
    name: '006_earning_reversals',
    up: async (knex) => {
      await knex.schema.alterTable('rm_earnings', (t) => {
        t.decimal('reversed', 20, 4).notNullable().defaultTo(0);
        t.timestamp('reversed_at', { useTz: true });
      });
      await knex.schema.createTable('rm_earning_history', (t) => {
        t.text('earning_id').notNullable();
        t.bigInteger('revision').notNullable();
        t.text('kind').notNullable();
        t.decimal('amount', 20, 4);
        t.decimal('remaining', 20, 4);
        t.text('reason');
        t.text('refund_event_id');
        t.timestamp('at', { useTz: true }).notNullable();
        t.primary(['earning_id', 'revision']);
      });
      await knex.raw(`insert into rm_earning_history (earning_id, revision, kind, amount, at) select id, 0, 'granted', amount, granted_at from rm_earnings`);
      await knex.raw(
        `insert into rm_earning_history (earning_id, revision, kind, at)
         select id, 1, 'approved', approved_at from rm_earnings where approved_at is not null and approves_at > granted_at`,
      );
    },
    down: async (knex) => {
      await knex.schema.dropTable('rm_earning_history');
      await knex.schema.alterTable('rm_earnings', (t) => {
        t.dropColumn('reversed');
        t.dropColumn('reversed_at');
      });
    },
  },
  {
    // Refunds (issue 11): a refund's decision, RefundApplied, names the event it refunds and what it took back.
    name: '007_refund_decisions',
    up: async (knex) => {
      await knex.schema.alterTable('rm_tracked_events', (t) => {
        t.text('refund_of');
        t.jsonb('reversals');
      });
    },
    down: async (knex) => {
      await knex.schema.alterTable('rm_tracked_events', (t) => {
        t.dropColumn('refund_of');
        t.dropColumn('reversals');
      });
    },
  },
  {
    // Campaign totals (issue 11), kept as the log goes instead of summed per request. Two tables, each written by the
    // projection that sees its domain events (matches: tracked events; earnings: earnings), so neither waits on the
    // other's row locks; each is filled here from its own projection's rows, which stand at that projection's checkpoint.
    name: '008_campaign_totals',
    up: async (knex) => {
      await knex.schema.createTable('rm_campaign_matches', (t) => {
        t.text('campaign_id').primary();
        t.bigInteger('events_matched').notNullable();
      });
      await knex.schema.createTable('rm_campaign_earnings', (t) => {
        t.text('campaign_id').primary();
        t.bigInteger('earnings').notNullable();
        t.decimal('granted', 20, 4).notNullable();
        t.decimal('reversed', 20, 4).notNullable();
      });
      await knex.raw(
        `insert into rm_campaign_matches (campaign_id, events_matched)
         select earning->>'campaignId', count(*) from rm_tracked_events, jsonb_array_elements(earnings) as earning group by 1`,
      );
      await knex.raw(
        `insert into rm_campaign_earnings (campaign_id, earnings, granted, reversed)
         select campaign_id, count(*), sum(amount), sum(reversed) from rm_earnings group by campaign_id`,
      );
    },
    down: async (knex) => {
      await knex.schema.dropTable('rm_campaign_earnings');
      await knex.schema.dropTable('rm_campaign_matches');
    },
  },
  {
    // Messages on approval and reversal (issue 11): which step of its earning a message is about. Every message about
    // an earning requested before this was about its grant.
    name: '009_message_lifecycle',
    up: async (knex) => {
      await knex.schema.alterTable('rm_messages', (t) => t.text('lifecycle'));
      await knex('rm_messages').whereNotNull('earning_id').update({ lifecycle: 'granted' });
    },
    down: async (knex) => {
      await knex.schema.alterTable('rm_messages', (t) => t.dropColumn('lifecycle'));
    },
  },
  {
    // A campaign shows its holdDays and refundDays (issue 11). The read model never kept holdDays, so campaigns projected
    // before are projected again from the log: their rows and rules go, and the campaigns projection starts over (a few
    // events per campaign; meanwhile GET /campaigns lists those it has redone).
    name: '010_campaign_hold_and_refund_days',
    up: async (knex) => {
      await knex.schema.alterTable('rm_campaigns', (t) => {
        t.integer('hold_days').notNullable().defaultTo(0);
        t.integer('refund_days');
      });
      const projected = await knex('rm_campaigns').first('id');
      if (!projected || !(await knex.schema.hasTable('tally_checkpoints'))) return;
      await knex('rm_rules').delete();
      await knex('rm_campaigns').delete();
      await knex('tally_checkpoints').where({ name: 'projection:campaigns' }).update({ position: null });
    },
    down: async (knex) => {
      await knex.schema.alterTable('rm_campaigns', (t) => {
        t.dropColumn('hold_days');
        t.dropColumn('refund_days');
      });
    },
  },
];
