import { describe, expect, it } from 'vitest'
import { ACCEPTED_FILES, contentTypeFor, extensionOf } from './contentType'

const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'

describe('contentTypeFor', () => {
  it('keeps the type the browser gave', () => {
    expect(contentTypeFor({ name: 'notes.md', type: 'text/plain' })).toBe('text/plain')
  })

  it('maps the extension when the browser gave no type, or a meaningless one', () => {
    expect(contentTypeFor({ name: 'Tax return.PDF', type: '' })).toBe('application/pdf')
    expect(contentTypeFor({ name: 'letter.docx', type: '' })).toBe(DOCX)
    expect(contentTypeFor({ name: 'a.txt', type: '' })).toBe('text/plain')
    expect(contentTypeFor({ name: 'README.md', type: '' })).toBe('text/markdown')
    expect(contentTypeFor({ name: 'notes.markdown', type: 'application/octet-stream' })).toBe('text/markdown')
  })

  it('leaves an unknown file for the server to refuse', () => {
    expect(contentTypeFor({ name: 'photo.heic', type: '' })).toBe('application/octet-stream')
    expect(contentTypeFor({ name: 'Makefile', type: '' })).toBe('application/octet-stream')
  })
})

describe('extensionOf', () => {
  it('takes the last extension, and none from a dot file', () => {
    expect(extensionOf('report.pdf.txt')).toBe('txt')
    expect(extensionOf('.md')).toBe('')
  })
})

describe('ACCEPTED_FILES', () => {
  it('offers the extensions and their types once each', () => {
    expect(ACCEPTED_FILES.split(',')).toEqual([
      '.pdf',
      '.docx',
      '.txt',
      '.md',
      '.markdown',
      'application/pdf',
      DOCX,
      'text/plain',
      'text/markdown',
    ])
  })
})
