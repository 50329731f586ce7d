/**
 * Duplicate JSON member names (issue 14, fault 6's kind). RFC 8259 §4 leaves duplicate
 * names to the parser; JSON.parse keeps the last, another parser (a WAF, a signer) may
 * keep the first, so whatever the bridge reads from outside is refused when a name
 * repeats. A small linear scan of our own (no maintained library does only this): it runs
 * after JSON.parse has checked the syntax, and compares names as JSON.parse decodes them
 * ("sub" and "\u0073ub" are the same name), in every object at every depth.
 */

/** The first member name that appears twice in one object of `json` (valid JSON text), or undefined. */
export function findDuplicateMember(json: string): string | undefined {
  const objects: Array<Set<string> | undefined> = []; // undefined marks an array
  let expectName = false;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      while (j < json.length && json.charCodeAt(j) !== 0x22) j += json.charCodeAt(j) === 0x5c ? 2 : 1;
      if (expectName) {
        const name = JSON.parse(json.slice(i, j + 1)) as string;
        const seen = objects.at(-1)!;
        if (seen.has(name)) return name;
        seen.add(name);
        expectName = false;
      }
      i = j;
    } else if (c === 0x7b /* { */) {
      objects.push(new Set());
      expectName = true;
    } else if (c === 0x5b /* [ */) {
      objects.push(undefined);
      expectName = false;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      objects.pop();
      expectName = false;
    } else if (c === 0x2c /* , */) {
      expectName = objects.at(-1) !== undefined;
    }
  }
  return undefined;
}
