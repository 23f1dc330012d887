export function timeZones(current?: string): string[] {
  const all = (Intl as unknown as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf?.("timeZone") ?? [];
  const set = new Set(["UTC", ...all]);
  if (current) set.add(current);
  return [...set];
}
