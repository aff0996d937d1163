/**
 * From a URL string to the address to connect to and the request target to send,
 * refusing before any connection what no connection could fix: a URL that is not
 * plain `http://`, port 0, and addresses that cannot be the far end of a TCP
 * connection (multicast, limited broadcast, unspecified). These are permanent
 * failures; a refused or unreachable address is decided later, by the network.
 * @module
 */
import { HttpError } from './catalog.ts';

/** Where a request goes. */
export interface HttpTarget {
  /** The URL, normalised by the WHATWG URL parser. */
  readonly url: string;
  /** The host to connect to: a name, an IPv4 address, or an IPv6 address without brackets. */
  readonly host: string;
  /** The TCP port. */
  readonly port: number;
  /** The Host header value: host and, when not 80, the port (RFC 9110 §7.2). */
  readonly hostHeader: string;
  /** The origin-form request target: path and query, without the fragment. */
  readonly path: string;
}

// #region parse-target
/**
 * Parses and checks an `http://` URL.
 * @param url - e.g. `http://127.0.0.1:8080/healthz`
 * @returns the connect address and the request target
 * @throws {@link HttpError} `E_HTTP_BAD_URL` for anything but an absolute http URL
 *   without credentials; `E_HTTP_BAD_ADDRESS` for port 0 or a multicast, broadcast or
 *   unspecified address
 */
export function parseHttpTarget(url: string): HttpTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new HttpError('E_HTTP_BAD_URL', `Cannot use URL ${JSON.stringify(url)}: it is not an absolute URL`);
  }
  if (parsed.protocol !== 'http:') {
    throw new HttpError('E_HTTP_BAD_URL', `Cannot use URL ${parsed.href}: only http:// is supported, not ${parsed.protocol}//`);
  }
  if (parsed.username !== '' || parsed.password !== '') {
    throw new HttpError('E_HTTP_BAD_URL', `Cannot use URL ${url}: credentials in the URL are not supported`);
  }
  const port = parsed.port === '' ? 80 : Number(parsed.port);
  const host = parsed.hostname.startsWith('[') ? parsed.hostname.slice(1, -1) : parsed.hostname;
  const why = port === 0 ? 'port 0 is not a destination port' : unusableAddress(host);
  if (why !== undefined) throw new HttpError('E_HTTP_BAD_ADDRESS', `Cannot connect to ${parsed.host}: ${why}`);
  return { url: parsed.href, host, port, hostHeader: parsed.host, path: `${parsed.pathname}${parsed.search}` };
}
// #endregion parse-target

/** Why an IP literal can never be a TCP peer, or `undefined` (names are left to DNS). */
function unusableAddress(host: string): string | undefined {
  const v4 = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(host);
  if (v4 !== null) {
    const first = Number(v4[1]);
    if (host === '0.0.0.0') return 'the unspecified address 0.0.0.0 is not a destination';
    if (host === '255.255.255.255') return 'the limited broadcast address is not a TCP destination';
    if (first >= 224 && first <= 239) return `${host} is a multicast address; TCP needs a unicast peer`;
    return undefined;
  }
  if (host.includes(':')) {
    if (/^[0:]+$/.test(host)) return 'the unspecified address :: is not a destination';
    if (/^ff/i.test(host)) return `${host} is a multicast address; TCP needs a unicast peer`;
  }
  return undefined;
}
