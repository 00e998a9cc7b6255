import type { EarningStep } from './earning-step.ts';
import type { MessageContent } from './message-events.ts';
import type { CampaignNotifications, MessageWording } from './notifications.ts';

/**
 * What an approval or a reversal says when the campaign gave no words for it
 * and its main wording is a template: the grant's template would say "you
 * earned" again, which is wrong news. Same `{{path}}` syntax and renderer as
 * any template; the text is copied into MessageRequested, so changing it here
 * never changes a message already requested.
 */
export const DEFAULT_TEMPLATES = {
  approved: 'Your reward of {{approval.amount}} {{earning.currency}} from {{campaign.name}} is approved.',
  reversed: '{{reversal.amount}} {{earning.currency}} of your reward from {{campaign.name}} was reversed ({{reversal.reason}}); {{reversal.remaining}} {{earning.currency}} remains.',
  /** Templates have no conditions: a reversal that leaves nothing gets its own text rather than "0 EUR remains". */
  reversedInFull: 'Your reward of {{reversal.amount}} {{earning.currency}} from {{campaign.name}} was reversed ({{reversal.reason}}).',
} as const;

/**
 * Appended to the campaign's main prompt for a step it did not word: the
 * context's `lifecycle` says it too, but a prompt written for grants would
 * otherwise be answered with "you earned" again.
 */
export const PROMPT_STEP_NOTES = {
  approved: 'This message is not about earning the reward but about its approval: the hold is over and the reward is approved (lifecycle "approved"; the approved amount is approval.amount in the context).',
  reversed: 'This message is not about earning the reward but about taking part or all of it back, because the purchase was refunded (lifecycle "reversed"; reversal.amount was taken back, reversal.remaining is left, reversal.reason says why).',
} as const;

export interface Wording {
  readonly content: MessageContent;
  /** Email subject; undefined: the campaign's name. */
  readonly subject: string | undefined;
}

const contentOf = (wording: MessageWording): MessageContent => (wording.template !== undefined ? { template: wording.template } : { prompt: wording.prompt! });

/**
 * The words of the message about this step: the grant's are the main
 * wording; an approval's and a reversal's are `onApproved` / `onReversed`
 * when given, else the main prompt with a note saying which step, or a
 * default template (when the main wording is a template).
 */
export const wordingFor = (notifications: CampaignNotifications, step: EarningStep): Wording => {
  if (step.lifecycle === 'granted') return { content: contentOf(notifications), subject: notifications.subject };
  const own = step.lifecycle === 'approved' ? notifications.onApproved : notifications.onReversed;
  if (own !== undefined) return { content: contentOf(own), subject: own.subject ?? notifications.subject };
  if (notifications.prompt !== undefined) return { content: { prompt: `${notifications.prompt}\n\n${PROMPT_STEP_NOTES[step.lifecycle]}` }, subject: notifications.subject };
  const template = step.lifecycle === 'approved' ? DEFAULT_TEMPLATES.approved : step.reversal.remaining <= 0 ? DEFAULT_TEMPLATES.reversedInFull : DEFAULT_TEMPLATES.reversed;
  return { content: { template }, subject: notifications.subject };
};
