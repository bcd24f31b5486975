import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { rangeRequestHeaders, readRangeAnswer, restOfBody, type RangeAnswer } from './range-resume';

describe('rangeRequestHeaders', () => {
  it.each([
    [0, {}],
    [40_000, { range: 'bytes=40000-' }],
  ])('from byte %s: %j', (offset, headers) => {
    expect(rangeRequestHeaders(offset)).toEqual(headers);
  });
});

describe('readRangeAnswer', () => {
  it.each<[string, number, number, Record<string, string>, number | undefined, RangeAnswer]>([
    [
      '206 from the byte asked for',
      400,
      206,
      { 'content-range': 'bytes 400-999/1000', 'content-length': '600' },
      1000,
      { kind: 'body', skip: 0, rest: 600, total: 1000 },
    ],
    ['206 without a total, size unknown', 400, 206, { 'content-range': 'bytes 400-999/*' }, undefined, { kind: 'body', skip: 0 }],
    [
      '206 naming a total while the size is unknown',
      400,
      206,
      { 'content-range': 'bytes 400-999/1000' },
      undefined,
      { kind: 'body', skip: 0, total: 1000 },
    ],
    [
      '206 from byte 0 to a request from 0',
      0,
      206,
      { 'content-range': 'bytes 0-999/1000' },
      undefined,
      { kind: 'body', skip: 0, total: 1000 },
    ],
    [
      '206 from another byte',
      400,
      206,
      { 'content-range': 'bytes 0-999/1000' },
      undefined,
      { kind: 'mismatch', reason: 'unexpected Content-Range "bytes 0-999/1000" for a resume at byte 400' },
    ],
    [
      '206 naming another total than the size known',
      400,
      206,
      { 'content-range': 'bytes 400-999/1000' },
      2000,
      { kind: 'mismatch', reason: 'unexpected Content-Range "bytes 400-999/1000" for a resume at byte 400' },
    ],
    [
      '206 without Content-Range',
      400,
      206,
      {},
      undefined,
      { kind: 'mismatch', reason: 'unexpected Content-Range "" for a resume at byte 400' },
    ],
    [
      '206 with a malformed Content-Range',
      400,
      206,
      { 'content-range': 'bytes 400-/1000' },
      undefined,
      { kind: 'mismatch', reason: 'unexpected Content-Range "bytes 400-/1000" for a resume at byte 400' },
    ],
    ['200 to a request from 0', 0, 200, { 'content-length': '1000' }, 1000, { kind: 'body', skip: 0, rest: 1000, total: 1000 }],
    [
      '200 to a resume: the whole body, its first bytes skipped',
      400,
      200,
      { 'content-length': '1000' },
      1000,
      { kind: 'body', skip: 400, rest: 600, total: 1000 },
    ],
    ['200 to a resume without Content-Length', 400, 200, {}, undefined, { kind: 'body', skip: 400 }],
    [
      '200 to a resume, shorter than the bytes held',
      400,
      200,
      { 'content-length': '300' },
      undefined,
      { kind: 'mismatch', reason: 'a whole body of 300 bytes (200) for a resume at byte 400' },
    ],
    ['416 naming the bytes held as the size: complete', 1000, 416, { 'content-range': 'bytes */1000' }, undefined, { kind: 'complete' }],
    [
      '416 naming another size',
      400,
      416,
      { 'content-range': 'bytes */99999' },
      undefined,
      { kind: 'mismatch', reason: 'HTTP 416 for a resume at byte 400' },
    ],
    ['416 without Content-Range', 400, 416, {}, undefined, { kind: 'mismatch', reason: 'HTTP 416 for a resume at byte 400' }],
    ['416 to a request from 0 (no Range asked)', 0, 416, { 'content-range': 'bytes */0' }, undefined, { kind: 'status' }],
    ['404', 400, 404, {}, undefined, { kind: 'status' }],
    ['503', 400, 503, {}, undefined, { kind: 'status' }],
  ])('%s', (_name, offset, status, headers, expectedTotal, answer) => {
    expect(readRangeAnswer(offset, { status, headers }, expectedTotal)).toEqual(answer);
  });
});

describe('restOfBody', () => {
  const chunks = (sizes: number[]) => {
    let next = 0;
    return sizes.map((size) => Buffer.from(Array.from({ length: size }, () => next++)));
  };
  const collect = async (body: AsyncIterable<Buffer>) => {
    const out: Buffer[] = [];
    for await (const chunk of body) out.push(chunk);
    return out;
  };

  it.each([
    [
      'nothing to skip',
      [3, 4],
      0,
      [
        [0, 1, 2],
        [3, 4, 5, 6],
      ],
    ],
    ['within the first chunk', [3, 4], 2, [[2], [3, 4, 5, 6]]],
    ['a whole chunk', [3, 4], 3, [[3, 4, 5, 6]]],
    ['across chunks', [3, 4], 5, [[5, 6]]],
    ['the whole body', [3, 4], 7, []],
    ['more than the body', [3, 4], 9, []],
  ])('%s', async (_name, sizes, skip, expected) => {
    const rest = await collect(restOfBody(Readable.from(chunks(sizes)), skip));
    expect(rest.map((chunk) => [...chunk])).toEqual(expected);
  });
});
