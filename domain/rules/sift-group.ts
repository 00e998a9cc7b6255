import type { Operation } from 'sift/lib/core.js';

export type Key = string | number;

/**
 * What sift's own GroupOperation does (it is not exported): the group keeps
 * a value when every child keeps it, and is done once every child is done or
 * one is done without keeping it.
 */
export abstract class Group implements Operation<unknown> {
  keep = false;
  done = false;
  propop = true;

  constructor(protected readonly children: readonly Operation<unknown>[]) {}

  reset(): void {
    this.keep = false;
    this.done = false;
    for (const child of this.children) child.reset();
  }

  abstract next(item: unknown, key?: Key, owner?: unknown, root?: boolean, leaf?: boolean): void;

  protected childrenNext(item: unknown, key?: Key, owner?: unknown, root?: boolean, leaf?: boolean): void {
    let done = true;
    let keep = true;
    for (const child of this.children) {
      if (!child.done) child.next(item, key, owner, root, leaf);
      if (!child.keep) keep = false;
      if (!child.done) done = false;
      else if (!child.keep) break;
    }
    this.done = done;
    this.keep = keep;
  }
}
