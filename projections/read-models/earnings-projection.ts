import type { EarningEvent } from '../../domain/earning/earning-events.ts';
import { approvedOnGrant, approvesAtOf } from '../../domain/earning/hold.ts';
import { toMajor } from '../../domain/money.ts';
import { asDomainEvent } from '../../infrastructure/event-store/domain-event.ts';
import type { Projection } from '../projection.ts';

interface EarningRow {
  id: string; event_id: string; campaign_id: string; rule_id: string; beneficiary_id: string;
  amount: number; currency: string; status: 'pending' | 'approved'; granted_at: string; approves_at: string; approved_at: string | null;
}

/**
 * One row per earning: a batch's grants are one multi-row insert. An approval
 * of an earning granted in the same batch changes the row before it is
 * inserted; any other is one update.
 */
export const earningsProjection: Projection = {
  name: 'earnings',
  eventTypes: ['EarningGranted', 'EarningApproved'],
  async applyBatch(trx, events) {
    const inserted = new Map<string, EarningRow>();
    const approvals: { id: string; approvedAt: string }[] = [];
    for (const recorded of events) {
      const event = asDomainEvent<EarningEvent>(recorded);
      if (event.type === 'EarningGranted') {
        const { data } = event;
        const approved = approvedOnGrant(data);
        inserted.set(data.earningId, {
          id: data.earningId, event_id: data.eventId, campaign_id: data.campaignId, rule_id: data.ruleId, beneficiary_id: data.beneficiaryId,
          amount: toMajor(data.amount, data.currency), currency: data.currency, status: approved ? 'approved' : 'pending',
          granted_at: data.grantedAt, approves_at: approvesAtOf(data), approved_at: approved ? data.grantedAt : null,
        });
        continue;
      }
      if (event.type === 'EarningReversed') continue;
      const row = inserted.get(event.data.earningId);
      if (row) Object.assign(row, { status: 'approved', approved_at: event.data.approvedAt });
      else approvals.push({ id: event.data.earningId, approvedAt: event.data.approvedAt });
    }
    if (inserted.size > 0) await trx('rm_earnings').insert([...inserted.values()]);
    for (const { id, approvedAt } of approvals) await trx('rm_earnings').where({ id }).update({ status: 'approved', approved_at: approvedAt });
  },
};
