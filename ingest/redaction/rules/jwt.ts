import type { KnownFormat } from './alternative.js';

// header.payload.signature; the header is base64url JSON, so it starts with eyJ ('{"').
export const JWT: KnownFormat = {
  group: 'jwt',
  kind: 'jwt',
  source: `(?<![_-])eyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{4,}\\.[A-Za-z0-9_-]*`,
};
