import { isPlaceholder } from '../secret-values.js';
import { next, skipFrom, suffixSpan, type Alternative, type Verdict } from './alternative.js';

/** URLs that carry a credential: a password before `@`, or a Slack webhook path. */

export const SLACK_WEBHOOK: Alternative = {
  // Only the path after /services/ is the secret; the host stays for auditing.
  group: 'slackhook',
  source: String.raw`https://hooks\.slack\.com/(?:services|workflows|triggers)/(?<shpath>[A-Za-z0-9/_-]{16,})`,
  judge: (m, g) => suffixSpan(m, (g.shpath ?? '').length, 'slack_webhook'),
};

function judgeUrl(m: RegExpExecArray, groups: Partial<Record<string, string>>, nested: RegExp): Verdict {
  const password = groups.urlpw ?? '';
  const start = m.index + m[0].length - password.length;
  if (isPlaceholder(password, 'secret')) return next(m);
  // `https://x-access-token:ghs_...@github.com`: let the token be classified by its own format.
  if (nested.test(password)) return skipFrom(start);
  return suffixSpan(m, password.length, 'url_credentials');
}

export const URL_CREDENTIALS: Alternative = {
  group: 'url',
  // Anchored on `://` rather than the scheme: a scheme prefix would be tried at every word.
  source: String.raw`://[^\s:/?#@"'<>\[\]\\]{1,256}:(?<urlpw>[^\s/?#@"'<>\\]{1,256})(?=@)`,
  judge: judgeUrl,
};
