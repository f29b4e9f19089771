import { whole, type Alternative } from './alternative.js';

export const PRIVATE_KEY: Alternative = {
  // Complete blocks (a 4096-bit RSA key is ~3.3 KB; the bound keeps a flood of BEGIN lines
  // without END linear), or a truncated one (a preview cut mid-key) up to where base64 stops.
  group: 'pem',
  source: String.raw`-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----(?:[\s\S]{0,8192}?-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----|[A-Za-z0-9+/=\s:,\\.-]*)`,
  judge: (m) => whole(m, 'private_key'),
};
