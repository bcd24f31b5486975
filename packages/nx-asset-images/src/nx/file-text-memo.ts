/**
 * The text of `asset.json` files, read once per createNodes invocation: the
 * asset node and the image map of the Dockerfile nodes both need it. Only
 * active between `beginFileTextMemo` and `endFileTextMemo` (files may change
 * before the next invocation); outside, every call reads the file.
 */
import { readFileSync } from 'node:fs';

const texts = new Map<string, string>();
let active = 0;

/** `readFileSync(path, 'utf8')`, memoised while a memo scope is open; errors are not memoised. */
export function readFileTextMemo(path: string): string {
  if (active === 0) return readFileSync(path, 'utf8');
  let text = texts.get(path);
  if (text === undefined) {
    text = readFileSync(path, 'utf8');
    texts.set(path, text);
  }
  return text;
}

export function beginFileTextMemo(): void {
  active++;
}

export function endFileTextMemo(): void {
  if (--active <= 0) {
    active = 0;
    texts.clear();
  }
}
