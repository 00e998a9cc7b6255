import type { Channel } from '../../domain/message/notifications.ts';

/** One composed message, ready for a channel. */
export interface Outgoing {
  readonly messageId: string;
  readonly channel: Channel;
  readonly recipient: string;
  readonly body: string;
  readonly subject: string | null;
  readonly webhookUrl: string | null;
  /** The campaign's own webhook secret, if it has one. */
  readonly secret: string | null;
  readonly campaignId: string | null;
  readonly earningId: string | null;
}

/** Delivers, or rejects with why it could not (the attempt then counts as failed). Aborting `signal` gives up. */
export type Deliver = (message: Outgoing, signal: AbortSignal) => Promise<void>;

export type Channels = Readonly<Record<Channel, Deliver>>;
