import { campaignDecider, type CampaignCommand } from '../../domain/campaign/campaign-decider.ts';
import type { CampaignCreated, CampaignDescriptionGenerated } from '../../domain/campaign/campaign-events.ts';
import { deciderSpec } from '../support/decider-spec.ts';

const spec = deciderSpec(campaignDecider);
const now = '2026-03-01T10:00:00.000Z';

const create = (data: Partial<Extract<CampaignCommand, { type: 'CreateCampaign' }>['data']> = {}): CampaignCommand => ({
  type: 'CreateCampaign',
  data: { campaignId: 'c1', name: 'Spring Sale', currency: 'EUR', now, ...data },
});

const created = (descriptionRequest?: { prompt: string | null }): CampaignCreated => ({
  type: 'CampaignCreated',
  data: {
    campaignId: 'c1', name: 'Spring Sale', description: null, currency: 'EUR', budget: null,
    startsAt: null, endsAt: null, status: 'active', createdAt: now, holdDays: 0, refundDays: 365, ...(descriptionRequest ? { descriptionRequest } : {}),
  },
});

const record: CampaignCommand = { type: 'RecordGeneratedDescription', data: { text: 'Save this spring.', provider: 'offline', model: 'm', cached: false, now } };

const generated: CampaignDescriptionGenerated = {
  type: 'CampaignDescriptionGenerated',
  data: { campaignId: 'c1', text: 'Save this spring.', provider: 'offline', model: 'm', cached: false, generatedAt: now },
};

describe('campaign decider: generated descriptions (issue 10)', () => {
  describe('CreateCampaign', () => {
    it('records a request from the name alone with generateDescription', () =>
      spec.given([]).when(create({ generateDescription: true })).then([created({ prompt: null })]));

    it('records the prompt, which implies generation', () =>
      spec.given([]).when(create({ descriptionPrompt: 'for gardeners' })).then([created({ prompt: 'for gardeners' })]));

    it('asks for nothing with generateDescription false', () => spec.given([]).when(create({ generateDescription: false })).then([created()]));

    it('refuses a description given and one asked for at once', () => {
      spec.given([]).when(create({ description: 'mine', generateDescription: true })).thenRefuses('invalid', '/description');
      spec.given([]).when(create({ description: 'mine', descriptionPrompt: 'p' })).thenRefuses('invalid', '/description');
    });

    it('refuses a prompt with generateDescription false, and a blank prompt', () => {
      spec.given([]).when(create({ generateDescription: false, descriptionPrompt: 'p' })).thenRefuses('invalid', '/descriptionPrompt');
      spec.given([]).when(create({ descriptionPrompt: '  ' })).thenRefuses('invalid', '/descriptionPrompt');
    });
  });

  describe('RecordGeneratedDescription', () => {
    it('records the text, who wrote it and whether it came from the cache', () =>
      spec.given([created({ prompt: null })]).when(record).then([generated]));

    it('records it once: a second recording changes nothing', () => spec.given([created({ prompt: null }), generated]).when(record).then([]));

    it('records it for a campaign that has ended since', () =>
      spec.given([created({ prompt: null }), { type: 'CampaignEnded', data: { campaignId: 'c1', at: now, by: 'api' } }]).when(record).then([generated]));

    it('refuses a campaign that did not ask for one, a missing campaign, and a blank text', () => {
      spec.given([created()]).when(record).thenRefuses('conflict');
      spec.given([]).when(record).thenRefuses('not_found');
      spec.given([created({ prompt: null })]).when({ ...record, data: { ...record.data, text: ' ' } } as CampaignCommand).thenRefuses('invalid', '/text');
    });
  });
});
