// The Graph read cache: the wire text of entities answered by a GET by key without query options, kept per
// process so that the next such GET answers without the store lookup, the JSON decode and the re-encode. It is
// coarse on purpose: the store's read stamp (Database.readStamp) moves on with every write of this process and
// every commit of another, and the whole cache is dropped when it does. Only the answer's text is kept; the
// token, permission, gate, read observation and headers are still per request (EntityRequests.handle).
// docs/decisions.md, "The Graph read cache".

/** What a GET by key answered, and what its read observation names. */
export interface CachedEntity {
  text: string;
  entityId: string;
  table: string;
}

/** The default bound: text and keys counted at two bytes a character, plus a fixed overhead per entry. */
export const READ_CACHE_BYTES = 32 * 1024 * 1024;
const ENTRY_OVERHEAD = 96;

export class EntityTextCache {
  private stamp: number | undefined;
  /** In the order they were kept (a Map keeps insertion order): the oldest goes first when the bound is reached. */
  private readonly entries = new Map<string, CachedEntity>();
  private bytes = 0;

  constructor(private readonly maxBytes = READ_CACHE_BYTES) {}

  get size() {
    return this.entries.size;
  }

  /** The entry of `key`, when the store has not changed since it was kept; `stamp` is the store's stamp now. */
  get(stamp: number, key: string): CachedEntity | undefined {
    if (stamp !== this.stamp) {
      this.drop();
      this.stamp = stamp;
      return undefined;
    }
    // No reordering on a hit (first in, first out): a delete and a set per hit cost more than the rare re-read
    // of an evicted entry saves.
    return this.entries.get(key);
  }

  /**
   * Keeps what a request answered from the store as of `stamp` (read before its lookup): refused when the cache
   * has seen a later stamp since, which means the store may have changed under the lookup.
   */
  set(stamp: number, key: string, entry: CachedEntity): void {
    if (stamp !== this.stamp) return;
    const size = costOf(key, entry);
    if (size > this.maxBytes / 16) return;
    const previous = this.entries.get(key);
    if (previous !== undefined) {
      this.entries.delete(key);
      this.bytes -= costOf(key, previous);
    }
    for (const [oldest, old] of this.entries) {
      if (this.bytes + size <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= costOf(oldest, old);
    }
    this.entries.set(key, entry);
    this.bytes += size;
  }

  private drop() {
    if (this.entries.size > 0) this.entries.clear();
    this.bytes = 0;
  }
}

const costOf = (key: string, entry: CachedEntity) => (key.length + entry.text.length + entry.entityId.length + entry.table.length) * 2 + ENTRY_OVERHEAD;
