import { isIPv4, isIPv6, type Socket } from "node:net";

/** The key every loopback address (127.0.0.0/8, ::1, ::ffff:127.x) shares. */
export const LOOPBACK_CLIENT = "loopback";

function firstGroups(address: string, count: number): string[] {
  const [head = "", tail] = address.split("::");
  const headParts = head ? head.split(":") : [];
  if (tail === undefined) return headParts.slice(0, count);
  const tailParts = tail ? tail.split(":") : [];
  // A dotted IPv4 tail stands for two groups.
  const tailGroups = tailParts.reduce((sum, part) => sum + (part.includes(".") ? 2 : 1), 0);
  const zeros = Array.from({ length: Math.max(0, 8 - headParts.length - tailGroups) }, () => "0");
  return [...headParts, ...zeros, ...tailParts].slice(0, count);
}

/**
 * Who a connection is, for lockouts and connection caps: an IPv4 address (also when it arrives
 * IPv4-mapped, `::ffff:a.b.c.d`), an IPv6 /64 (one subscriber's whole prefix), or this machine
 * (every loopback address is one client, so rotating through 127.0.0.0/8 changes nothing).
 */
export function clientKey(address: string | undefined): string {
  if (!address) return "unknown";
  let text = address.toLowerCase();
  const zone = text.indexOf("%");
  if (zone >= 0) text = text.slice(0, zone);
  if (text.startsWith("::ffff:") && isIPv4(text.slice(7))) text = text.slice(7);
  if (isIPv4(text)) return text.startsWith("127.") ? LOOPBACK_CLIENT : text;
  if (!isIPv6(text)) return text;
  if (text === "::1") return LOOPBACK_CLIENT;
  return `${firstGroups(text, 4)
    .map((group) => group.replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}

const socketKeys = new WeakMap<Socket, string>();

/** clientKey for a connection, worked out once per connection rather than per request. */
export function socketClientKey(socket: Socket): string {
  let key = socketKeys.get(socket);
  if (key === undefined) {
    key = clientKey(socket.remoteAddress);
    socketKeys.set(socket, key);
  }
  return key;
}
