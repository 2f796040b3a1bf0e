// Other connections' commits, seen without a statement: the WAL-index header (the first 96 bytes of the `-shm`
// file: two copies of the 48-byte header, https://www.sqlite.org/walformat.html) changes with every commit of
// any connection to a database in WAL mode, because that is how SQLite's own readers learn of it (`mxFrame`, the
// change counter, the salts after a WAL restart). SQLite maps the file shared; a `pread` of the same pages sees
// its stores (one page cache). Reading it costs one `pread` (~0.7 µs), against ~2 µs and more under load for
// `PRAGMA data_version`, whose read transaction takes the WAL read locks. A read that races a commit sees either
// the old bytes (the commit is not visible to SQLite's readers either) or bytes that differ (a change).

import { closeSync, openSync, readSync } from "node:fs";

const HEADER_BYTES = 96;

export class WalIndexHeader {
  private readonly current = Buffer.alloc(HEADER_BYTES);
  private readonly seen = Buffer.alloc(HEADER_BYTES);

  private constructor(private fd: number | undefined) {}

  /** The header of `file`'s WAL index, or undefined when it cannot be read (then ask SQLite instead). */
  static open(file: string): WalIndexHeader | undefined {
    let fd: number | undefined;
    try {
      fd = openSync(`${file}-shm`, "r");
      const header = new WalIndexHeader(fd);
      return header.changed() !== undefined ? header : (header.close(), undefined);
    } catch {
      if (fd !== undefined) closeSync(fd);
      return undefined;
    }
  }

  /** Whether the header differs from the one the last call saw; undefined when it could not be read whole. */
  changed(): boolean | undefined {
    if (this.fd === undefined) return undefined;
    if (readSync(this.fd, this.current, 0, HEADER_BYTES, 0) !== HEADER_BYTES) return undefined;
    if (this.current.equals(this.seen)) return false;
    this.current.copy(this.seen);
    return true;
  }

  close() {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
