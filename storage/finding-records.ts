import { hostname } from 'node:os';
import { z } from 'zod';
import { detectionRecord, nextLink, recordHash, type ChainLink } from '../evidence/chain.js';
import { canonicalize, type Json } from '../evidence/canonical.js';
import { FINDING_STATUSES, type Finding, type FindingStatus } from '../model/finding.js';
import { TERM_KINDS, type AllowRule } from '../model/terms.js';
import type { SqlGateway } from './gateway.js';
import type { IdentitiesRepository } from './identities.js';

/**
 * `finding_records` (the hash chain: one immutable detection record per finding) and
 * `finding_triage` (every triage decision), the stored half of evidence bundles.
 *
 * Each process extends its own chain ('host:pid'), one append at a time, so processes that
 * store findings side by side (ingest's streaming detection, the scheduled pass, the API
 * recording an older finding) never race for one position. A finding already recorded is
 * never recorded again, so a retried save adds nothing.
 */

export interface StoredRecord extends ChainLink {
  recorded_at: number;
  /** The detection record, as hashed (canonical JSON parsed back). */
  record: Json;
}

export interface TriageEntry {
  finding_id: string;
  at: number;
  previous_status: FindingStatus;
  status: FindingStatus;
  note: string;
  /** Who the finding is assigned to after this decision ('' = nobody). */
  assignee: string;
  /** The API key that decided (its non-secret id); '' from the CLI or tests. */
  key_id: string;
  /** Baseline values this decision allowed the identity from then on (beyond what the status implies). */
  allowed: AllowRule[];
}

const LINK_COLUMNS = `toString(chain) AS chain, seq, finding_id, toString(record_hash) AS record_hash,
  toString(prev_hash) AS prev_hash, toString(chain_hash) AS chain_hash`;
const LINK_SELECT = `${LINK_COLUMNS}, toFloat64(toUnixTimestamp64Milli(recorded_at)) AS recorded_at, record`;

const Status = z.enum(FINDING_STATUSES);
const TriageRow = z.object({
  finding_id: z.string(),
  at: z.number(),
  previous_status: Status,
  status: Status,
  note: z.string(),
  assignee: z.string(),
  key_id: z.string(),
  allowed: z.array(z.object({ kind: z.enum(TERM_KINDS), value: z.string() })),
});

interface RecordRow extends ChainLink {
  recorded_at: number;
  record: string;
}

function toStored(row: RecordRow): StoredRecord {
  return { ...row, record: JSON.parse(row.record) as Json };
}

/** This process's chain unless configured: processes running side by side never share one. */
export const DEFAULT_CHAIN = `${hostname()}:${String(process.pid)}`;

/** Appends per chain, one at a time, however many repository objects this process made. */
const queues = new Map<string, Promise<unknown>>();

export class FindingRecordsRepository {
  constructor(
    private readonly ch: SqlGateway,
    private readonly identities: Pick<IdentitiesRepository, 'byIds'>,
    /** The chain this process extends. */
    readonly chain: string = DEFAULT_CHAIN,
  ) {}

  /** Records findings stored for the first time (in finding_id order), each linked to the last. */
  append(findings: readonly Finding[]): Promise<void> {
    const key = `${this.ch.database}\u0000${this.chain}`;
    const run = (queues.get(key) ?? Promise.resolve()).then(() => this.appendNow(findings));
    queues.set(
      key,
      run.catch(() => undefined),
    );
    return run;
  }

  private async appendNow(findings: readonly Finding[]): Promise<void> {
    if (findings.length === 0) return;
    const ids = findings.map((f) => f.finding_id);
    const done = await this.ch.query<{ finding_id: string }>(
      `SELECT finding_id FROM ${this.ch.table('finding_records')} WHERE finding_id IN {ids:Array(String)}`,
      { ids },
    );
    const recorded = new Set(done.map((r) => r.finding_id));
    const fresh = [...new Map(findings.map((f) => [f.finding_id, f])).values()]
      .filter((f) => !recorded.has(f.finding_id))
      .sort((a, b) => (a.finding_id < b.finding_id ? -1 : 1));
    if (fresh.length === 0) return;
    const identities = await this.identities.byIds(fresh.map((f) => f.identity_id));
    let head = await this.head();
    const now = Date.now();
    const rows = fresh.map((finding) => {
      const record = detectionRecord(finding, identities.get(finding.identity_id) ?? null);
      const link = nextLink(this.chain, head, finding.finding_id, recordHash(record));
      head = link;
      return { ...link, recorded_at: now, record: canonicalize(record) };
    });
    await this.ch.insert('finding_records', rows);
  }

  /** The last link of this process's chain, null when it has none yet. */
  async head(): Promise<ChainLink | null> {
    const [row] = await this.ch.query<ChainLink>(
      `SELECT ${LINK_COLUMNS} FROM ${this.ch.table('finding_records')} WHERE chain = {chain:String}
       ORDER BY seq DESC LIMIT 1`,
      { chain: this.chain },
    );
    return row ?? null;
  }

  async forFinding(findingId: string): Promise<StoredRecord | undefined> {
    const [row] = await this.ch.query<RecordRow>(
      `SELECT ${LINK_SELECT} FROM ${this.ch.table('finding_records')} WHERE finding_id = {id:String}
       ORDER BY seq LIMIT 1`,
      { id: findingId },
    );
    return row ? toStored(row) : undefined;
  }

  /** Every link (without records) of every chain, in chain and seq order: the chains to check. */
  links(): Promise<ChainLink[]> {
    return this.ch.query<ChainLink>(
      `SELECT ${LINK_COLUMNS} FROM ${this.ch.table('finding_records')} ORDER BY chain, seq`,
    );
  }

  async addTriage(entry: TriageEntry): Promise<void> {
    await this.ch.insert('finding_triage', [entry]);
  }

  /** A finding's triage decisions, oldest first. */
  async triageOf(findingId: string): Promise<TriageEntry[]> {
    return (await this.triageFor([findingId])).get(findingId) ?? [];
  }

  /** Triage decisions of these findings, oldest first per finding (findings never triaged are absent). */
  async triageFor(findingIds: readonly string[]): Promise<Map<string, TriageEntry[]>> {
    const out = new Map<string, TriageEntry[]>();
    if (findingIds.length === 0) return out;
    const rows = await this.ch.query<unknown>(
      `SELECT finding_id, toFloat64(toUnixTimestamp64Milli(at)) AS at, previous_status, status, note, assignee, key_id, allowed
       FROM (SELECT * FROM ${this.ch.table('finding_triage')} WHERE finding_id IN {ids:Array(String)}
             ORDER BY finding_id, at, status)`,
      { ids: [...new Set(findingIds)] },
    );
    for (const raw of rows) {
      const entry = TriageRow.parse(raw);
      const list = out.get(entry.finding_id);
      if (list) list.push(entry);
      else out.set(entry.finding_id, [entry]);
    }
    return out;
  }
}
