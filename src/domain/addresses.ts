/**
 * Which IP addresses a webhook may reach. Pure: parses IPv4 and IPv6 text (no DNS) and classifies
 * the address, looking through every IPv6 form that embeds an IPv4 address (IPv4-mapped, -compatible,
 * -translated, NAT64, 6to4), so `::ffff:169.254.169.254` is the metadata address it is.
 * docs/adr/0022-hook-targets-safe-by-construction.md explains the classes.
 */

/**
 * What an address is. `public` is always reachable. `loopback` only where the wiring allows
 * loopback (local mode). `private` (RFC 1918, CGNAT, ULA, other reserved ranges) only when the
 * group's allow-list names the host. The rest (`metadata`, `link-local`, `unspecified`,
 * `multicast`, `broadcast`) never: no webhook has a reason to be there.
 */
export type AddressClass =
  'public' | 'loopback' | 'private' | 'metadata' | 'link-local' | 'unspecified' | 'multicast' | 'broadcast';

/** The classes no allow-list opens. */
export const NEVER_REACHABLE: ReadonlySet<AddressClass> = new Set([
  'metadata',
  'link-local',
  'unspecified',
  'multicast',
  'broadcast',
]);

/** `a.b.c.d` (four decimal parts, 0-255, no leading zeros) → 4 bytes, else undefined. */
export function parseIPv4(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const bytes: number[] = [];
  for (const p of parts) {
    if (p.length === 0 || p.length > 3 || (p.length > 1 && p[0] === '0')) return undefined;
    for (const ch of p) if (ch < '0' || ch > '9') return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    bytes.push(n);
  }
  return bytes;
}

const isHex = (s: string) =>
  s.length >= 1 &&
  s.length <= 4 &&
  [...s].every((c) => (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'));

/** IPv6 text (with `::`, an embedded dotted IPv4 tail, optional brackets, no zone) → 16 bytes, else undefined. */
export function parseIPv6(input: string): number[] | undefined {
  let text = input.startsWith('[') && input.endsWith(']') ? input.slice(1, -1) : input;
  if (text.includes('%')) text = text.slice(0, text.indexOf('%')); // a zone id does not change the address
  if (text.length === 0 || text.length > 45) return undefined;
  let tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (lastColon < 0) return undefined;
  if (text.slice(lastColon + 1).includes('.')) {
    const v4 = parseIPv4(text.slice(lastColon + 1));
    if (!v4) return undefined;
    tail = v4;
    text = text.slice(0, lastColon + 1) + '0:0'; // placeholder groups, replaced below
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const head = groups(halves[0]!);
  const rest = halves.length === 2 ? groups(halves[1]!) : [];
  if (![...head, ...rest].every(isHex)) return undefined;
  const missing = 8 - head.length - rest.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...rest].map((g) =>
    parseInt(g, 16),
  );
  const bytes = all.flatMap((g) => [g >> 8, g & 0xff]);
  if (tail.length) bytes.splice(12, 4, ...tail);
  return bytes;
}

const inV4 = (b: number[], base: [number, number, number, number], bits: number): boolean => {
  for (let i = 0; i < 4; i++) {
    const take = Math.max(0, Math.min(8, bits - i * 8));
    const mask = take === 0 ? 0 : (0xff << (8 - take)) & 0xff;
    if ((b[i]! & mask) !== (base[i]! & mask)) return false;
  }
  return true;
};

/** IPv4 ranges, most specific first. */
const V4_RANGES: [[number, number, number, number], number, AddressClass][] = [
  [[169, 254, 169, 254], 32, 'metadata'], // EC2 instance metadata (IMDS)
  [[169, 254, 170, 2], 32, 'metadata'], // ECS task metadata and credentials
  [[169, 254, 170, 23], 32, 'metadata'], // EKS Pod Identity agent
  [[255, 255, 255, 255], 32, 'broadcast'],
  [[0, 0, 0, 0], 8, 'unspecified'], // "this network"
  [[127, 0, 0, 0], 8, 'loopback'],
  [[169, 254, 0, 0], 16, 'link-local'],
  [[10, 0, 0, 0], 8, 'private'],
  [[172, 16, 0, 0], 12, 'private'],
  [[192, 168, 0, 0], 16, 'private'],
  [[100, 64, 0, 0], 10, 'private'], // CGNAT (RFC 6598)
  [[192, 0, 0, 0], 24, 'private'], // IETF protocol assignments
  [[192, 0, 2, 0], 24, 'private'], // documentation
  [[198, 18, 0, 0], 15, 'private'], // benchmarking
  [[198, 51, 100, 0], 24, 'private'], // documentation
  [[203, 0, 113, 0], 24, 'private'], // documentation
  [[224, 0, 0, 0], 4, 'multicast'],
  [[240, 0, 0, 0], 4, 'private'], // reserved
];

export function classifyIPv4(b: number[]): AddressClass {
  for (const [base, bits, kind] of V4_RANGES) if (inV4(b, base, bits)) return kind;
  return 'public';
}

const zero = (b: number[], from: number, to: number) => b.slice(from, to).every((x) => x === 0);

export function classifyIPv6(b: number[]): AddressClass {
  // Forms that carry an IPv4 address: classify what they carry.
  if (zero(b, 0, 10) && b[10] === 0xff && b[11] === 0xff) return classifyIPv4(b.slice(12)); // ::ffff:a.b.c.d
  // ::ffff:0:a.b.c.d (IPv4-translated)
  if (zero(b, 0, 8) && b[8] === 0xff && b[9] === 0xff && zero(b, 10, 12)) return classifyIPv4(b.slice(12));
  if (zero(b, 0, 15) && b[15] === 0) return 'unspecified'; // ::
  if (zero(b, 0, 15) && b[15] === 1) return 'loopback'; // ::1
  if (zero(b, 0, 12)) return classifyIPv4(b.slice(12)); // ::a.b.c.d (deprecated IPv4-compatible)
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b) {
    // NAT64 64:ff9b::/96 (and the local-use 64:ff9b:1::/48): the gateway connects to the embedded IPv4.
    return classifyIPv4(b.slice(12));
  }
  if (b[0] === 0x20 && b[1] === 0x02) return classifyIPv4(b.slice(2, 6)); // 6to4 2002:AABB:CCDD::/48
  const hex = b.map((x) => x.toString(16).padStart(2, '0')).join('');
  // fd00:ec2::254 (EC2 IMDS over IPv6) and fd00:ec2::23 (EKS Pod Identity).
  if (hex.startsWith('fd000ec2') && zero(b, 4, 14) && b[14] === 0x02 && (b[15] === 0x54 || b[15] === 0x23)) {
    return 'metadata';
  }
  if (b[0] === 0xff) return 'multicast'; // ff00::/8
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0x80) return 'link-local'; // fe80::/10
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0xc0) return 'private'; // fec0::/10 (deprecated site-local)
  if ((b[0]! & 0xfe) === 0xfc) return 'private'; // ULA fc00::/7
  if (b[0] === 0x20 && b[1] === 0x01 && b[2] === 0x0d && b[3] === 0xb8) return 'private'; // documentation
  if (b[0] === 0x20 && b[1] === 0x01 && b[2] === 0x00 && b[3] === 0x00) return 'private'; // Teredo (hides an IPv4)
  if (b[0] === 0x01 && zero(b, 1, 8)) return 'private'; // discard-only 100::/64
  return 'public';
}

/** The class of an IP address literal, or undefined when `text` is not one. */
export function classifyAddress(text: string): AddressClass | undefined {
  const v4 = parseIPv4(text);
  if (v4) return classifyIPv4(v4);
  const v6 = parseIPv6(text);
  return v6 ? classifyIPv6(v6) : undefined;
}

/** What each class is called in a refusal. */
export const ADDRESS_CLASS_NAMES: Record<AddressClass, string> = {
  public: 'a public address',
  loopback: 'a loopback address',
  private: 'a private or reserved address',
  metadata: 'an instance metadata address',
  'link-local': 'a link-local address',
  unspecified: 'the unspecified address',
  multicast: 'a multicast address',
  broadcast: 'the broadcast address',
};
