import { charClasses, hasUpperLowerDigit } from '../randomness.js';
import type { KnownFormat } from './alternative.js';

/**
 * Prefixed API tokens of services: AI providers (Anthropic, OpenAI, Hugging Face), Stripe,
 * GitHub, GitLab, Slack, npm and PyPI. Their place in the scan order is set in `scanner.ts`.
 */

export const ANTHROPIC_API_KEY: KnownFormat = {
  group: 'anthropic',
  kind: 'anthropic_api_key',
  source: `sk-ant-[A-Za-z0-9_-]{20,}`,
};

export const OPENAI_API_KEY: KnownFormat = {
  group: 'openai',
  kind: 'openai_api_key',
  source: `sk-(?!ant-)[A-Za-z0-9_-]{20,}`,
  // Covers sk-proj-/sk-svcacct-/legacy keys; a package name like sk-some-long-name has no digits/caps.
  valid: (t) => hasUpperLowerDigit(t.slice(3)),
};

export const STRIPE_KEY: KnownFormat = {
  group: 'stripe',
  kind: 'stripe_key',
  source: `(?:(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}|whsec_[A-Za-z0-9]{24,})`,
};

// Classic tokens are prefix + 36; accept from 30 so truncated copies are still caught.
export const GITHUB_TOKEN: KnownFormat = {
  group: 'github',
  kind: 'github_token',
  source: `(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})`,
};

export const GITLAB_TOKEN: KnownFormat = {
  group: 'gitlab',
  kind: 'gitlab_token',
  source: `(?:(?:glpat|gldt|glrt|glcbt|glptt|glft|glimt|glagent|gloas|glsoat|glffct)-[A-Za-z0-9_-]{20,}(?:\\.[A-Za-z0-9_-]+)*|GR1348941[A-Za-z0-9_-]{20,})`,
};

export const SLACK_TOKEN: KnownFormat = {
  group: 'slack',
  kind: 'slack_token',
  source: `(?:(?:xoxe\\.)?xox[abeoprs]-[A-Za-z0-9-]{10,}|xapp-[0-9]+-[A-Za-z0-9-]{10,})`,
  // Real Slack tokens embed numeric team/user ids.
  valid: (t) => /[0-9]/.test(t),
};

export const NPM_TOKEN: KnownFormat = {
  group: 'npm',
  kind: 'npm_token',
  source: `npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])`,
};

export const HUGGINGFACE_TOKEN: KnownFormat = {
  group: 'hf',
  kind: 'huggingface_token',
  source: `hf_[A-Za-z]{34}(?![A-Za-z0-9])`,
  valid: (t) => charClasses(t).upper,
};

export const PYPI_TOKEN: KnownFormat = {
  group: 'pypi',
  kind: 'pypi_token',
  source: `pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}`,
};
