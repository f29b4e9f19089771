import { getDomain } from 'tldts';
import { DAY_MS } from '../../common/time.js';
import type { BaselineFacts } from '../../model/finding.js';
import { MEMBERS_CAPPED_FACT, MEMBER_COUNT_FACT, membersOf } from '../findings.js';
import type { Detector, DetectorContext } from '../types.js';
import { contextText, createFirstSeenDetector, scoreFacts } from './first-seen.js';
import { KNOWN_FAMILY_SURPRISE, listValues, type NoveltyOverrides } from './novelty.js';

/**
 * The registrable domain of a host (`a1b2.paste-site.example` → `paste-site.example`,
 * `uploads.github.com` → `github.com`): the Public Suffix List's public suffix plus one label,
 * private section included, so hosts under a shared hosting suffix stay apart by owner
 * (`raw-events.s3.amazonaws.com`, `acme.github.io`). A suffix the list does not know (`.example`,
 * `.internal`) counts as one label, the list's own default rule. IP addresses, single-label
 * hosts and anything the list cannot place are their own registrable domain.
 */
export function registrableDomain(host: string): string {
  return getDomain(host, { allowPrivateDomains: true }) ?? host;
}

/** Hosts the identity reached inside the window under `domain`, other than `host`. */
function siblingHosts(ctx: DetectorContext, host: string, domain: string, windowMs: number): string[] {
  return ctx.profile
    .values('domain', ctx.event.ts, windowMs)
    .map(([known]) => known)
    .filter((known) => known !== host && registrableDomain(known) === domain);
}

const plural = (n: number, word: string): string => `${String(n)} ${word}${n === 1 ? '' : 's'}`;

const text = (facts: BaselineFacts, key: string): string => {
  const value = facts[key];
  return typeof value === 'string' ? value : '';
};
const count = (facts: BaselineFacts, key: string): number => {
  const value = facts[key];
  return typeof value === 'number' ? value : 0;
};
const list = (facts: BaselineFacts, key: string): string[] => {
  const value = facts[key];
  return Array.isArray(value) ? value : [];
};

/**
 * The explanation, from the finding's facts only: the hosts reached under the registrable
 * domain so far (one when the finding opens, more as later hosts join it), what the identity
 * already knew there, and what it contacts otherwise.
 */
function explain(identityId: string, windowDays: number, facts: BaselineFacts): string {
  const domain = text(facts, 'registrable_domain');
  const tool = text(facts, 'tool');
  const hosts = membersOf(facts);
  const [first = text(facts, 'domain')] = hosts;
  const siblings = list(facts, 'sibling_hosts');
  const known = list(facts, 'known_domains');
  const where = siblings.length > 0 ? `, where it already used ${listValues(siblings)}` : '';
  const reached =
    hosts.length > 1
      ? `reached ${facts[MEMBERS_CAPPED_FACT] === true ? 'at least ' : ''}${plural(count(facts, MEMBER_COUNT_FACT), 'new host')} of \`${domain}\`${where}: ${listValues(hosts)} (the first through \`${tool}\`)`
      : `reached \`${first}\` through \`${tool}\` for the first time` +
        (siblings.length > 0
          ? `, a new host of \`${domain}\`${where}`
          : first !== domain
            ? `, a domain (\`${domain}\`) it never contacted`
            : '');
  const peersCompared = count(facts, 'peers_compared');
  return (
    `\`${identityId}\` ${reached}; ` +
    `in ${String(windowDays)} days it contacted ${plural(count(facts, 'known_domain_count'), 'domain')}: ${listValues(known)}.` +
    contextText(
      {
        fleetNew: facts.fleet_new === true,
        peersCompared,
        peerView: peersCompared > 0,
        peerShare: count(facts, 'peer_share'),
        sessionNovel: count(facts, 'session_novel_before'),
      },
      'contacted',
    )
  );
}

/**
 * `scope.new_egress`: an identity reaches a network destination it never contacted. Hosts are
 * judged one by one (each stays out of the baseline until triage), but the finding is about
 * their registrable domain: random subdomains of one paste site are one finding listing the
 * hosts, and a new host of a domain the identity already reaches is less surprising than a
 * new domain.
 */
export function createNewEgressDetector(overrides: NoveltyOverrides = {}): Detector {
  return createFirstSeenDetector(
    {
      id: 'scope.new_egress',
      version: '1.2.0',
      frameworks: ['OWASP-NHI:NHI5', 'OWASP-AGENTIC:T2', 'NIST-CSF:DE.CM-01'],
      term: ({ event }) => (event.target_domain ? { kind: 'domain', value: event.target_domain } : null),
      subject: (_ctx, term) => registrableDomain(term.value),
      surprise: (ctx, term, window) =>
        (1 - ctx.profile.noveltyRate('domain')) *
        (siblingHosts(ctx, term.value, registrableDomain(term.value), window).length > 0
          ? KNOWN_FAMILY_SURPRISE
          : 1),
      describe(ctx, term, config, score) {
        const { event, profile } = ctx;
        const window = config.windowDays * DAY_MS;
        const host = term.value;
        const domain = registrableDomain(host);
        const siblings = siblingHosts(ctx, host, domain, window);
        const known = profile.values('domain', event.ts, window).map(([d]) => d);
        const facts: BaselineFacts = {
          domain: host,
          registrable_domain: domain,
          sibling_hosts: siblings.slice(0, 50),
          tool: event.tool,
          known_domains: known.slice(0, 50),
          known_domain_count: known.length,
          history_events: profile.events,
          ...scoreFacts(score),
          peers_compared: ctx.peers.others(event.identity_id),
          members: [host],
          member_count: 1,
        };
        const render = (f: BaselineFacts): string => explain(event.identity_id, config.windowDays, f);
        return {
          title:
            siblings.length > 0
              ? `${event.identity_id} reached a new host of ${domain}`
              : `${event.identity_id} reached a new domain: ${domain}`,
          explanation: render(facts),
          facts,
          members: { values: [host], explain: render },
        };
      },
    },
    overrides,
  );
}
