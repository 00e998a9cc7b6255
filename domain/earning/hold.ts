const DAY_MS = 24 * 60 * 60 * 1000;

/** When an earning granted at `grantedAt` (ISO) stops being pending: whole days of 24 hours later, in UTC. */
export const approvesAt = (grantedAt: string, holdDays: number): string => new Date(Date.parse(grantedAt) + holdDays * DAY_MS).toISOString();

/** The approval time of a grant; grants written before holds existed were approved when granted. */
export const approvesAtOf = (granted: { readonly grantedAt: string; readonly approvesAt?: string }): string => granted.approvesAt ?? granted.grantedAt;

/** A grant with no hold is approved by itself: nothing follows it. */
export const approvedOnGrant = (granted: { readonly grantedAt: string; readonly approvesAt?: string }): boolean =>
  Date.parse(approvesAtOf(granted)) <= Date.parse(granted.grantedAt);
