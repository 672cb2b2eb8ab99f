/** Rights patterns (PROTOCOL.md §15.2), shared by the broker and the SDK. */
/**
 * Glob match where `*` is any run of characters (none included) and every other character
 * is literal. Greedy with one backtrack point: linear in practice, never exponential.
 */
export function matches(pattern: string, name: string): boolean {
  let p = 0;
  let n = 0;
  let star = -1;
  let mark = 0;
  while (n < name.length) {
    if (p < pattern.length && pattern[p] === "*") {
      star = p++;
      mark = n;
    } else if (p < pattern.length && pattern[p] === name[n]) {
      p++;
      n++;
    } else if (star >= 0) {
      p = star + 1;
      n = ++mark;
    } else return false;
  }
  while (p < pattern.length && pattern[p] === "*") p++;
  return p === pattern.length;
}
