import type { Knex } from 'knex';
import type { ReversalView } from '../projections/read-models/tracked-events-projection.ts';
import { totalsView, withTotals, type CampaignTotalsRow, type CampaignTotalsView } from './campaign-totals.ts';

/** The answers of the query API, shaped as DESIGN §7 says, straight from the read models. */

export interface RuleView {
  id: string;
  name: string;
  priority: number;
  conditions: unknown;
  reward: unknown;
  beneficiary: string;
  limits: unknown;
  addedAt: string;
}

export interface CampaignView {
  id: string;
  name: string;
  description: string | null;
  /** Null when the description was given (or none was); else whether the gateway has written it yet, and who did. */
  descriptionGeneration: DescriptionGenerationView | null;
  /** What the campaign sends for each earning, never with its webhook secret (`hasSecret` says whether there is one). */
  notifications: unknown;
  currency: string;
  budget: number | null;
  /** Days each earning stays pending. */
  holdDays: number;
  /** Days after its tracked event that a refund can reverse an earning; null: no limit (campaigns created before refunds). */
  refundDays: number | null;
  startsAt: string | null;
  endsAt: string | null;
  status: string;
  createdAt: string;
  revision: string;
  rules: RuleView[];
  totals: CampaignTotalsView;
}

export type DescriptionGenerationView =
  | { status: 'pending'; prompt: string | null }
  | { status: 'generated'; prompt: string | null; provider: string; model: string; cached: boolean; generatedAt: string };

export interface TrackedEventView {
  id: string;
  type: string | null;
  status: 'pending' | 'processed' | 'skipped';
  occurredAt: string;
  registeredAt: string;
  matchedRuleId: string | null;
  matchedRuleIds: string[];
  earnings: unknown[];
  skipReasons?: unknown;
  /** Only for a refund decided with RefundApplied: the event it refunds, and what it took back of each of its earnings. */
  refundOf?: string;
  reversals?: ReversalView[];
  document: unknown;
}

interface CampaignRow {
  description_status: 'pending' | 'generated' | null;
  description_prompt: string | null;
  description_provider: string | null;
  description_model: string | null;
  description_cached: boolean | null;
  description_generated_at: Date | null;
}

/** rm_campaigns as the campaign list reads it, with its totals. */
interface ListedCampaignRow extends CampaignTotalsRow {
  id: string; name: string; description: string | null; currency: string; budget: string | null; hold_days: number; refund_days: number | null;
  starts_at: Date | null; ends_at: Date | null; status: string; created_at: Date; revision: string;
}

const iso = (value: Date | null): string | null => (value === null ? null : value.toISOString());
const decimal = (value: string | null): number | null => (value === null ? null : Number(value));

const descriptionGeneration = (row: CampaignRow): DescriptionGenerationView | null => {
  if (row.description_status === null) return null;
  if (row.description_status === 'pending') return { status: 'pending', prompt: row.description_prompt };
  return {
    status: 'generated', prompt: row.description_prompt, provider: row.description_provider ?? '', model: row.description_model ?? '',
    cached: row.description_cached ?? false, generatedAt: iso(row.description_generated_at)!,
  };
};

export const createReadModelQueries = (knex: Knex) => ({
  async campaign(id: string): Promise<CampaignView | undefined> {
    const [[row], rules] = await Promise.all([
      withTotals(knex, knex('rm_campaigns as c').where('c.id', id).select('c.*')),
      knex('rm_rules').where({ campaign_id: id }).orderBy([{ column: 'priority', order: 'desc' }, { column: 'added_at' }]),
    ]);
    if (!row) return undefined;
    return {
      id: row.id, name: row.name, description: row.description, descriptionGeneration: descriptionGeneration(row), notifications: row.notifications ?? null,
      currency: row.currency, budget: decimal(row.budget), holdDays: row.hold_days, refundDays: row.refund_days, startsAt: iso(row.starts_at), endsAt: iso(row.ends_at),
      status: row.status, createdAt: iso(row.created_at)!, revision: String(row.revision),
      rules: rules.map((rule) => ({
        id: rule.id, name: rule.name, priority: rule.priority, conditions: rule.conditions,
        reward: rule.reward, beneficiary: rule.beneficiary, limits: rule.limits, addedAt: iso(rule.added_at)!,
      })),
      totals: totalsView(row),
    };
  },

  async campaigns(limit: number, offset: number): Promise<Omit<CampaignView, 'rules' | 'descriptionGeneration' | 'notifications'>[]> {
    const rows: ListedCampaignRow[] = await withTotals(knex, knex('rm_campaigns as c').select('c.*')).orderBy([{ column: 'c.created_at', order: 'desc' }, { column: 'c.id' }]).limit(limit).offset(offset);
    return rows.map((row) => ({
      id: row.id, name: row.name, description: row.description, currency: row.currency,
      budget: decimal(row.budget), holdDays: row.hold_days, refundDays: row.refund_days, startsAt: iso(row.starts_at), endsAt: iso(row.ends_at),
      status: row.status, createdAt: iso(row.created_at)!, revision: String(row.revision), totals: totalsView(row),
    }));
  },

  async trackedEvent(id: string): Promise<TrackedEventView | undefined> {
    const row = await knex('rm_tracked_events').where({ id }).first();
    if (!row) return undefined;
    return {
      id: row.id, type: row.type, status: row.status, occurredAt: iso(row.occurred_at)!, registeredAt: iso(row.registered_at)!,
      matchedRuleId: row.matched_rule_ids[0] ?? null, matchedRuleIds: row.matched_rule_ids, earnings: row.earnings,
      ...(row.skip_reasons ? { skipReasons: row.skip_reasons } : {}),
      ...(row.refund_of === null ? {} : { refundOf: row.refund_of, reversals: row.reversals }),
      document: row.document,
    };
  },
});

export type ReadModelQueries = ReturnType<typeof createReadModelQueries>;
