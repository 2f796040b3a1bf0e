// A device slice in the form it crosses from the worker thread to the writer: a structured clone costs per value,
// and a 5,000-device slice is ~125,000 small strings (55-60 ms to receive on the writer's thread, which then does
// nothing else). Packed, it is one string (every distinct text of the slice back to back) and typed arrays of
// codes, moved rather than copied: the writer cuts the texts out of the one string and looks the values up by
// code. Repeated texts (the tenant id, types, enumeration values, group ids, the Entra device id a membership
// names) are sent once. On SQLite the documents (15 MB of a slice's text) go as UTF-8 bytes, which the writer
// binds as they are and SQLite stores as the text they encode (`CAST(? AS TEXT)`): the same bytes as from a text.

import type { RowLayout } from "../../../store/entityRows.js";
import type { DevicePlan, DeviceSlice } from "./fleetDeviceSlices.js";

/** Codes below zero: values that are not texts. Zero and above: the index of a text in the slice's table. */
const NULL = -1;
const NUMBER = -2;
const TRUE = -3;
const FALSE = -4;
const UNDEFINED = -5;
/** The row's document, as UTF-8 bytes (the next one in `docBytes`). */
const DOC_BYTES = -6;

/** Texts longer than this are not looked up for repeats (documents: unique, and costly to hash). */
const DEDUPLICATED_UP_TO = 64;

export interface PackedSlice {
  /** The distinct texts, back to back, and where each ends. */
  text: string;
  ends: Uint32Array;
  numbers: Float64Array;
  /** SQLite: the documents as UTF-8 bytes, back to back, and where each ends; the writer binds them as they are. */
  docBytes: Uint8Array;
  docEnds: Uint32Array;
  managed: Int32Array;
  entra: Int32Array;
  autopilot: Int32Array;
  autopilotCount: number;
  /** The managed devices' ids, one a line. */
  managedIds: string;
  groupIds: Int32Array;
  memberIds: Int32Array;
  dynamic: Uint8Array;
}

class Packer {
  private readonly parts: string[] = [];
  private readonly ends: number[] = [];
  private readonly seen = new Map<string, number>();
  private readonly numbers: number[] = [];
  private length = 0;
  private docBytes = Buffer.allocUnsafeSlow(0);
  private docLength = 0;
  private readonly docEnds: number[] = [];

  private doc(s: string) {
    // A UTF-16 code unit is at most 3 bytes of UTF-8.
    if (this.docBytes.length - this.docLength < s.length * 3) {
      const grown = Buffer.allocUnsafeSlow(Math.max(2 * this.docBytes.length, this.docLength + s.length * 3, 1 << 20));
      this.docBytes.copy(grown, 0, 0, this.docLength);
      this.docBytes = grown;
    }
    this.docLength += this.docBytes.write(s, this.docLength, "utf8");
    this.docEnds.push(this.docLength);
  }

  private text(s: string): number {
    if (s.length <= DEDUPLICATED_UP_TO) {
      const known = this.seen.get(s);
      if (known !== undefined) return known;
      this.seen.set(s, this.parts.length);
    }
    this.parts.push(s);
    this.length += s.length;
    this.ends.push(this.length);
    return this.parts.length - 1;
  }

  /** `docAt`/`width`: the documents' column, sent as bytes; -1 for none. */
  codes(values: readonly unknown[], docAt = -1, width = 1): Int32Array {
    const codes = new Int32Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (docAt >= 0 && i % width === docAt && typeof v === "string") {
        codes[i] = DOC_BYTES;
        this.doc(v);
      } else if (typeof v === "string") codes[i] = this.text(v);
      else if (v === null) codes[i] = NULL;
      else if (typeof v === "number") {
        codes[i] = NUMBER;
        this.numbers.push(v);
      } else if (v === true) codes[i] = TRUE;
      else if (v === false) codes[i] = FALSE;
      else if (v === undefined) codes[i] = UNDEFINED;
      else throw new TypeError(`A fleet row value of type ${typeof v} cannot be packed.`);
    }
    return codes;
  }

  finish() {
    return {
      text: this.parts.join(""),
      ends: Uint32Array.from(this.ends),
      numbers: Float64Array.from(this.numbers),
      docBytes: new Uint8Array(this.docBytes.buffer, 0, this.docLength),
      docEnds: Uint32Array.from(this.docEnds),
    };
  }
}

/**
 * Packs a slice; `transfer` lists the buffers the message can move instead of copying. With `layouts` of SQLite
 * the documents go as UTF-8 bytes: the writer then neither receives 15 MB of text a slice nor converts it back.
 */
export function packSlice(slice: DeviceSlice, layouts?: DevicePlan["layouts"]): { packed: PackedSlice; transfer: ArrayBuffer[] } {
  const p = new Packer();
  const doc = (layout: RowLayout | undefined): [number, number] => (layout?.dialect === "sqlite" ? [layout.names.indexOf("doc"), layout.names.length] : [-1, 1]);
  // The order of the parts fixes the order of the numbers and documents: unpacking reads them in the same order.
  const managed = p.codes(slice.managed, ...doc(layouts?.managed));
  const entra = p.codes(slice.entra, ...doc(layouts?.entra));
  const autopilot = p.codes(slice.autopilot, ...doc(layouts?.autopilot));
  const { groupIds, memberIds, dynamic } = slice.memberships;
  const groups = p.codes(groupIds);
  const members = p.codes(memberIds);
  const packed: PackedSlice = {
    ...p.finish(),
    managed,
    entra,
    autopilot,
    autopilotCount: slice.autopilotCount,
    // Apart from the table: the writer keeps these to the end of the call, and a text cut out of the slice's one
    // string keeps all of it in memory.
    managedIds: slice.managedIds.join("\n"),
    groupIds: groups,
    memberIds: members,
    dynamic: Uint8Array.from(dynamic, (d) => (d ? 1 : 0)),
  };
  const transfer = [packed.ends, packed.numbers, packed.docBytes, packed.docEnds, managed, entra, autopilot, groups, members, packed.dynamic].map((a) => a.buffer as ArrayBuffer);
  return { packed, transfer };
}

export function unpackSlice(p: PackedSlice): DeviceSlice {
  const texts: string[] = new Array(p.ends.length);
  for (let i = 0, start = 0; i < texts.length; i++) {
    const end = p.ends[i];
    texts[i] = p.text.slice(start, end);
    start = end;
  }
  let n = 0;
  let d = 0;
  let docStart = 0;
  const values = (codes: Int32Array): unknown[] => {
    const out: unknown[] = new Array(codes.length);
    for (let i = 0; i < codes.length; i++) {
      const c = codes[i];
      if (c === DOC_BYTES) {
        const end = p.docEnds[d++];
        out[i] = p.docBytes.subarray(docStart, end);
        docStart = end;
      } else out[i] = c >= 0 ? texts[c] : c === NULL ? null : c === NUMBER ? p.numbers[n++] : c === TRUE ? true : c === FALSE ? false : undefined;
    }
    return out;
  };
  const managed = values(p.managed);
  const entra = values(p.entra);
  const autopilot = values(p.autopilot);
  const managedIds = p.managedIds === "" ? [] : p.managedIds.split("\n");
  return {
    managed,
    entra,
    autopilot,
    autopilotCount: p.autopilotCount,
    ...(p.docEnds.length > 0 ? { docAsBytes: true } : {}),
    managedIds,
    memberships: { groupIds: values(p.groupIds) as string[], memberIds: values(p.memberIds) as string[], dynamic: Array.from(p.dynamic, (d) => d === 1) },
  };
}
