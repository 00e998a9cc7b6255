import { campaignDecider } from '../../domain/campaign/campaign-decider.ts';
import type { CampaignNotifications } from '../../domain/message/notifications.ts';
import { deciderSpec } from '../support/decider-spec.ts';

const spec = deciderSpec(campaignDecider);
const now = '2026-03-01T10:00:00.000Z';
const create = (notifications: CampaignNotifications) => ({ type: 'CreateCampaign' as const, data: { campaignId: 'c1', name: 'Spring', currency: 'EUR', notifications, now } });

describe('campaign notifications', () => {
  it('are carried in CampaignCreated', () => {
    const notifications: CampaignNotifications = { channel: 'webhook', recipient: 'data.email', template: 'Hi {{event.data.name}}', webhookUrl: 'https://example.com/hook', secret: 's' };
    spec.given([]).when(create(notifications)).then([
      {
        type: 'CampaignCreated',
        data: { campaignId: 'c1', name: 'Spring', description: null, currency: 'EUR', budget: null, startsAt: null, endsAt: null, status: 'active', createdAt: now, holdDays: 0, refundDays: 365, notifications },
      },
    ]);
  });

  it('need exactly one of template and prompt', () => {
    spec.given([]).when(create({ channel: 'log', recipient: 'customerId' })).thenRefuses('invalid', '/notifications');
    spec.given([]).when(create({ channel: 'log', recipient: 'customerId', template: 't', prompt: 'p' })).thenRefuses('invalid', '/notifications');
  });

  it('need a valid document path', () => {
    for (const recipient of ['data..email', '.email', 'email.', '$where', '']) {
      spec.given([]).when(create({ channel: 'log', recipient, template: 't' })).thenRefuses('invalid', '/notifications/recipient');
    }
  });

  it('need a webhookUrl, an http(s) one, for webhooks', () => {
    spec.given([]).when(create({ channel: 'webhook', recipient: 'customerId', template: 't' })).thenRefuses('invalid', '/notifications/webhookUrl');
    spec.given([]).when(create({ channel: 'webhook', recipient: 'customerId', template: 't', webhookUrl: 'ftp://x' })).thenRefuses('invalid', '/notifications/webhookUrl');
  });

  it('refuse an unknown channel', () =>
    spec.given([]).when(create({ channel: 'sms' as never, recipient: 'customerId', template: 't' })).thenRefuses('invalid', '/notifications/channel'));
});

describe('campaign notifications of approvals and reversals (issue 11)', () => {
  const base = { channel: 'log', recipient: 'customerId', template: 'You earned {{earning.amount}}' } as const;

  it('carry their own words, a template or a prompt, with a subject of their own', () => {
    const notifications: CampaignNotifications = { ...base, onApproved: { template: 'Approved: {{approval.amount}}', subject: 'Approved' }, onReversed: { prompt: 'Tell them gently' } };
    spec.given([]).when(create(notifications)).then([
      {
        type: 'CampaignCreated',
        data: { campaignId: 'c1', name: 'Spring', description: null, currency: 'EUR', budget: null, startsAt: null, endsAt: null, status: 'active', createdAt: now, holdDays: 0, refundDays: 365, notifications },
      },
    ]);
  });

  it('need exactly one of template and prompt in each, named by its pointer', () => {
    spec.given([]).when(create({ ...base, onApproved: {} })).thenRefuses('invalid', '/notifications/onApproved');
    spec.given([]).when(create({ ...base, onReversed: { template: 't', prompt: 'p' } })).thenRefuses('invalid', '/notifications/onReversed');
    spec.given([]).when(create({ ...base, onReversed: { subject: 'only a subject' } })).thenRefuses('invalid', '/notifications/onReversed');
  });
});
