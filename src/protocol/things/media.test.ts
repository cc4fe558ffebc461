import { describe, expect, it } from 'vitest';
import { SAMPLE_FILES } from '../../../test/support/sampleFiles.js';
import { isAttachmentMediaType, matchesMediaType, sniffMediaType } from './media.js';


describe('document types by their first bytes', () => {
  it('recognises each accepted type and tells them apart', () => {
    expect(sniffMediaType(SAMPLE_FILES.pdf)).toBe('application/pdf');
    expect(sniffMediaType(SAMPLE_FILES.jpeg)).toBe('image/jpeg');
    expect(sniffMediaType(SAMPLE_FILES.png)).toBe('image/png');
    expect(sniffMediaType(SAMPLE_FILES.gif)).toBe('image/gif');
    expect(sniffMediaType(SAMPLE_FILES.webp)).toBe('image/webp');
    expect(sniffMediaType(SAMPLE_FILES.text)).toBe('text/plain');
  });

  it('refuses a file that is not what it claims', () => {
    expect(matchesMediaType('application/pdf', SAMPLE_FILES.html)).toBe(false);
    expect(matchesMediaType('image/jpeg', SAMPLE_FILES.png)).toBe(false);
    expect(matchesMediaType('image/png', Buffer.alloc(0))).toBe(false);
    expect(matchesMediaType('text/plain', SAMPLE_FILES.jpeg)).toBe(false);
    expect(matchesMediaType('text/plain', Buffer.from('a\u0000b'))).toBe(false);
    expect(isAttachmentMediaType('text/html')).toBe(false);
    expect(isAttachmentMediaType('__proto__')).toBe(false);
  });
});
