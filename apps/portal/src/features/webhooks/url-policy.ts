// Where webhooks may be sent. A webhook URL makes the worker send requests on behalf of whoever configured it,
// from inside the company network (server-side request forgery), so:
// - https only; http only to this machine's loopback, and loopback at all only when WEBHOOK_ALLOW_LOOPBACK is
//   on (by default in AUTH_MODE=dev: a laptop, tests);
// - no user:password in the URL (secrets belong in the signing secret, not in a URL shown on the page);
// - every address the host resolves to is checked when the URL is saved AND at each delivery, and the request
//   connects to the address that was checked (no second DNS lookup for a rebinding answer to slip through):
//   private ranges (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7) only for hosts listed in
//   WEBHOOK_PRIVATE_HOSTS; link-local (169.254/16 — cloud metadata at 169.254.169.254 — fe80::/10), unspecified,
//   multicast and reserved addresses never.
import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";

export interface UrlPolicy {
  allowLoopback: boolean;
  /** Host names (lower-case) that may resolve to private addresses. */
  privateHosts: string[];
}

export type AddressKind = "public" | "loopback" | "private" | "forbidden";

const ranges = (list: [string, number][], type: "ipv4" | "ipv6", into = new BlockList()) => {
  for (const [net, prefix] of list) into.addSubnet(net, prefix, type);
  return into;
};
const LOOPBACK = ranges([["::1", 128]], "ipv6", ranges([["127.0.0.0", 8]], "ipv4"));
const PRIVATE = ranges(
  [["fc00::", 7]],
  "ipv6",
  ranges(
    [
      ["10.0.0.0", 8],
      ["172.16.0.0", 12],
      ["192.168.0.0", 16],
      ["100.64.0.0", 10],
    ],
    "ipv4",
  ),
);
const FORBIDDEN = ranges(
  [
    ["::", 128],
    ["fe80::", 10],
    ["ff00::", 8],
    ["fd00:ec2::254", 128],
    ["64:ff9b::", 96],
    ["2001:db8::", 32],
  ],
  "ipv6",
  ranges(
    [
      ["0.0.0.0", 8],
      ["169.254.0.0", 16],
      ["192.0.0.0", 24],
      ["192.0.2.0", 24],
      ["198.18.0.0", 15],
      ["198.51.100.0", 24],
      ["203.0.113.0", 24],
      ["224.0.0.0", 4],
      ["240.0.0.0", 4],
    ],
    "ipv4",
  ),
);

export function addressKind(address: string): AddressKind {
  let ip = address;
  let type: "ipv4" | "ipv6" = isIP(ip) === 6 ? "ipv6" : "ipv4";
  // IPv4-mapped IPv6 (::ffff:10.0.0.1) is the IPv4 address.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped?.[1]) {
    ip = mapped[1];
    type = "ipv4";
  }
  if (!isIP(ip)) return "forbidden";
  if (LOOPBACK.check(ip, type)) return "loopback";
  if (FORBIDDEN.check(ip, type)) return "forbidden";
  if (PRIVATE.check(ip, type)) return "private";
  return "public";
}

/** Why `address` (which `host` resolved to) may not receive webhooks, or null. */
export function addressRefusal(host: string, address: string, policy: UrlPolicy): string | null {
  const kind = addressKind(address);
  if (kind === "public") return null;
  if (kind === "loopback") {
    return policy.allowLoopback
      ? null
      : `${host} is this machine (${address}); webhooks to loopback are off (WEBHOOK_ALLOW_LOOPBACK).`;
  }
  if (kind === "private") {
    return policy.privateHosts.includes(host.toLowerCase())
      ? null
      : `${host} resolves to an internal address (${address}); only hosts listed in WEBHOOK_PRIVATE_HOSTS may.`;
  }
  return `${host} resolves to ${address}, which never receives webhooks (link-local, metadata, multicast or reserved).`;
}

const hostOf = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, "$1").toLowerCase();

/** Checks the URL's form (scheme, no credentials); null when fine. No DNS. */
export function urlFormRefusal(raw: string, policy: UrlPolicy): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "Enter a full URL, e.g. https://hooks.example.com/portal.";
  }
  if (url.username || url.password)
    return "Leave user and password out of the URL: requests are signed instead.";
  const host = hostOf(url);
  const loopbackName = host === "localhost" || host.endsWith(".localhost");
  const loopbackIp = isIP(host) !== 0 && addressKind(host) === "loopback";
  if (url.protocol === "http:") {
    if (!(loopbackName || loopbackIp) || !policy.allowLoopback) {
      return "Use https:// (plain http only to this machine when WEBHOOK_ALLOW_LOOPBACK is on).";
    }
  } else if (url.protocol !== "https:") {
    return "Use https://.";
  }
  if (loopbackName && !policy.allowLoopback) {
    return `${host} is this machine; webhooks to loopback are off (WEBHOOK_ALLOW_LOOPBACK).`;
  }
  if (isIP(host)) return addressRefusal(host, host, policy);
  return null;
}

/** Every address `host` resolves to, each checked; throws with the reason when one is refused. */
export async function resolveAllowed(
  host: string,
  policy: UrlPolicy,
): Promise<{ address: string; family: number }[]> {
  const literal = isIP(host);
  const answers = literal
    ? [{ address: host, family: literal }]
    : host === "localhost" || host.endsWith(".localhost")
      ? [{ address: "127.0.0.1", family: 4 }]
      : await lookup(host, { all: true, verbatim: true });
  if (answers.length === 0) throw new Error(`${host} does not resolve.`);
  for (const a of answers) {
    const why = addressRefusal(host, a.address, policy);
    if (why) throw new Error(why);
  }
  return answers;
}

/** The URL's form and its host's addresses, as when it is saved. */
export async function webhookUrlRefusal(raw: string, policy: UrlPolicy): Promise<string | null> {
  const form = urlFormRefusal(raw, policy);
  if (form) return form;
  try {
    await resolveAllowed(hostOf(new URL(raw)), policy);
    return null;
  } catch (e) {
    // A name that does not resolve (yet) is accepted: each delivery resolves it again and checks the answer.
    const code = (e as { code?: string }).code;
    if (code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "ENODATA") return null;
    return e instanceof Error ? e.message : String(e);
  }
}

export { hostOf };
