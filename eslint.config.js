import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The layer rules of DESIGN §2, enforced: arrows point down only.
const forbid = (...groups) => ({
  'no-restricted-imports': ['error', { patterns: groups.map((group) => ({ group: [`**/${group}/**`], message: `this layer must not import ${group}/ (DESIGN §2)` })) }],
});

export default tseslint.config(
  { ignores: ['node_modules/', '.data/', 'scratch/', 'dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['domain/**/*.ts'],
    rules: {
      ...forbid('commands', 'projections', 'read-api', 'infrastructure', 'bin'),
      // The domain is pure: time and ids are passed in, so every decision replays the same.
      'no-restricted-properties': ['error', { object: 'Date', property: 'now' }, { object: 'Math', property: 'random' }, { object: 'crypto', property: 'randomUUID' }],
      'no-restricted-syntax': ['error', { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'the domain reads no clock: pass the time in' }],
    },
  },
  { files: ['infrastructure/**/*.ts'], rules: forbid('commands', 'projections', 'read-api', 'bin') },
  { files: ['commands/**/*.ts'], rules: forbid('projections', 'read-api', 'bin') },
  { files: ['projections/**/*.ts'], rules: forbid('commands', 'read-api', 'bin') },
  { files: ['read-api/**/*.ts'], rules: forbid('commands', 'bin') },
);
