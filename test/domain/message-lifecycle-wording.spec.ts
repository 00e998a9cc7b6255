import { expect } from 'chai';
import type { EarningGranted } from '../../domain/earning/earning-events.ts';
import { earningMessageContext } from '../../domain/message/earning-message-context.ts';
import type { EarningStep } from '../../domain/message/earning-step.ts';
import { DEFAULT_TEMPLATES, PROMPT_STEP_NOTES, wordingFor } from '../../domain/message/lifecycle-wording.ts';
import type { CampaignNotifications } from '../../domain/message/notifications.ts';
import { renderTemplate } from '../../domain/message/template.ts';

const at = '2026-03-01T10:00:00.000Z';
const grant: EarningGranted['data'] = { earningId: 'e1', eventId: 'ev1', campaignId: 'c1', ruleId: 'r1', beneficiaryId: 'C-1', amount: 1050, currency: 'EUR', grantedAt: at, approvesAt: at };
const approved: EarningStep = { lifecycle: 'approved', amount: 1050, approvedAt: at };
const reversal = (amount: number, remaining: number): EarningStep => ({
  lifecycle: 'reversed',
  reversal: { earningId: 'e1', eventId: 'ev1', refundEventId: 'rf1', campaignId: 'c1', beneficiaryId: 'C-1', amount, currency: 'EUR', remaining, reason: 'refund rf1', reversedAt: at },
});
const render = (template: string, step: EarningStep) => renderTemplate(template, earningMessageContext(grant, step, undefined, 'Spring').full);

describe('the words of approval and reversal messages', () => {
  it('default to texts whose every placeholder the context has, in major units', () => {
    expect(render(DEFAULT_TEMPLATES.approved, approved)).to.deep.equal({ text: 'Your reward of 10.5 EUR from Spring is approved.', missing: [] });
    expect(render(DEFAULT_TEMPLATES.reversed, reversal(250, 800))).to.deep.equal({ text: '2.5 EUR of your reward from Spring was reversed (refund rf1); 8 EUR remains.', missing: [] });
    expect(render(DEFAULT_TEMPLATES.reversedInFull, reversal(1050, 0))).to.deep.equal({ text: 'Your reward of 10.5 EUR from Spring was reversed (refund rf1).', missing: [] });
  });

  it('are the campaign’s own when given, else the defaults after a template, else the main prompt with a note on the step', () => {
    const templated: CampaignNotifications = { channel: 'log', recipient: 'customerId', template: 'You earned', subject: 'Main' };
    expect(wordingFor(templated, { lifecycle: 'granted' })).to.deep.equal({ content: { template: 'You earned' }, subject: 'Main' });
    expect(wordingFor(templated, approved)).to.deep.equal({ content: { template: DEFAULT_TEMPLATES.approved }, subject: 'Main' });
    expect(wordingFor(templated, reversal(1, 1049)).content).to.deep.equal({ template: DEFAULT_TEMPLATES.reversed });
    expect(wordingFor(templated, reversal(1050, 0)).content).to.deep.equal({ template: DEFAULT_TEMPLATES.reversedInFull });

    const worded: CampaignNotifications = { ...templated, onApproved: { prompt: 'Say it is approved', subject: 'Approved' }, onReversed: { template: 'Taken back' } };
    expect(wordingFor(worded, approved)).to.deep.equal({ content: { prompt: 'Say it is approved' }, subject: 'Approved' });
    expect(wordingFor(worded, reversal(1050, 0))).to.deep.equal({ content: { template: 'Taken back' }, subject: 'Main' });

    const prompted: CampaignNotifications = { channel: 'log', recipient: 'customerId', prompt: 'Thank them' };
    expect(wordingFor(prompted, { lifecycle: 'granted' })).to.deep.equal({ content: { prompt: 'Thank them' }, subject: undefined });
    expect(wordingFor(prompted, approved).content).to.deep.equal({ prompt: `Thank them\n\n${PROMPT_STEP_NOTES.approved}` });
    expect(wordingFor(prompted, reversal(1, 1049)).content).to.deep.equal({ prompt: `Thank them\n\n${PROMPT_STEP_NOTES.reversed}` });
  });

  it('see the step in the context: lifecycle first, with the approval or the reversal', () => {
    const { full } = earningMessageContext(grant, reversal(250, 800), undefined, 'Spring');
    expect(Object.keys(full)[0]).to.equal('lifecycle');
    expect(full).to.deep.include({ lifecycle: 'reversed', reversal: { amount: 2.5, remaining: 8, reason: 'refund rf1', refundEventId: 'rf1', reversedAt: at } });
    expect(earningMessageContext(grant, { lifecycle: 'granted' }, undefined, 'Spring').full).to.not.have.any.keys('approval', 'reversal');
  });
});
