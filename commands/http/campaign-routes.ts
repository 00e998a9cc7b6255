import { Router, type Request, type Response } from 'express';
import { campaignDecider, type CampaignCommand } from '../../domain/campaign/campaign-decider.ts';
import { campaignStream, statusAfter, type CampaignEvent } from '../../domain/campaign/campaign-events.ts';
import { utcDateTime } from '../../infrastructure/http/date-time.ts';
import { bodyValidator } from '../../infrastructure/http/validate-body.ts';
import { handleCommand, type HandledCommand } from '../command-handler.ts';
import type { CommandContext } from './command-context.ts';
import { ifMatchRevision, staleIfMatched } from './if-match.ts';
import { addRuleSchema, createCampaignSchema, type AddRuleBody, type CreateCampaignBody } from './request-schemas.ts';

const validateCreateCampaign = bodyValidator<CreateCampaignBody>(createCampaignSchema);
const validateAddRule = bodyValidator<AddRuleBody>(addRuleSchema);

const TRANSITION_COMMANDS = { activate: 'ActivateCampaign', pause: 'PauseCampaign', end: 'EndCampaign' } as const;

export const campaignRoutes = ({ store, clock, newId, actor }: CommandContext): Router => {
  const router = Router();

  /** Every write to an existing campaign: If-Match honoured (412 when stale), otherwise retried on a concurrent write. */
  const changeCampaign = (req: Request<{ id: string }>, command: CampaignCommand): Promise<HandledCommand<CampaignEvent>> => {
    const expectedRevision = ifMatchRevision(req);
    return staleIfMatched(expectedRevision, () =>
      handleCommand(store, campaignStream(req.params.id), campaignDecider, command, { expectedRevision, metadata: { actor: actor(req) } }),
    );
  };

  const sendEtag = (res: Response, revision: bigint | null): Response => res.setHeader('ETag', `"${revision}"`);

  router.post('/campaigns', async (req, res) => {
    const body = validateCreateCampaign(req.body);
    const startsAt = body.startsAt === undefined ? undefined : utcDateTime(body.startsAt);
    const endsAt = body.endsAt === undefined ? undefined : utcDateTime(body.endsAt);
    const campaignId = newId();
    const result = await handleCommand(
      store,
      campaignStream(campaignId),
      campaignDecider,
      { type: 'CreateCampaign', data: { ...body, startsAt, endsAt, currency: body.currency ?? 'EUR', campaignId, now: clock().toISOString() } },
      { metadata: { actor: actor(req) } },
    );
    sendEtag(res.status(201).location(`/campaigns/${campaignId}`), result.revision).json({
      id: campaignId, status: result.events[0] && statusAfter(result.events[0]), revision: String(result.revision), position: result.position,
    });
  });

  for (const [action, type] of Object.entries(TRANSITION_COMMANDS)) {
    router.post(`/campaigns/:id/${action}`, async (req: Request<{ id: string }>, res) => {
      const result = await changeCampaign(req, { type, data: { now: clock().toISOString(), by: 'api' } });
      sendEtag(res, result.revision).json({ id: req.params.id, status: result.events[0] && statusAfter(result.events[0]), revision: String(result.revision), position: result.position });
    });
  }

  router.post('/campaigns/:id/rules', async (req: Request<{ id: string }>, res) => {
    const body = validateAddRule(req.body);
    const ruleId = newId();
    const result = await changeCampaign(req, {
      type: 'AddRule',
      data: {
        ruleId,
        name: body.name ?? `rule ${ruleId.slice(0, 8)}`,
        priority: body.priority ?? 0,
        conditions: body.conditions,
        reward: body.reward,
        beneficiary: body.beneficiary ?? 'customerId',
        limits: body.limits,
        now: clock().toISOString(),
      },
    });
    sendEtag(res.status(201), result.revision).json({ id: ruleId, campaignId: req.params.id, revision: String(result.revision), position: result.position });
  });

  router.delete('/campaigns/:id/rules/:ruleId', async (req: Request<{ id: string; ruleId: string }>, res) => {
    const result = await changeCampaign(req, { type: 'RemoveRule', data: { ruleId: req.params.ruleId, now: clock().toISOString() } });
    sendEtag(res, result.revision).json({ id: req.params.ruleId, campaignId: req.params.id, revision: String(result.revision), position: result.position });
  });

  return router;
};
