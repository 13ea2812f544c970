/**
 * SSRF guard for webhook targets. A tenant chooses the URL and the server POSTs to it, so without
 * a guard any tenant could make Bursar reach its own loopback services, the private network or
 * a cloud metadata endpoint (169.254.169.254 hands out credentials). Every address a host
 * resolves to is checked, at registration and again at each delivery: DNS can change between
 * the two (DNS rebinding), so the delivery connects to the very address that was checked (see
 * post.ts), not to whatever a second lookup returns.
 *
 * Allowing private targets is an explicit server opt-in (`allowPrivateWebhookTargets`, env
 * `BURSAR_ALLOW_PRIVATE_WEBHOOK_TARGETS=1`), never a default (STYLE habit 7).
 */
import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";

/** Ranges no webhook may reach: RFC 6890 special-purpose blocks that are not the public internet. */
const forbidden = new BlockList();
for (const [network, prefix] of [
  ["0.0.0.0", 8], // "this network", includes the unspecified address
  ["10.0.0.0", 8], // RFC 1918
  ["100.64.0.0", 10], // CGNAT (RFC 6598)
  ["127.0.0.0", 8], // loopback
  ["169.254.0.0", 16], // link-local, includes cloud metadata 169.254.169.254
  ["172.16.0.0", 12], // RFC 1918
  ["192.0.0.0", 24], // IETF protocol assignments
  ["192.168.0.0", 16], // RFC 1918
  ["198.18.0.0", 15], // benchmarking
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, includes broadcast
] as const) {
  forbidden.addSubnet(network, prefix, "ipv4");
}
for (const [network, prefix] of [
  ["::", 128], // unspecified
  ["::1", 128], // loopback
  ["fc00::", 7], // unique local (ULA)
  ["fe80::", 10], // link-local
  ["ff00::", 8], // multicast
  ["64:ff9b::", 96], // NAT64: embeds an IPv4 address we cannot vouch for
  ["2001:db8::", 32], // documentation
] as const) {
  forbidden.addSubnet(network, prefix, "ipv6");
}

/** The IPv4 address inside an IPv4-mapped IPv6 address (`::ffff:10.0.0.1`), if it is one. */
function mappedIpv4(address: string): string | null {
  const match = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return match ? match[1]! : null;
}

/** True when `address` (an IP literal) is loopback, private, link-local, multicast, etc. */
export function isForbiddenAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return forbidden.check(address, "ipv4");
  if (family === 6) {
    const v4 = mappedIpv4(address);
    if (v4) return forbidden.check(v4, "ipv4");
    return forbidden.check(address, "ipv6");
  }
  return true; // not an IP: refuse rather than guess
}

export interface TargetCheck {
  ok: boolean;
  /** Why it was refused (for the problem detail or the attempt record). */
  reason?: string;
  /** The checked addresses, to connect to one of them and nothing else. */
  addresses: Array<{ address: string; family: number }>;
}

/** Parses a webhook URL: http or https only, no credentials in it. */
export function parseWebhookUrl(text: string): URL | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return null;
  // Credentials in a URL would be sent to the target and shown in listings.
  if (url.username !== "" || url.password !== "") return null;
  return url;
}

/** Resolves the URL's host and checks every address it resolves to. */
export async function checkWebhookTarget(url: URL, allowPrivate: boolean): Promise<TargetCheck> {
  const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  let addresses: Array<{ address: string; family: number }>;
  try {
    addresses = isIP(host) ? [{ address: host, family: isIP(host) }] : await lookup(host, { all: true, verbatim: true });
  } catch {
    return { ok: false, reason: `the host ${host} does not resolve`, addresses: [] };
  }
  if (addresses.length === 0) return { ok: false, reason: `the host ${host} does not resolve`, addresses: [] };
  if (!allowPrivate) {
    const bad = addresses.find((entry) => isForbiddenAddress(entry.address));
    if (bad) return { ok: false, reason: `the host ${host} resolves to ${bad.address}, a private, loopback or reserved address`, addresses: [] };
  }
  return { ok: true, addresses };
}
