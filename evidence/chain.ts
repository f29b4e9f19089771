import type { Finding } from '../model/finding.js';
import type { IdentityRecord } from '../model/identity.js';
import { canonicalize, sha256Hex, type Json } from './canonical.js';

/**
 * The hash chain over findings. When a finding is first stored, its detection record (the
 * finding as it opened, with the baseline snapshot and detector version it rested on, and the
 * identity record as it was then) is hashed as canonical JSON, and linked to the record before
 * it: chain_hash = SHA-256 of "prev_hash:record_hash". Every later record depends on every
 * earlier one, so deleting, reordering or editing any record shows at the next link.
 */

/** The predecessor of the first record. */
export const GENESIS_HASH = '0'.repeat(64);

export interface ChainLink {
  /** Which chain: one per writing process, each with its own sequence from 1. */
  chain: string;
  seq: number;
  finding_id: string;
  record_hash: string;
  prev_hash: string;
  chain_hash: string;
}

/**
 * The immutable part of a finding when it opened, with the identity as it was then. Passed
 * through JSON first, as the findings table stores facts: a detector's NaN or undefined fact
 * becomes what is stored (null, or nothing), never an error that would stop detection.
 */
export function detectionRecord(finding: Finding, identity: IdentityRecord | null): Json {
  return JSON.parse(JSON.stringify(rawRecord(finding, identity))) as Json;
}

function rawRecord(finding: Finding, identity: IdentityRecord | null): unknown {
  return {
    finding_id: finding.finding_id,
    detector: finding.detector,
    detector_version: finding.detector_version,
    config_hash: finding.config_hash,
    identity_id: finding.identity_id,
    session: finding.session,
    dedup_key: finding.dedup_key,
    subject: finding.subject,
    term_kind: finding.term_kind,
    severity: finding.severity,
    score: finding.score,
    title: finding.title,
    explanation: finding.explanation,
    event_ids: [...finding.event_ids],
    first_ts: finding.first_ts,
    last_ts: finding.last_ts,
    count: finding.count,
    created_at: finding.created_at,
    frameworks: [...finding.frameworks],
    baseline: { ...finding.baseline },
    identity: identity ? identityJson(identity) : null,
  };
}

/** An identity record in the registry file's (and the API's) shape. */
export function identityJson(identity: IdentityRecord): Json {
  return {
    id: identity.id,
    type: identity.type,
    owner: identity.owner,
    purpose: identity.purpose,
    state: identity.state,
    state_changed_at: identity.stateChangedAt,
    registered: identity.registered,
    credentials: identity.credentials.map((c) => ({ id: c.id, state: c.state, revoked_at: c.revokedAt })),
    scope: identity.scope
      ? {
          tools: [...identity.scope.tools],
          resources: [...identity.scope.resources],
          egress_domains: [...identity.scope.egressDomains],
          approval_required: identity.scope.approvalRequired.map((a) => ({
            match: a.match,
            resources: [...a.resources],
          })),
        }
      : null,
  };
}

export function recordHash(record: Json): string {
  return sha256Hex(canonicalize(record));
}

export function chainHash(prevHash: string, recordHashHex: string): string {
  return sha256Hex(`${prevHash}:${recordHashHex}`);
}

/** The next link of `chain` after `head` (null: the chain is empty). */
export function nextLink(
  chain: string,
  head: Pick<ChainLink, 'seq' | 'chain_hash'> | null,
  findingId: string,
  recordHashHex: string,
): ChainLink {
  const prev = head?.chain_hash ?? GENESIS_HASH;
  return {
    chain,
    seq: head ? head.seq + 1 : 1,
    finding_id: findingId,
    record_hash: recordHashHex,
    prev_hash: prev,
    chain_hash: chainHash(prev, recordHashHex),
  };
}

/** What is wrong with one link on its own (its chain hash does not follow from its parts). */
export function linkProblem(link: ChainLink): string | null {
  const expected = chainHash(link.prev_hash, link.record_hash);
  return expected === link.chain_hash
    ? null
    : `chain ${link.chain}: record #${String(link.seq)} (${link.finding_id}) has chain hash ${link.chain_hash}, its parts give ${expected}`;
}

/**
 * Problems in runs of links (any order; per chain, checked by seq): each must follow from its
 * parts, and each must name the one before it. A gap in seq is a removed record.
 */
export function chainProblems(links: readonly ChainLink[]): string[] {
  const chains = new Map<string, ChainLink[]>();
  for (const link of links) {
    const list = chains.get(link.chain);
    if (list) list.push(link);
    else chains.set(link.chain, [link]);
  }
  return [...chains.keys()].sort().flatMap((chain) => oneChainProblems(chains.get(chain) ?? []));
}

function oneChainProblems(links: readonly ChainLink[]): string[] {
  const sorted = [...links].sort((a, b) => a.seq - b.seq);
  const problems: string[] = [];
  for (const [i, link] of sorted.entries()) {
    const own = linkProblem(link);
    if (own) problems.push(own);
    const before = sorted[i - 1];
    if (!before) {
      if (link.seq === 1 && link.prev_hash !== GENESIS_HASH)
        problems.push(
          `chain ${link.chain}: record #1 (${link.finding_id}) does not start from the genesis hash`,
        );
      continue;
    }
    if (link.seq === before.seq)
      problems.push(
        `chain ${link.chain}: two records claim #${String(link.seq)} (${before.finding_id}, ${link.finding_id})`,
      );
    else if (link.seq !== before.seq + 1)
      problems.push(
        `chain ${link.chain}: records #${String(before.seq + 1)}–#${String(link.seq - 1)} are missing between ${before.finding_id} and ${link.finding_id}`,
      );
    else if (link.prev_hash !== before.chain_hash)
      problems.push(
        `chain ${link.chain}: record #${String(link.seq)} (${link.finding_id}) names predecessor ${link.prev_hash}, but #${String(before.seq)} (${before.finding_id}) is ${before.chain_hash}`,
      );
  }
  return problems;
}
