import type { Knex } from 'knex';

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
  startsAt: string | null;
  endsAt: string | null;
  status: string;
  createdAt: string;
  revision: string;
  rules: RuleView[];
  totals: { earnings: number; amount: number };
}

export type DescriptionGenerationView =
  | { status: 'pending'; prompt: string | null }
  | { status: 'generated'; prompt: string | null; provider: string; model: string; cached: boolean; generatedAt: string };

export interface EarningView {
  id: string;
  eventId: string;
  campaignId: string;
  ruleId: string;
  beneficiaryId: string;
  amount: number;
  currency: string;
  status: EarningStatus;
  grantedAt: string;
  /** When the hold ends; grantedAt for a campaign that holds nothing. */
  approvesAt: string;
  approvedAt: string | null;
}

export const EARNING_STATUSES = ['pending', 'approved'] as const;
export type EarningStatus = (typeof EARNING_STATUSES)[number];

/** One currency's earnings of a beneficiary, in its major unit. Nothing is reversed yet: reversals are the next slice of issue 11. */
export interface BalanceView {
  currency: string;
  pending: number;
  approved: number;
  reversed: number;
  /** approved − reversed: what the beneficiary may spend or be paid. */
  available: number;
}

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
    const row = await knex('rm_campaigns').where({ id }).first();
    if (!row) return undefined;
    const [rules, totals] = await Promise.all([
      knex('rm_rules').where({ campaign_id: id }).orderBy([{ column: 'priority', order: 'desc' }, { column: 'added_at' }]),
      knex('rm_earnings').where({ campaign_id: id }).first(knex.raw('count(*)::int as earnings'), knex.raw('coalesce(sum(amount), 0)::text as amount')),
    ]);
    return {
      id: row.id, name: row.name, description: row.description, descriptionGeneration: descriptionGeneration(row), notifications: row.notifications ?? null,
      currency: row.currency, budget: decimal(row.budget), startsAt: iso(row.starts_at), endsAt: iso(row.ends_at),
      status: row.status, createdAt: iso(row.created_at)!, revision: String(row.revision),
      rules: rules.map((rule) => ({
        id: rule.id, name: rule.name, priority: rule.priority, conditions: rule.conditions,
        reward: rule.reward, beneficiary: rule.beneficiary, limits: rule.limits, addedAt: iso(rule.added_at)!,
      })),
      totals: { earnings: totals?.earnings ?? 0, amount: Number(totals?.amount ?? 0) },
    };
  },

  async campaigns(limit: number, offset: number): Promise<Omit<CampaignView, 'rules' | 'totals' | 'descriptionGeneration' | 'notifications'>[]> {
    const rows = await knex('rm_campaigns').orderBy('created_at', 'desc').limit(limit).offset(offset);
    return rows.map((row) => ({
      id: row.id, name: row.name, description: row.description, currency: row.currency,
      budget: decimal(row.budget), startsAt: iso(row.starts_at), endsAt: iso(row.ends_at),
      status: row.status, createdAt: iso(row.created_at)!, revision: String(row.revision),
    }));
  },

  async trackedEvent(id: string): Promise<TrackedEventView | undefined> {
    const row = await knex('rm_tracked_events').where({ id }).first();
    if (!row) return undefined;
    return {
      id: row.id, type: row.type, status: row.status, occurredAt: iso(row.occurred_at)!, registeredAt: iso(row.registered_at)!,
      matchedRuleId: row.matched_rule_ids[0] ?? null, matchedRuleIds: row.matched_rule_ids, earnings: row.earnings,
      ...(row.skip_reasons ? { skipReasons: row.skip_reasons } : {}),
      document: row.document,
    };
  },

  async earnings(filter: { beneficiaryId?: string; campaignId?: string; status?: EarningStatus }, limit: number, offset: number): Promise<EarningView[]> {
    const query = knex('rm_earnings').orderBy([{ column: 'granted_at', order: 'desc' }, { column: 'id' }]).limit(limit).offset(offset);
    if (filter.beneficiaryId !== undefined) query.where({ beneficiary_id: filter.beneficiaryId });
    if (filter.campaignId !== undefined) query.where({ campaign_id: filter.campaignId });
    if (filter.status !== undefined) query.where({ status: filter.status });
    const rows = await query;
    return rows.map((row) => ({
      id: row.id, eventId: row.event_id, campaignId: row.campaign_id, ruleId: row.rule_id, beneficiaryId: row.beneficiary_id,
      amount: Number(row.amount), currency: row.currency, status: row.status, grantedAt: iso(row.granted_at)!,
      approvesAt: iso(row.approves_at)!, approvedAt: iso(row.approved_at),
    }));
  },

  /** Summed in SQL over the exact decimals the read model keeps, so no float drift adds up across earnings. */
  async balance(beneficiaryId: string): Promise<BalanceView[]> {
    const rows: { currency: string; pending: string; approved: string }[] = await knex('rm_earnings')
      .where({ beneficiary_id: beneficiaryId })
      .groupBy('currency')
      .orderBy('currency')
      .select(
        'currency',
        knex.raw(`coalesce(sum(amount) filter (where status = 'pending'), 0)::text as pending`),
        knex.raw(`coalesce(sum(amount) filter (where status = 'approved'), 0)::text as approved`),
      );
    return rows.map((row) => {
      const approved = Number(row.approved);
      const reversed = 0;
      return { currency: row.currency, pending: Number(row.pending), approved, reversed, available: approved - reversed };
    });
  },
});

export type ReadModelQueries = ReturnType<typeof createReadModelQueries>;
