import { z } from 'zod';
import { detectionRecord, nextLink, recordHash, type ChainLink } from '../evidence/chain.js';
import { canonicalize, type Json } from '../evidence/canonical.js';
import { FINDING_STATUSES, type Finding, type FindingStatus } from '../model/finding.js';
import type { SqlGateway } from './gateway.js';
import type { IdentitiesRepository } from './identities.js';

/**
 * `finding_records` (the hash chain: one immutable detection record per finding) and
 * `finding_triage` (every triage decision), the stored half of evidence bundles.
 *
 * Links are appended by one writer at a time in this process (appends queue behind each
 * other), and a finding already recorded is never recorded again, so a retried save adds
 * nothing. Two processes appending to one database at once would both extend the same head:
 * verification reports that as two records claiming one position. Run detection that saves
 * findings in one process per database (the scheduled and streaming paths of `scopewatch run`
 * share it).
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
}

const LINK_SELECT = `seq, finding_id, toFloat64(toUnixTimestamp64Milli(recorded_at)) AS recorded_at, record,
  toString(record_hash) AS record_hash, toString(prev_hash) AS prev_hash, toString(chain_hash) AS chain_hash`;

const Status = z.enum(FINDING_STATUSES);
const TriageRow = z.object({
  finding_id: z.string(),
  at: z.number(),
  previous_status: Status,
  status: Status,
  note: z.string(),
  assignee: z.string(),
  key_id: z.string(),
});

interface RecordRow extends ChainLink {
  recorded_at: number;
  record: string;
}

function toStored(row: RecordRow): StoredRecord {
  return { ...row, record: JSON.parse(row.record) as Json };
}

export class FindingRecordsRepository {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly ch: SqlGateway,
    private readonly identities: Pick<IdentitiesRepository, 'byIds'>,
  ) {}

  /** Records findings stored for the first time (in finding_id order), each linked to the last. */
  append(findings: readonly Finding[]): Promise<void> {
    const run = this.queue.then(() => this.appendNow(findings));
    this.queue = run.catch(() => undefined);
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
    const fresh = [...findings]
      .filter((f) => !recorded.has(f.finding_id))
      .sort((a, b) => (a.finding_id < b.finding_id ? -1 : 1));
    if (fresh.length === 0) return;
    const identities = await this.identities.byIds(fresh.map((f) => f.identity_id));
    let head = await this.head();
    const now = Date.now();
    const rows = fresh.map((finding) => {
      const record = detectionRecord(finding, identities.get(finding.identity_id) ?? null);
      const link = nextLink(head, finding.finding_id, recordHash(record));
      head = link;
      return { ...link, recorded_at: now, record: canonicalize(record) };
    });
    await this.ch.insert('finding_records', rows);
  }

  /** The last link, null when nothing is recorded yet. */
  async head(): Promise<ChainLink | null> {
    const [row] = await this.ch.query<RecordRow>(
      `SELECT ${LINK_SELECT} FROM ${this.ch.table('finding_records')} ORDER BY seq DESC LIMIT 1`,
    );
    return row ? toStored(row) : null;
  }

  async forFinding(findingId: string): Promise<StoredRecord | undefined> {
    const [row] = await this.ch.query<RecordRow>(
      `SELECT ${LINK_SELECT} FROM ${this.ch.table('finding_records')} WHERE finding_id = {id:String}
       ORDER BY seq LIMIT 1`,
      { id: findingId },
    );
    return row ? toStored(row) : undefined;
  }

  /** Links (without records) with seq in [from, to], in order: the chain to check. */
  async links(from: number, to: number): Promise<ChainLink[]> {
    const rows = await this.ch.query<ChainLink>(
      `SELECT seq, finding_id, toString(record_hash) AS record_hash, toString(prev_hash) AS prev_hash,
              toString(chain_hash) AS chain_hash
       FROM ${this.ch.table('finding_records')} WHERE seq >= {from:UInt64} AND seq <= {to:UInt64} ORDER BY seq`,
      { from, to },
    );
    return rows;
  }

  async addTriage(entry: TriageEntry): Promise<void> {
    await this.ch.insert('finding_triage', [entry]);
  }

  /** A finding's triage decisions, oldest first. */
  async triageOf(findingId: string): Promise<TriageEntry[]> {
    const rows = await this.ch.query<unknown>(
      `SELECT finding_id, toFloat64(toUnixTimestamp64Milli(at)) AS at, previous_status, status, note, assignee, key_id
       FROM (SELECT * FROM ${this.ch.table('finding_triage')} WHERE finding_id = {id:String}
             ORDER BY at, status)`,
      { id: findingId },
    );
    return rows.map((r) => TriageRow.parse(r));
  }
}
