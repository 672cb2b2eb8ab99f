/**
 * Sizes of the reliability suites: small under `npm test` (CI), long under `npm run soak`
 * (KAITEN_SOAK=1). Any size can be set on its own with its variable.
 */
export const SOAK = process.env.KAITEN_SOAK === "1";

/** A whole number from the environment, else the CI or the soak default. */
export function size(name: string, ci: number, soak: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return SOAK ? soak : ci;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a whole number`);
  return n;
}
