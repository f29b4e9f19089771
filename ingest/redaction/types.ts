export type SecretKind =
  | 'aws_access_key_id'
  | 'aws_secret_access_key'
  | 'github_token'
  | 'gitlab_token'
  | 'slack_token'
  | 'slack_webhook'
  | 'openai_api_key'
  | 'anthropic_api_key'
  | 'jwt'
  | 'private_key'
  | 'bearer_token'
  | 'basic_auth'
  | 'url_credentials'
  | 'stripe_key'
  | 'google_api_key'
  | 'npm_token'
  | 'huggingface_token'
  | 'pypi_token'
  | 'generic_secret';

export interface Redaction {
  path: string;
  kind: SecretKind;
  fingerprint: string;
}

/** A redaction inside one string, before it is filed under a path. */
export type Found = Omit<Redaction, 'path'>;

/** A secret found in a string: `text.slice(start, end)` is what gets replaced. */
export interface Span {
  start: number;
  end: number;
  kind: SecretKind;
}
