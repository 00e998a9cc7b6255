import sift from 'sift';
import type { Operation, Options } from 'sift/lib/core.js';
import type { JsonValue } from '../json.ts';
import { fieldOf } from './document-path.ts';
import { Group, type Key } from './sift-group.ts';

/** The operation that stands for the field conditions of a query (see sift-query.ts). */
export const FIELDS = '$fields';

/** A query as sift runs it: JSON, but for `$type`'s constructor and the split paths of `$fields`. */
export type SiftQuery = { [key: string]: unknown };

/** One field condition: the path, split, and a value to equal or an object of operators. */
export type FieldCondition = readonly [keys: readonly string[], condition: JsonValue | SiftQuery];

type Visit = (value: unknown, key: Key | undefined, owner: unknown, root: boolean, leaf: boolean) => boolean;

/**
 * The key handed on with a field that an array or a scalar does not have. It
 * is in no array and is not a number, so every sift operation reads the value
 * as missing, as it does for a field absent from a document.
 */
const NO_FIELD = '\u0000';

/**
 * sift's path walk (its walkKeyPathValues, not exported), step for step,
 * except how a field is read: sift reads `item[key]`, which finds
 * `constructor`, `toString` or `__proto__` on every document, an array's
 * `length`, a string's characters. Here a step finds only what `fieldOf`
 * finds: own fields and array elements, as MongoDB does.
 */
const walk = (item: unknown, keys: readonly string[], visit: Visit, depth: number, key: Key | undefined, owner: unknown, leaf = true): boolean => {
  const current = keys[depth];
  // An array before a field name (or at the end) is walked element by element; sift skips this for an
  // array's own non-function properties, which for JSON is only `length`, and an array has no fields.
  if (Array.isArray(item) && Number.isNaN(Number(current))) {
    for (let i = 0; i < item.length; i++) if (!walk(item[i], keys, visit, depth, i, item, leaf)) return false;
  }
  if (current === undefined || item == null) return visit(item, key, owner, depth === 0, current === undefined && (depth > 0 || leaf));
  const hasFields = typeof item === 'object' && (!Array.isArray(item) || !Number.isNaN(Number(current)));
  return walk(fieldOf(item as JsonValue, current), keys, visit, depth + 1, hasFields ? current : NO_FIELD, item);
};

/** The conditions on one path: sift's NestedOperation, walking with `walk`. */
class PathOperation extends Group {
  constructor(private readonly keys: readonly string[], children: readonly Operation<unknown>[]) {
    super(children);
  }

  next(item: unknown, key?: Key, owner?: unknown, _root?: boolean, leaf?: boolean): void {
    walk(item, this.keys, this.visit, 0, key, owner, leaf !== false);
  }

  private readonly visit: Visit = (value, key, owner, root, leaf) => {
    this.childrenNext(value, key, owner, root, leaf);
    return !this.done;
  };
}

/** Every field condition of one query object: all must hold. */
class FieldsOperation extends Group {
  next(item: unknown, key?: Key, owner?: unknown, root?: boolean, leaf?: boolean): void {
    this.childrenNext(item, key, owner, root, leaf);
  }
}

const isOperatorObject = (value: JsonValue | SiftQuery): value is SiftQuery =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).some((key) => key.startsWith('$'));

/**
 * What sift's createNestedOperation builds under a path: the operators of an
 * operator object, or equality with anything else. Malformed conditions
 * throw, as they do in sift (validation refuses them first).
 */
const operationsFor = (condition: JsonValue | SiftQuery, query: SiftQuery, options: Options): Operation<unknown>[] => {
  if (!isOperatorObject(condition)) return [sift.createEqualsOperation(condition, query, options)];
  const operations: Operation<unknown>[] = [];
  for (const [name, operand] of Object.entries(condition)) {
    if (!name.startsWith('$')) throw new Error(`cannot mix operators and fields under one path: ${name}`);
    if (!Object.hasOwn(options.operations, name)) throw new Error(`Unsupported operation: ${name}`);
    const operation: Operation<unknown> | null = options.operations[name]!(operand, condition, options, name);
    if (operation === null) continue; // $options: a flag that $regex reads
    if (!operation.propop) throw new Error(`Malformed query. ${name} cannot be matched against property.`);
    operations.push(operation);
  }
  return operations;
};

/** The `$fields` operation: its operand is the field conditions of the query object that holds it. */
export const fieldsOperation = (fields: readonly FieldCondition[], query: SiftQuery, options: Options): Operation<unknown> =>
  new FieldsOperation(fields.map(([keys, condition]) => new PathOperation(keys, operationsFor(condition, query, options))));
