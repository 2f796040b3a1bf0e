// The fleet's only source of randomness: sfc32 seeded from a text, so a seed reproduces a fleet exactly, and fast
// enough to draw a few dozen numbers for each of a million devices.

import { createHash } from "node:crypto";

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
const hex32 = (w: number) => HEX[w >>> 24] + HEX[(w >>> 16) & 255] + HEX[(w >>> 8) & 255] + HEX[w & 255];

export interface Weighted<T> {
  value: T;
  weight: number;
}

export class SeededRandom {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** From a seed text, or from a `state()` to continue that generator's sequence (on another thread). */
  constructor(seed: string | readonly number[]) {
    if (typeof seed !== "string") {
      [this.a, this.b, this.c, this.d] = seed;
      return;
    }
    const h = createHash("sha256").update(seed).digest();
    this.a = h.readUInt32LE(0);
    this.b = h.readUInt32LE(4);
    this.c = h.readUInt32LE(8);
    this.d = h.readUInt32LE(12);
    for (let i = 0; i < 12; i++) this.next();
  }

  /** Where the sequence stands: a generator built from it draws what this one would draw next. */
  state(): number[] {
    return [this.a, this.b, this.c, this.d];
  }

  /** A uniform 32-bit unsigned integer. */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A uniform float in [0, 1). */
  float(): number {
    return this.next() / 4_294_967_296;
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)];
  }

  /** A random (version 4) GUID. */
  uuid(): string {
    const w1 = ((this.next() & 0xffff0fff) | 0x00004000) >>> 0;
    const w2 = ((this.next() & 0x3fffffff) | 0x80000000) >>> 0;
    const h1 = hex32(w1);
    const h2 = hex32(w2);
    return `${hex32(this.next())}-${h1.slice(0, 4)}-${h1.slice(4)}-${h2.slice(0, 4)}-${h2.slice(4)}${hex32(this.next())}`;
  }

  chars(alphabet: string, n: number): string {
    let s = "";
    for (let i = 0; i < n; i++) s += alphabet[this.int(alphabet.length)];
    return s;
  }

  hex(bytes: number): string {
    let s = "";
    for (let i = 0; i < bytes; i++) s += HEX[this.next() & 255];
    return s;
  }
}

/**
 * GUIDs whose first eight hex digits count up from a random start (like SQL Server's NEWSEQUENTIALID): a batch of
 * new rows then lands on neighbouring index pages instead of one random page each, which is what makes writing a
 * million devices with their many indexed columns fast. The rest of the GUID is random.
 */
export class GuidSequence {
  private counter: number;

  constructor(private readonly random: SeededRandom) {
    this.counter = random.next();
  }

  next(): string {
    const head = hex32(this.counter);
    this.counter = (this.counter + 1) >>> 0;
    const w1 = ((this.random.next() & 0xffff0fff) | 0x00004000) >>> 0;
    const w2 = ((this.random.next() & 0x3fffffff) | 0x80000000) >>> 0;
    const h1 = hex32(w1);
    const h2 = hex32(w2);
    return `${head}-${h1.slice(0, 4)}-${h1.slice(4)}-${h2.slice(0, 4)}-${h2.slice(4)}${hex32(this.random.next())}`;
  }
}

/** A picker over weighted choices, the cumulative table computed once. */
export function weighted<T>(choices: readonly Weighted<T>[]): (random: SeededRandom) => T {
  const total = choices.reduce((sum, c) => sum + c.weight, 0);
  const bounds: number[] = [];
  let acc = 0;
  for (const c of choices) bounds.push((acc += c.weight / total));
  return (random) => {
    const r = random.float();
    for (let i = 0; i < bounds.length; i++) if (r < bounds[i]) return choices[i].value;
    return choices[choices.length - 1].value;
  };
}

/**
 * A bijection on 32-bit integers that looks random: distinct ordinals give distinct values (user names drawn
 * from an ordinal vary without repeating a pattern).
 */
export function scramble32(x: number): number {
  let h = (x ^ 0x5bd1e995) >>> 0;
  h = Math.imul(h, 0x2c1b3c6d) >>> 0;
  h = (h ^ (h >>> 15)) >>> 0;
  h = Math.imul(h, 0x297a2d39) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}
