// Redis Cluster topology as the local cache needs it: key slots, hash tags onto a slot, and the nodes `CLUSTER NODES` lists.

/** Redis Cluster's slot of a key: CRC16 (XMODEM) of its hash tag (else of the whole key, as UTF-8) mod 16384. */
export function keySlot(key: string): number {
  const bytes = Buffer.from(key);
  let start = 0;
  let end = bytes.length;
  const open = bytes.indexOf(0x7b);
  if (open >= 0) {
    const close = bytes.indexOf(0x7d, open + 1);
    // An empty tag ("{}") does not count: the whole key is hashed.
    if (close > open + 1) {
      start = open + 1;
      end = close;
    }
  }
  let crc = 0;
  for (let i = start; i < end; i++) {
    crc ^= bytes[i] << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc & 0x3fff;
}

/** The first decimal tag found for each slot, and where the search stopped. */
const tags = new Map<number, string>();
let searched = 0;

/** A hash tag (without its braces) whose keys land on `slot`. Decimal tags reach all 16384 slots within about 110 000. */
export function tagFor(slot: number): string {
  // Every slot passed on the way is kept: the search over all slots runs at most once per process.
  for (let tag = tags.get(slot); ; tag = tags.get(slot)) {
    if (tag !== undefined) return tag;
    const next = String(searched++);
    const found = keySlot(`{${next}}`);
    if (!tags.has(found)) tags.set(found, next);
  }
}

/** A node of a Redis Cluster, as `CLUSTER NODES` describes it. */
export interface ClusterNode {
  id: string;
  /** `ip:port` as the node announces itself, and `hostname:port` when it announces a hostname too. */
  endpoints: string[];
  /** A replica's master; absent for a master. */
  masterId?: string;
  /** The slot ranges a master serves, `[from, to]` inclusive. */
  slots: [number, number][];
}

/** What a `CLUSTER NODES` reply says of the cluster's nodes. */
export interface ClusterNodes {
  /**
   * The nodes that may hold or receive keys: all but those in `handshake` or without an address
   * (`noaddr`), and failed (`fail`) nodes that serve no slot. A failed master still listed with slots
   * has not been replaced yet: its slots stay its own until its replica takes over. Masters without
   * slots count (a resharding may be filling one).
   */
  nodes: ClusterNode[];
  /** The endpoints of failed nodes that serve no slot: replaced, or gone; a client may still route to them. */
  failed: Set<string>;
}

/** Reads a `CLUSTER NODES` reply (one line per node). */
export function parseClusterNodes(reply: string): ClusterNodes {
  const nodes: ClusterNode[] = [];
  const failed = new Set<string>();
  for (const line of reply.split('\n')) {
    // <id> <ip:port@cport[,hostname]> <flags> <master> <ping-sent> <pong-recv> <config-epoch> <link-state> <slot> ...
    const [id, announced, flags, master, , , , , ...fields] = line.trim().split(' ');
    if (fields === undefined || master === undefined) continue;
    // Ranges in brackets are slots being migrated or imported, still served by their owner.
    const slots = fields
      .filter((slot) => !slot.startsWith('['))
      .map((slot): [number, number] => {
        const [from, to = from] = slot.split('-').map(Number);
        return [from, to];
      });
    const flagged = new Set(flags.split(','));
    if (flagged.has('handshake') || flagged.has('noaddr')) continue;
    const [address, hostname] = announced.split(',');
    const ipPort = address.split('@')[0];
    const port = ipPort.slice(ipPort.lastIndexOf(':') + 1);
    const endpoints = hostname ? [ipPort, `${hostname}:${port}`] : [ipPort];
    if (flagged.has('fail') && slots.length === 0) {
      for (const endpoint of endpoints) failed.add(endpoint);
      continue;
    }
    nodes.push({ id, endpoints, ...(master === '-' ? {} : { masterId: master }), slots });
  }
  return { nodes, failed };
}
