import { v5 as uuidv5 } from 'uuid';
import type { EarningStep } from '../../domain/message/earning-step.ts';

/**
 * Message ids derive from the earning and the step, so a replay (or a second
 * requester) asks for the same message, once (`no_stream`). Never change
 * these: a new derivation would ask again for every message already sent.
 */
const MESSAGE_NAMESPACE = '3b2f6a4e-8c1d-4f7a-9e25-5d0c7b1a9f43';

/** The grant's: the earning id alone, as it was before approvals and reversals had messages. */
export const messageIdForEarning = (earningId: string): string => uuidv5(earningId, MESSAGE_NAMESPACE);

/** Earning ids are UUIDs and tracked event ids have no `/`, so these names cannot meet a grant's or each other. */
export const messageIdForApproval = (earningId: string): string => uuidv5(`${earningId}/approved`, MESSAGE_NAMESPACE);

/** One per refund: an earning may be reversed several times, each time by another refund. */
export const messageIdForReversal = (earningId: string, refundEventId: string): string => uuidv5(`${earningId}/reversed/${refundEventId}`, MESSAGE_NAMESPACE);

export const messageIdForStep = (earningId: string, step: EarningStep): string => {
  switch (step.lifecycle) {
    case 'granted':
      return messageIdForEarning(earningId);
    case 'approved':
      return messageIdForApproval(earningId);
    case 'reversed':
      return messageIdForReversal(earningId, step.reversal.refundEventId);
  }
};
