import { Router } from 'express';
import { messageDecider } from '../../domain/message/message-decider.ts';
import { messageStream } from '../../domain/message/message-events.ts';
import { badRequest } from '../../infrastructure/http/problem.ts';
import { bodyValidator } from '../../infrastructure/http/validate-body.ts';
import { handleCommand } from '../command-handler.ts';
import type { CommandContext } from './command-context.ts';
import { sendMessageSchema, type SendMessageBody } from './message-schemas.ts';

const validateSendMessage = bodyValidator<SendMessageBody>(sendMessageSchema);

/** POST /messages: appends MessageRequested under a new id; the delivery reactor does the rest. */
export const messageRoutes = ({ store, clock, newId, actor, maxMessageBodyBytes = 65_536 }: CommandContext): Router => {
  const router = Router();

  router.post('/messages', async (req, res) => {
    const body = validateSendMessage(req.body);
    if ((body.body === undefined) === (body.prompt === undefined)) throw badRequest('give exactly one of body and prompt', [{ pointer: '', message: 'must have exactly one of body and prompt' }]);
    const bodyBytes = body.body === undefined ? 0 : Buffer.byteLength(body.body, 'utf8');
    // Refused here rather than accepted and abandoned at delivery: the caller can still send a shorter one.
    if (bodyBytes > maxMessageBodyBytes) {
      throw badRequest(`body is ${bodyBytes} bytes, over the ${maxMessageBodyBytes} bytes a message may have (MESSAGE_MAX_BODY_BYTES)`, [{ pointer: '/body', message: `must be at most ${maxMessageBodyBytes} bytes` }]);
    }
    const messageId = newId();
    const result = await handleCommand(
      store,
      messageStream(messageId),
      messageDecider,
      {
        type: 'RequestMessage',
        data: {
          messageId, earningId: null, campaignId: null, channel: body.channel ?? 'log', recipient: body.recipient,
          content: body.body !== undefined ? { body: body.body } : { prompt: body.prompt! },
          subject: body.subject ?? null, webhookUrl: body.webhookUrl ?? null, context: {}, now: clock().toISOString(),
        },
      },
      { metadata: { actor: actor(req) } },
    );
    res.status(202).location(`/messages/${messageId}`).json({ id: messageId, status: 'requested', position: result.position });
  });

  return router;
};
