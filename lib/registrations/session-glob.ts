/**
 * Session-name globs: `*` (any run, empty included) and `?` (one character), nothing else.
 * Matched by hand, never through RegExp: a pattern comes from an operator's file and a
 * session name from whoever called sts:AssumeRole, so neither may steer a regex engine.
 * The matcher is the classic two-pointer wildcard walk: no recursion, at most
 * |pattern| × |name| steps (both are capped at 64 characters by validation and by STS).
 */

import { MAX_IAM_NAME_LENGTH as MAX_SESSION_NAME_LENGTH, SESSION_GLOB_CHARS } from "../aws-names.js";

/** The rule a glob breaks, or undefined when it is usable. */
export function sessionGlobRule(pattern: string): string | undefined {
  if (pattern.length === 0) return "must not be empty";
  if (pattern.length > MAX_SESSION_NAME_LENGTH)
    return `must be at most ${MAX_SESSION_NAME_LENGTH} characters`;
  if (!SESSION_GLOB_CHARS.test(pattern))
    return "may contain only letters, digits, '_+=,.@-' and the wildcards '*' and '?'";
  return undefined;
}

export function matchSessionGlob(pattern: string, name: string): boolean {
  let p = 0;
  let n = 0;
  // Where the last '*' was seen, and the name position it is currently absorbing up to.
  let star = -1;
  let starName = 0;
  while (n < name.length) {
    const pc = pattern[p];
    if (pc === "*") {
      star = p++;
      starName = n;
    } else if (pc !== undefined && (pc === "?" || pc === name[n])) {
      p++;
      n++;
    } else if (star !== -1) {
      // Let the last '*' take one more character and retry the rest of the pattern.
      p = star + 1;
      n = ++starName;
    } else {
      return false;
    }
  }
  while (pattern[p] === "*") p++;
  return p === pattern.length;
}
