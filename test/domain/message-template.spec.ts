import { expect } from 'chai';
import { renderTemplate } from '../../domain/message/template.ts';

describe('message templates', () => {
  const context = { earning: { amount: 5, currency: 'EUR' }, event: { customerId: 'C-1', data: { name: 'Ada', tags: ['a'] } }, campaign: { name: 'Spring' } };

  it('fills {{path}} placeholders by dot-notation path, spaces allowed', () =>
    expect(renderTemplate('Hi {{event.data.name}}, you earned {{ earning.amount }} {{earning.currency}} in {{campaign.name}}', context))
      .to.deep.equal({ text: 'Hi Ada, you earned 5 EUR in Spring', missing: [] }));

  it('renders a missing path empty and names it', () =>
    expect(renderTemplate('Hi {{event.data.surname}}!', context)).to.deep.equal({ text: 'Hi !', missing: ['event.data.surname'] }));

  it('escapes nothing (plain text) and writes objects as JSON', () =>
    expect(renderTemplate('<b>{{event.data.tags}}</b>', context).text).to.equal('<b>["a"]</b>'));

  it('does not reach inherited fields', () => expect(renderTemplate('{{event.constructor}}', context).missing).to.deep.equal(['event.constructor']));
});
