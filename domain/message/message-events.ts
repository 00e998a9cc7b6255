import type { JsonObject } from '../json.ts';
import type { Lifecycle } from './earning-step.ts';
import type { Channel } from './notifications.ts';

/** What a message says: a template over its context, a prompt for the LLM, or a body given as is (POST /messages). */
export type MessageContent = { readonly template: string } | { readonly prompt: string } | { readonly body: string };

export type MessageRequested = {
  readonly type: 'MessageRequested';
  readonly data: {
    readonly messageId: string;
    /** Null for a message sent explicitly, about no earning. */
    readonly earningId: string | null;
    readonly campaignId: string | null;
    /**
     * Which step of the earning the message is about, so that the log says it
     * even when a template's context does not. Absent for a message about no
     * earning, and in messages requested before approvals and reversals had
     * messages (all of them grants).
     */
    readonly lifecycle?: Lifecycle;
    readonly channel: Channel;
    /** The resolved address: an email address, a customer id, whatever the path named. */
    readonly recipient: string;
    readonly content: MessageContent;
    readonly subject: string | null;
    readonly webhookUrl: string | null;
    /** What composition reads: `{earning, event, campaign}` for an earning's message, `{}` otherwise. */
    readonly context: JsonObject;
    readonly requestedAt: string;
  };
};

/** Who wrote a body: `template` or `explicit` (and no model) when no model did. */
export interface Composition {
  readonly body: string;
  readonly provider: string;
  readonly model: string | null;
  readonly cached: boolean;
}

/**
 * A body the LLM wrote, recorded before its first delivery: a model answers
 * differently each time, so every attempt (and a restart) sends this body, and
 * the Idempotency-Key always stands for the same message. A template or an
 * explicit body needs none: it follows from MessageRequested alone.
 */
export type MessageComposed = {
  readonly type: 'MessageComposed';
  readonly data: Composition & { readonly messageId: string; readonly composedAt: string };
};

export type MessageSent = {
  readonly type: 'MessageSent';
  readonly data: {
    readonly messageId: string;
    readonly channel: Channel;
    readonly recipient: string;
    readonly body: string;
    /** `template` or `explicit` when no model wrote it. */
    readonly provider: string;
    readonly model: string | null;
    readonly cached: boolean;
    readonly attempt: number;
    readonly sentAt: string;
  };
};

export type MessageFailed = {
  readonly type: 'MessageFailed';
  readonly data: {
    readonly messageId: string;
    readonly attempt: number;
    readonly error: string;
    /** When to try again; null on the last attempt (a MessageAbandoned follows). */
    readonly nextAttemptAt: string | null;
    readonly failedAt: string;
  };
};

export type MessageAbandoned = {
  readonly type: 'MessageAbandoned';
  readonly data: { readonly messageId: string; readonly attempts: number; readonly error: string; readonly abandonedAt: string };
};

export type MessageEvent = MessageRequested | MessageComposed | MessageSent | MessageFailed | MessageAbandoned;

export const MESSAGE_EVENT_TYPES: readonly MessageEvent['type'][] = ['MessageRequested', 'MessageComposed', 'MessageSent', 'MessageFailed', 'MessageAbandoned'];

export const messageStream = (messageId: string): string => `message-${messageId}`;
