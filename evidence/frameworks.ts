/**
 * What the control ids on findings mean, for the auditor reading a bundle: each id a detector
 * or rule tags (`OWASP-NHI:NHI5`, `NIST-CSF:DE.CM-09`, `owasp-agentic.t2`, `attack.t1657`) with
 * its framework and title. Every bundle also cites EU AI Act Article 12 (record-keeping): the
 * bundle is itself the log of an AI system's actions that the article asks deployers to keep.
 */

export interface ControlRef {
  id: string;
  framework: string;
  control: string;
  title: string;
}

const OWASP_NHI: Record<string, string> = {
  NHI1: 'Improper Offboarding',
  NHI2: 'Secret Leakage',
  NHI3: 'Vulnerable Third-Party NHI',
  NHI4: 'Insecure Authentication',
  NHI5: 'Overprivileged NHI',
  NHI6: 'Insecure Cloud Deployment Configurations',
  NHI7: 'Long-Lived Secrets',
  NHI8: 'Environment Isolation',
  NHI9: 'NHI Reuse',
  NHI10: 'Human Use of NHI',
};

const OWASP_AGENTIC: Record<string, string> = {
  T1: 'Memory Poisoning',
  T2: 'Tool Misuse',
  T3: 'Privilege Compromise',
  T4: 'Resource Overload',
  T5: 'Cascading Hallucination Attacks',
  T6: 'Intent Breaking & Goal Manipulation',
  T7: 'Misaligned & Deceptive Behaviors',
  T8: 'Repudiation & Untraceability',
  T9: 'Identity Spoofing & Impersonation',
  T10: 'Overwhelming Human in the Loop',
  T11: 'Unexpected RCE and Code Attacks',
  T12: 'Agent Communication Poisoning',
  T13: 'Rogue Agents in Multi-Agent Systems',
  T14: 'Human Attacks on Multi-Agent Systems',
  T15: 'Human Manipulation',
};

const NIST_CSF: Record<string, string> = {
  'ID.AM-01': 'Inventories of hardware managed by the organization are maintained',
  'PR.AA-01': 'Identities and credentials for authorized users, services, and hardware are managed',
  'PR.AA-05':
    'Access permissions, entitlements, and authorizations are defined, managed, enforced, and reviewed',
  'PR.PS-04': 'Log records are generated and made available for continuous monitoring',
  'DE.CM-01': 'Networks and network services are monitored to find potentially adverse events',
  'DE.CM-03': 'Personnel activity and technology usage are monitored to find potentially adverse events',
  'DE.CM-09': 'Computing hardware and software, runtime environments, and their data are monitored',
  'DE.AE-02': 'Potentially adverse events are analyzed to better understand associated activities',
};

export const EU_AI_ACT_RECORD_KEEPING: ControlRef = {
  id: 'EU-AI-ACT:ART12',
  framework: 'EU AI Act',
  control: 'Article 12',
  title: 'Record-keeping: automatic recording of events (logs) over the lifetime of the system',
};

/** One control id as the auditor reads it; ids no catalogue here knows keep their raw form. */
export function controlRef(id: string): ControlRef {
  const [prefix, rest] = splitId(id);
  const lookup = (framework: string, table: Record<string, string>, control: string): ControlRef => ({
    id,
    framework,
    control,
    title: table[control] ?? '(not in this catalogue)',
  });
  switch (prefix) {
    case 'owasp-nhi':
      return lookup('OWASP Non-Human Identities Top 10 (2025)', OWASP_NHI, rest.toUpperCase());
    case 'owasp-agentic':
      return lookup('OWASP Agentic AI Threats and Mitigations', OWASP_AGENTIC, rest.toUpperCase());
    case 'nist-csf':
      return lookup('NIST CSF 2.0', NIST_CSF, rest.toUpperCase());
    case 'attack':
      return {
        id,
        framework: 'MITRE ATT&CK',
        control: rest.toUpperCase(),
        title: `technique ${rest.toUpperCase()}`,
      };
    default:
      return { id, framework: prefix || 'unknown', control: rest || id, title: '(not in this catalogue)' };
  }
}

/** `OWASP-NHI:NHI5` and `owasp-nhi.nhi5` alike → ['owasp-nhi', 'nhi5']. */
function splitId(id: string): [string, string] {
  const cut = id.search(/[:.]/);
  if (cut < 0) return ['', id];
  return [id.slice(0, cut).toLowerCase(), id.slice(cut + 1)];
}

/** The mapping part of a bundle: the finding's controls, then the record-keeping article. */
export function frameworkMapping(ids: readonly string[]): ControlRef[] {
  const refs = [...new Set(ids)].map(controlRef);
  return [...refs, EU_AI_ACT_RECORD_KEEPING];
}
