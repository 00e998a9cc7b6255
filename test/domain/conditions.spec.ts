import { expect } from 'chai';
import { compileConditions, validateConditions } from '../../domain/rules/conditions.ts';

describe('conditions', () => {
  it('matches dot-notation paths, arrays included, as MongoDB does', () => {
    expect(compileConditions({ 'data.channel': 'web' })({ data: { channel: 'web' } })).to.equal(true);
    expect(compileConditions({ 'items.sku': 'A' })({ items: [{ sku: 'B' }, { sku: 'A' }] })).to.equal(true);
    expect(compileConditions({ tags: 'x' })({ tags: ['y', 'x'] })).to.equal(true);
  });

  it('lets a document query in $elemMatch see documents only, not scalars', () => {
    const missingD = compileConditions({ list: { $elemMatch: { d: null } } });
    expect(missingD({ list: [0, 'a'] })).to.equal(false);
    expect(missingD({ list: [0, {}] })).to.equal(true);
  });

  it('finds every problem with its exact path', () => {
    expect(validateConditions({ a: { $gt: [1] }, $or: [{ b: { $where: 'x' } }], c: { $all: [] }, d: { $options: 'g' } })).to.deep.equal([
      { pointer: '/a/$gt', message: '$gt needs a number or a string' },
      { pointer: '/$or/0/b/$where', message: 'operator $where is not allowed' },
      { pointer: '/c/$all', message: '$all needs a non-empty array' },
      { pointer: '/d/$options', message: '$options may hold only i, m, s, u' },
    ]);
    expect(validateConditions({ 'a/b~c': { $bad: 1 } })).to.deep.equal([{ pointer: '/a~1b~0c/$bad', message: 'operator $bad is not allowed' }]);
  });

  it('refuses to compile an operator outside the whitelist even if validation were skipped', () => {
    expect(() => compileConditions({ a: { $where: 'true' } })).to.throw();
  });
});
