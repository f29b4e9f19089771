import { ActionsRepository } from './actions.js';
import { ApiAccessRepository } from './api-access.js';
import { BaselinesRepository } from './baselines.js';
import { DetectorStateRepository } from './detector-state.js';
import { EventStatsRepository } from './event-stats.js';
import { FindingRecordsRepository } from './finding-records.js';
import { FindingsRepository } from './findings.js';
import type { SqlGateway } from './gateway.js';
import { IdentitiesRepository } from './identities.js';
import { OverridesRepository } from './overrides.js';
import { Transitions } from './transitions.js';
import { UsageRepository } from './usage.js';

/** Every repository over one gateway: what services are handed instead of a client. */
export interface Repositories {
  actions: ActionsRepository;
  baselines: BaselinesRepository;
  findings: FindingsRepository;
  /** The evidence chain over findings and their triage history. */
  records: FindingRecordsRepository;
  overrides: OverridesRepository;
  identities: IdentitiesRepository;
  detectorState: DetectorStateRepository;
  eventStats: EventStatsRepository;
  transitions: Transitions;
  /** API keys created at run time and the audit of every API request. */
  access: ApiAccessRepository;
  /** What identities did in a period, for access reviews. */
  usage: UsageRepository;
}

export function repositoriesOf(ch: SqlGateway): Repositories {
  const baselines = new BaselinesRepository(ch);
  const identities = new IdentitiesRepository(ch, baselines);
  const records = new FindingRecordsRepository(ch, identities);
  return {
    actions: new ActionsRepository(ch),
    baselines,
    findings: new FindingsRepository(ch, records),
    records,
    overrides: new OverridesRepository(ch),
    identities,
    detectorState: new DetectorStateRepository(ch),
    eventStats: new EventStatsRepository(ch),
    transitions: new Transitions(ch),
    access: new ApiAccessRepository(ch),
    usage: new UsageRepository(ch),
  };
}
