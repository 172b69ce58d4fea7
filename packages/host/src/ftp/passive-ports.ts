/** `30000-30009` → { min: 30000, max: 30009 }, for config.ts (1024–65535, min ≤ max). */
export function parsePassivePorts(value: string): { min: number; max: number } | null {
  const match = /^(\d{1,5})-(\d{1,5})$/.exec(value.trim());
  if (!match) return null;
  const [min, max] = [Number(match[1]), Number(match[2])];
  return min >= 1024 && max <= 65535 && min <= max ? { min, max } : null;
}
