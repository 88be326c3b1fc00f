// The content type declared when an upload starts. Browsers leave File.type empty for
// types the operating system does not know (often .md, sometimes .docx), so the name's
// extension fills in for the kinds DocuVault takes. The server checks the bytes anyway.

const BY_EXTENSION: Record<string, string> = {
  pdf: 'application/pdf',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  txt: 'text/plain',
  md: 'text/markdown',
  markdown: 'text/markdown',
}

/** What the file input offers to pick: the extensions and types above. */
export const ACCEPTED_FILES = [
  ...Object.keys(BY_EXTENSION).map((extension) => `.${extension}`),
  ...new Set(Object.values(BY_EXTENSION)),
].join(',')

/** Only a name's last extension counts: "report.pdf.txt" is text. */
export function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.')
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : ''
}

/**
 * The browser's type when it gave one, else the type for the extension. A type nothing
 * maps is sent as `application/octet-stream`, and the server's answer says it is not taken.
 */
export function contentTypeFor(file: { name: string; type: string }): string {
  if (file.type !== '' && file.type !== 'application/octet-stream') return file.type
  return BY_EXTENSION[extensionOf(file.name)] ?? 'application/octet-stream'
}
