import { readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';

/**
 * A small shell-style glob, enough for dataset folders (node 20 has no fs.glob):
 * `*` and `?` within one path segment, `[abc]` / `[a-z]` / `[!abc]` classes,
 * `{a,b}` alternatives, `**` for any number of folders, `\` escapes.
 * Matching is case-sensitive (as the shell on Linux) unless asked otherwise.
 */

const MAGIC = /[*?[{\\]/;

/** True when the pattern has wildcards (otherwise it is a plain path). */
export function hasGlobMagic(pattern: string): boolean {
  return MAGIC.test(pattern);
}

/** Compile a glob over '/'-separated paths into an anchored RegExp. */
export function globToRegExp(pattern: string, opts: { caseInsensitive?: boolean } = {}): RegExp {
  return new RegExp(`^${globSource(pattern)}$`, opts.caseInsensitive ? 'i' : '');
}

function globSource(pattern: string): string {
  let out = '';
  let i = 0;
  while (i < pattern.length) {
    const ch = pattern[i];
    if (ch === '\\' && i + 1 < pattern.length) {
      out += escapeRegExp(pattern[i + 1]);
      i += 2;
    } else if (ch === '*') {
      if (pattern[i + 1] === '*') {
        const atSegmentStart = i === 0 || pattern[i - 1] === '/';
        const followedBySlash = pattern[i + 2] === '/';
        if (atSegmentStart && followedBySlash) {
          out += '(?:[^/]*/)*'; // "**/" : zero or more whole folders
          i += 3;
        } else {
          out += '.*';
          i += 2;
        }
      } else {
        out += '[^/]*';
        i += 1;
      }
    } else if (ch === '?') {
      out += '[^/]';
      i += 1;
    } else if (ch === '[') {
      const end = findClassEnd(pattern, i);
      if (end < 0) {
        out += '\\[';
        i += 1;
      } else {
        let body = pattern.slice(i + 1, end);
        let negate = false;
        if (body.startsWith('!') || body.startsWith('^')) {
          negate = true;
          body = body.slice(1);
        }
        body = body.replace(/\\/g, '\\\\').replace(/\]/g, '\\]');
        // A class never matches the path separator, negated or not.
        out += negate ? `[^/${body}]` : `[${body}]`;
        i = end + 1;
      }
    } else if (ch === '{') {
      const end = findBraceEnd(pattern, i);
      if (end < 0) {
        out += '\\{';
        i += 1;
      } else {
        const alternatives = splitTopLevelCommas(pattern.slice(i + 1, end));
        out += `(?:${alternatives.map(globSource).join('|')})`;
        i = end + 1;
      }
    } else {
      out += escapeRegExp(ch);
      i += 1;
    }
  }
  return out;
}

function findClassEnd(pattern: string, start: number): number {
  let j = start + 1;
  if (pattern[j] === '!' || pattern[j] === '^') j++;
  if (pattern[j] === ']') j++; // a leading ']' is literal
  for (; j < pattern.length; j++) if (pattern[j] === ']') return j;
  return -1;
}

function findBraceEnd(pattern: string, start: number): number {
  let depth = 0;
  for (let j = start; j < pattern.length; j++) {
    if (pattern[j] === '\\') j++;
    else if (pattern[j] === '{') depth++;
    else if (pattern[j] === '}' && --depth === 0) return j;
  }
  return -1;
}

function splitTopLevelCommas(body: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (let j = 0; j < body.length; j++) {
    const ch = body[j];
    if (ch === '\\' && j + 1 < body.length) {
      current += ch + body[++j];
      continue;
    }
    if (ch === '{') depth++;
    if (ch === '}') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

export type GlobKind = 'dir' | 'file' | 'any';

export interface GlobMatch {
  /** Absolute path. */
  path: string;
  /** Path relative to the base folder, '/'-separated. */
  rel: string;
  isDir: boolean;
}

/**
 * Expand a pattern relative to `base` (or an absolute pattern) into the existing
 * folders and/or files it names, sorted by relative path. Hidden entries match
 * only when the pattern segment itself starts with a dot.
 */
export function expandGlob(base: string, pattern: string, kind: GlobKind = 'any'): GlobMatch[] {
  const absolute = isAbsolute(pattern);
  const start = absolute ? sep : base;
  const segments = pattern.split(/[\\/]+/).filter((s) => s !== '' && s !== '.');
  const found = new Map<string, GlobMatch>();

  const visit = (dir: string, index: number): void => {
    if (index === segments.length) {
      const isDir = isDirectory(dir);
      if (isDir === null) return;
      if (kind === 'any' || (kind === 'dir') === isDir) {
        found.set(dir, { path: dir, rel: toPosix(relative(base, dir)), isDir });
      }
      return;
    }
    const segment = segments[index];
    if (segment === '**') {
      visit(dir, index + 1);
      for (const child of listDirs(dir)) visit(join(dir, child), index);
      return;
    }
    if (!hasGlobMagic(segment)) {
      visit(join(dir, segment), index + 1);
      return;
    }
    const regex = globToRegExp(segment);
    for (const name of listEntries(dir)) {
      if (name.startsWith('.') && !segment.startsWith('.')) continue;
      if (regex.test(name)) visit(join(dir, name), index + 1);
    }
  };

  visit(start, 0);
  return [...found.values()].sort((a, b) => compareStrings(a.rel, b.rel));
}

/** Plain code-unit order: the same on every machine and locale. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function toPosix(path: string): string {
  return sep === '/' ? path : path.split(sep).join('/');
}

function isDirectory(path: string): boolean | null {
  try {
    return statSync(path).isDirectory();
  } catch {
    return null;
  }
}

function listEntries(dir: string): string[] {
  try {
    return readdirSync(dir).sort(compareStrings);
  } catch {
    return [];
  }
}

function listDirs(dir: string): string[] {
  return listEntries(dir).filter((name) => !name.startsWith('.') && isDirectory(join(dir, name)) === true);
}
