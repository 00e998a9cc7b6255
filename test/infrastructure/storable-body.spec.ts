import { expect } from 'chai';
import { MAX_DEPTH, unstorableAt } from '../../infrastructure/http/storable-body.ts';

const nested = (depth: number, leaf: unknown = 1): unknown => {
  let value = leaf;
  for (let i = 1; i < depth; i++) value = { a: value };
  return value;
};

describe('text and nesting PostgreSQL cannot store', () => {
  it('finds NUL and lone surrogates in values and keys, with the exact pointer', () => {
    expect(unstorableAt({ a: [1, { 'b/c~': 'x\u0000' }] })?.pointer).to.equal('/a/1/b~1c~0');
    expect(unstorableAt({ a: 'x\ud800' })).to.deep.equal({ pointer: '/a', message: 'must not contain a lone UTF-16 surrogate: PostgreSQL cannot store it' });
    expect(unstorableAt({ a: '\udc00x' })?.pointer).to.equal('/a');
    expect(unstorableAt({ a: 'x\udbff' })?.pointer, 'a high surrogate at the end').to.equal('/a');
    expect(unstorableAt({ a: { 'k\ud800': 1 } })?.pointer).to.equal('/a/k\ud800');
    expect(unstorableAt('\u0000')?.pointer).to.equal('');
  });

  it('takes what PostgreSQL stores: surrogate pairs, other control characters, any other text', () => {
    expect(unstorableAt({ emoji: '🎉 \ud83c\udf89', ctl: '\u0001\u001f\u007f', bom: '\ufeff', nonChar: '\uffff', '🔑': ['Grüße'] })).to.equal(undefined);
  });

  it('reports the first problem in the order of the body', () => {
    expect(unstorableAt({ a: { b: 'x\u0000' }, 'c\ud800': 1, d: '\udc00' })?.pointer).to.equal('/a/b');
    expect(unstorableAt({ a: 'ok', 'c\ud800': '\u0000' })?.message).to.match(/^key /);
  });

  it(`takes ${MAX_DEPTH} levels of nesting and refuses more, naming the first level too deep`, () => {
    expect(unstorableAt(nested(MAX_DEPTH, {}))).to.equal(undefined);
    const refused = unstorableAt(nested(MAX_DEPTH + 1, {}));
    expect(refused?.pointer).to.equal('/a'.repeat(MAX_DEPTH));
    expect(refused?.message).to.equal(`nests deeper than ${MAX_DEPTH} levels`);
    // A scalar is no level of its own.
    expect(unstorableAt(nested(MAX_DEPTH + 1, 'leaf'))).to.equal(undefined);
  });

  it('walks a body a million levels deep without overflowing the stack', () => {
    let deep: unknown = [];
    for (let i = 0; i < 1_000_000; i++) deep = [deep];
    expect(unstorableAt(deep)?.pointer).to.equal('/0'.repeat(MAX_DEPTH));
  });

  it('leaves the children of an opaque container to be walked one by one', () => {
    const batch = { events: [{ a: '\u0000' }, nested(MAX_DEPTH + 5)] };
    expect(unstorableAt(batch, { opaque: '/events' })).to.equal(undefined);
    expect(unstorableAt({ events: [], 'x\u0000': 1 }, { opaque: '/events' })?.pointer).to.equal('/x\u0000');
  });
});
