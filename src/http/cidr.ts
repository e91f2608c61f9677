/** IPv4 and IPv6 CIDR ranges, parsed once; `contains` takes an address string as sockets report it. */
export class CidrSet {
  private readonly ranges: { bits: bigint; mask: bigint; v6: boolean }[] = [];

  constructor(cidrs: readonly string[]) {
    for (const cidr of cidrs) {
      const [addr = "", lenText] = cidr.split("/");
      const parsed = parseIp(addr);
      if (parsed === null) throw new Error(`invalid CIDR "${cidr}": bad address`);
      const max = parsed.v6 ? 128 : 32;
      const len = lenText === undefined ? max : Number(lenText);
      if (!Number.isInteger(len) || len < 0 || len > max) throw new Error(`invalid CIDR "${cidr}": bad prefix length`);
      const mask = len === 0 ? 0n : ((1n << BigInt(len)) - 1n) << BigInt(max - len);
      this.ranges.push({ bits: parsed.value & mask, mask, v6: parsed.v6 });
    }
  }

  get size(): number {
    return this.ranges.length;
  }

  contains(address: string): boolean {
    const ip = parseIp(address);
    if (ip === null) return false;
    for (const r of this.ranges) if (r.v6 === ip.v6 && (ip.value & r.mask) === r.bits) return true;
    return false;
  }
}

/** Parses dotted IPv4 and IPv6 (incl. "::ffff:1.2.3.4", which is treated as the IPv4 address). */
export function parseIp(text: string): { value: bigint; v6: boolean } | null {
  if (text.startsWith("::ffff:") && text.includes(".")) return parseIp(text.slice(7));
  if (!text.includes(":")) {
    const parts = text.split(".");
    if (parts.length !== 4) return null;
    let value = 0n;
    for (const p of parts) {
      if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return null;
      value = (value << 8n) | BigInt(Number(p));
    }
    return { value, v6: false };
  }
  const zone = text.indexOf("%");
  const clean = zone === -1 ? text : text.slice(0, zone);
  const halves = clean.split("::");
  if (halves.length > 2) return null;
  const head = halves[0] === "" ? [] : halves[0]!.split(":");
  const tail = halves.length === 2 && halves[1] !== "" ? halves[1]!.split(":") : [];
  const missing = 8 - head.length - tail.length;
  if ((halves.length === 1 && missing !== 0) || missing < 0) return null;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  let value = 0n;
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    value = (value << 16n) | BigInt(parseInt(g, 16));
  }
  return { value, v6: true };
}

/**
 * The bucket key of a client address: an IPv4 address (IPv4-mapped IPv6 included) as itself, an
 * IPv6 address as its first `ipv6Prefix` bits ("2001:db8:0:1::/64"), since one client usually
 * holds a whole /64. Text that is not an address is its own key.
 */
export function addressKey(address: string, ipv6Prefix: number): string {
  const ip = parseIp(address);
  if (ip === null) return address;
  if (!ip.v6) return [24n, 16n, 8n, 0n].map((s) => String((ip.value >> s) & 255n)).join(".");
  const masked = ipv6Prefix >= 128 ? ip.value : (ip.value >> BigInt(128 - ipv6Prefix)) << BigInt(128 - ipv6Prefix);
  const groups: string[] = [];
  for (let i = 7; i >= 0; i--) groups.push(((masked >> BigInt(i * 16)) & 0xffffn).toString(16));
  return `${groups.join(":")}/${ipv6Prefix}`;
}
