// supervisord's XML-RPC interface (http://supervisord.org/api.html) over its unix socket: what
// `supervisorctl` does, without starting a Python process per call (~0.1 s each, more on a busy machine,
// and a local environment makes dozens of calls per operation). Only the subset of XML-RPC supervisord
// answers with: strings, ints, booleans, arrays, structs and faults.
import { request } from "node:http";

export type RpcValue = string | number | boolean | RpcValue[] | { [key: string]: RpcValue };

/** A fault supervisord answered with, e.g. `BAD_NAME` (10) or `ALREADY_STARTED` (60). */
export class RpcFault extends Error {
  constructor(
    readonly code: number,
    readonly fault: string,
  ) {
    super(fault);
    this.name = "RpcFault";
  }
  /** The fault's name: the part of its text before the colon, e.g. BAD_NAME. */
  get kind(): string {
    return this.fault.split(":")[0]?.trim() ?? "";
  }
}

/** supervisord does not answer (not running, or its socket is gone). */
export class RpcUnreachable extends Error {
  override name = "RpcUnreachable";
}

const xmlEscape = (s: string) => s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
const xmlUnescape = (s: string) =>
  s
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&quot;", '"')
    .replaceAll("&apos;", "'")
    .replaceAll("&amp;", "&");

function encode(value: string | number | boolean): string {
  if (typeof value === "boolean") return `<value><boolean>${value ? 1 : 0}</boolean></value>`;
  if (typeof value === "number") return `<value><int>${Math.trunc(value)}</int></value>`;
  return `<value><string>${xmlEscape(value)}</string></value>`;
}

/** A cursor over an XML-RPC answer's tokens: tags (`<struct>`, `</value>`) and the text between them. */
class Tokens {
  private i = 0;
  constructor(private readonly list: string[]) {}
  /** The next tag, skipping whitespace between tags. */
  peekTag(): string | undefined {
    let k = this.i;
    while (k < this.list.length && /^\s*$/.test(this.list[k] ?? "")) k++;
    return this.list[k];
  }
  tag(expected: string): void {
    const got = this.peekTag();
    if (got !== expected) throw new Error(`XML-RPC: expected ${expected}, got ${got}`);
    while (this.list[this.i] !== expected) this.i++;
    this.i++;
  }
  /** The text before the next tag ("" when a tag follows at once). */
  text(): string {
    const t = this.list[this.i];
    if (t === undefined || t.startsWith("<")) return "";
    this.i++;
    return xmlUnescape(t);
  }
  seek(tag: string): boolean {
    const k = this.list.indexOf(tag, this.i);
    if (k < 0) return false;
    this.i = k;
    return true;
  }
}

function parseValue(t: Tokens): RpcValue {
  t.tag("<value>");
  const next = t.peekTag() ?? "";
  let value: RpcValue;
  if (next === "<struct>") {
    t.tag("<struct>");
    const struct: Record<string, RpcValue> = {};
    while (t.peekTag() === "<member>") {
      t.tag("<member>");
      t.tag("<name>");
      const name = t.text();
      t.tag("</name>");
      struct[name] = parseValue(t);
      t.tag("</member>");
    }
    t.tag("</struct>");
    value = struct;
  } else if (next === "<array>") {
    t.tag("<array>");
    t.tag("<data>");
    const items: RpcValue[] = [];
    while (t.peekTag() === "<value>") items.push(parseValue(t));
    t.tag("</data>");
    t.tag("</array>");
    value = items;
  } else if (/^<[a-z0-9]+>$/.test(next)) {
    const name = next.slice(1, -1);
    t.tag(next);
    const text = t.text();
    t.tag(`</${name}>`);
    if (name === "int" || name === "i4" || name === "double") value = Number(text);
    else if (name === "boolean") value = text.trim() === "1";
    else value = text;
  } else {
    value = t.text(); // <value>text</value>: a string without a type tag
  }
  t.tag("</value>");
  return value;
}

/** The result of a methodResponse, or its fault thrown as RpcFault. Exported for the unit tests. */
export function parseResponse(xml: string): RpcValue {
  const t = new Tokens(xml.replace(/<\?xml[^>]*\?>/, "").match(/<\/?[a-zA-Z0-9]+>|[^<]+/g) ?? []);
  const fault = xml.includes("<fault>");
  if (!t.seek("<value>")) throw new Error("XML-RPC: no value in the answer");
  const value = parseValue(t);
  if (fault) {
    const f = value as { faultCode?: number; faultString?: string };
    throw new RpcFault(Number(f.faultCode ?? 0), String(f.faultString ?? "fault"));
  }
  return value;
}

/** Calls `method` on the supervisord listening on `socketPath`. */
export function rpc(
  socketPath: string,
  method: string,
  params: (string | number | boolean)[] = [],
  timeoutMs = 30_000,
): Promise<RpcValue> {
  const body = `<?xml version="1.0"?><methodCall><methodName>${method}</methodName><params>${params
    .map((p) => `<param>${encode(p)}</param>`)
    .join("")}</params></methodCall>`;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath,
        path: "/RPC2",
        method: "POST",
        headers: { "content-type": "text/xml", "content-length": Buffer.byteLength(body) },
        timeout: timeoutMs,
      },
      (res) => {
        let xml = "";
        res.setEncoding("utf8");
        res.on("data", (d) => {
          xml += d;
        });
        res.on("end", () => {
          if (res.statusCode !== 200)
            return reject(new RpcUnreachable(`supervisord answered ${res.statusCode}`));
          try {
            resolve(parseResponse(xml));
          } catch (err) {
            reject(err);
          }
        });
      },
    );
    req.on("timeout", () => req.destroy(new RpcUnreachable(`supervisord did not answer ${method} in time`)));
    req.on("error", (err) => reject(err instanceof RpcUnreachable ? err : new RpcUnreachable(err.message)));
    req.end(body);
  });
}
