import { describe, expect, it } from 'vitest';
import { generateSigningKey } from '../../../evidence/dsse.js';
import { ACCESS_REVIEW, buildReviewBundle, REVIEW_PART_NAMES } from '../../../evidence/review-bundle.js';
import { bundleEntries, bundleJson } from '../../../evidence/signed-bundle.js';
import { readTarGz, writeTarGz } from '../../../evidence/tar.js';
import { sourceFromArchive, sourceFromJsonText, verifyBundle } from '../../../evidence/verify.js';

/** Access-review bundles verify like evidence, with their own subject check. */

const keys = generateSigningKey();
const subject = { identity_id: 'release-bot', from: 1_760_000_000_000, to: 1_767_776_000_000 };

function parts(identity = 'release-bot', to = subject.to) {
  return {
    review: { identity_id: identity, period: { from: subject.from, to }, totals: { events: 12 } },
    identity: { id: identity, owner: 'team-platform' },
    usage: { tools: [{ name: 'github.merge', events: 12 }] },
    scope: { tools: { unused: ['argo.*'] } },
    proposed_scope: { scope: { tools: ['github.merge'] }, registry_yaml: 'identities: []\n' },
    findings: { truncated: false, findings: [] },
  };
}

const verify = (text: string) => {
  const source = sourceFromJsonText(text);
  if (typeof source === 'string') throw new Error(source);
  return verifyBundle(source, keys.publicKey);
};

describe('access-review bundles', () => {
  it('verify with the pinned key, as JSON and as an archive', () => {
    const bundle = buildReviewBundle(subject, parts(), keys.privateKey, keys.publicKey);
    const result = verify(bundleJson(bundle));
    expect(result.checks.map((c) => [c.name, c.ok])).toEqual([
      ['key', true],
      ['signature', true],
      ['manifest', true],
      ...REVIEW_PART_NAMES.map((p) => [`part ${p}`, true]),
      ['subject', true],
    ]);
    const archive = sourceFromArchive(readTarGz(writeTarGz(bundleEntries(ACCESS_REVIEW, bundle), 0)));
    if (typeof archive === 'string') throw new Error(archive);
    expect(verifyBundle(archive, keys.publicKey).ok).toBe(true);
  });

  it('fail the subject check when the signed parts speak of another identity or period', () => {
    for (const wrong of [parts('other-bot'), parts('release-bot', subject.to + 1)]) {
      const result = verify(bundleJson(buildReviewBundle(subject, wrong, keys.privateKey, keys.publicKey)));
      expect(result.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['subject']);
    }
  });

  it('fail on any changed part, another signer, or an evidence archive entry smuggled in', () => {
    const bundle = buildReviewBundle(subject, parts(), keys.privateKey, keys.publicKey);
    const edited = bundleJson(bundle).replace('"github.merge"', '"github.mergf"');
    expect(
      verify(edited)
        .checks.filter((c) => !c.ok)
        .map((c) => c.name),
    ).toEqual(['part proposed_scope']);
    const other = generateSigningKey();
    const forged = buildReviewBundle(subject, parts(), other.privateKey, other.publicKey);
    expect(verify(bundleJson(forged)).checks.find((c) => c.name === 'signature')?.ok).toBe(false);
    const entries = [
      ...bundleEntries(ACCESS_REVIEW, bundle),
      { name: 'parts/detection_record.json', data: Buffer.from('{}') },
    ];
    expect(sourceFromArchive(readTarGz(writeTarGz(entries, 0)))).toMatch(/entries a bundle does not/);
  });
});
