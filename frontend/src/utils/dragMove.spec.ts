import { afterEach, describe, expect, it } from 'vitest'
import { DOCUMENT_TYPE, FOLDER_TYPE, dragging, draggedKind, endDrag, readDropped, startDrag } from './dragMove'

/** A stand-in for DataTransfer (jsdom has none). */
function transfer(initial: Record<string, string> = {}) {
  const data = new Map(Object.entries(initial))
  return {
    effectAllowed: 'all',
    dropEffect: 'none',
    get types() {
      return [...data.keys()]
    },
    setData: (type: string, value: string) => void data.set(type, value),
    getData: (type: string) => data.get(type) ?? '',
  }
}

function dragEvent(dataTransfer: ReturnType<typeof transfer> | null): DragEvent {
  return { dataTransfer } as unknown as DragEvent
}

describe('dragging documents and folders', () => {
  afterEach(endDrag)

  it('puts what is dragged under a type of ours, with its name as plain text', () => {
    const data = transfer()

    startDrag(dragEvent(data), { kind: 'document', id: 'd-1' }, 'Tax.pdf')

    expect(data.getData(DOCUMENT_TYPE)).toBe('d-1')
    expect(data.getData('text/plain')).toBe('Tax.pdf')
    expect(data.effectAllowed).toBe('move')
    expect(dragging.value).toEqual({ kind: 'document', id: 'd-1' })

    endDrag()
    expect(dragging.value).toBeNull()
  })

  it('tells from the types alone what is dragged over, and ignores anything else', () => {
    expect(draggedKind(dragEvent(transfer({ [DOCUMENT_TYPE]: 'd-1' })))).toBe('document')
    expect(draggedKind(dragEvent(transfer({ [FOLDER_TYPE]: 'f-1' })))).toBe('folder')
    expect(draggedKind(dragEvent(transfer({ Files: '' })))).toBeNull()
    expect(draggedKind(dragEvent(transfer({ 'text/plain': 'hello' })))).toBeNull()
    expect(draggedKind(dragEvent(null))).toBeNull()
  })

  it('reads what was dropped', () => {
    expect(readDropped(dragEvent(transfer({ [FOLDER_TYPE]: 'f-1' })))).toEqual({ kind: 'folder', id: 'f-1' })
    expect(readDropped(dragEvent(transfer({ 'text/plain': 'f-1' })))).toBeNull()
    expect(readDropped(dragEvent(null))).toBeNull()
  })
})
