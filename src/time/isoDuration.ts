// ISO 8601 durations as time control takes them: `PT10M`, `P1DT2H`, `PT0.5S` (days, hours, minutes, seconds;
// years and months have no fixed length and are refused).

export function parseIsoDuration(text: string): number | undefined {
  const m = /^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i.exec(text.trim());
  if (!m || text.trim().toUpperCase() === "P" || /T$/i.test(text.trim())) return undefined;
  const [, d, h, min, s] = m.map((x) => (x === undefined ? 0 : Number(x)));
  return ((d * 24 + h) * 60 + min) * 60_000 + s * 1000;
}
