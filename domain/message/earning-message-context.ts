import type { EarningGranted } from '../earning/earning-events.ts';
import type { JsonObject } from '../json.ts';
import { toMajor } from '../money.ts';
import type { EventRegistered } from '../tracked-event/tracked-event-events.ts';
import type { EarningStep } from './earning-step.ts';

export interface EarningMessageContext {
  /** The earning as templates see it; also where a recipient path falls back to (`beneficiaryId`). */
  readonly earning: JsonObject;
  /** Everything a template or a prompt may name, before boundedContext keeps what composition reads. */
  readonly full: JsonObject;
}

/** What a step adds, in major units like the rest of the context: a client speaks major units. */
const stepFields = (step: EarningStep, currency: string): JsonObject => {
  switch (step.lifecycle) {
    case 'granted':
      return {};
    case 'approved':
      return { approval: { amount: toMajor(step.amount, currency), approvedAt: step.approvedAt } };
    case 'reversed': {
      const { amount, remaining, reason, refundEventId, reversedAt } = step.reversal;
      return { reversal: { amount: toMajor(amount, currency), remaining: toMajor(remaining, currency), reason, refundEventId, reversedAt } };
    }
  }
};

/**
 * The context of an earning's message: `{lifecycle, earning, event, campaign}`,
 * with `approval` or `reversal` for those steps. `lifecycle` comes first, so a
 * model reading the JSON learns at once which step it writes about. The
 * earning is the grant as it was granted (its amount too); what a step
 * changed is in the step's own field.
 */
export const earningMessageContext = (grant: EarningGranted['data'], step: EarningStep, tracked: EventRegistered['data'] | undefined, campaignName: string): EarningMessageContext => {
  const earning: JsonObject = {
    earningId: grant.earningId, eventId: grant.eventId, campaignId: grant.campaignId, ruleId: grant.ruleId,
    beneficiaryId: grant.beneficiaryId, amount: toMajor(grant.amount, grant.currency), currency: grant.currency, grantedAt: grant.grantedAt,
  };
  const document: JsonObject = tracked?.document ?? {};
  return {
    earning,
    full: {
      lifecycle: step.lifecycle,
      earning,
      event: { ...document, id: grant.eventId, type: tracked?.eventType ?? null, occurredAt: tracked?.occurredAt ?? null },
      campaign: { id: grant.campaignId, name: campaignName },
      ...stepFields(step, grant.currency),
    },
  };
};
