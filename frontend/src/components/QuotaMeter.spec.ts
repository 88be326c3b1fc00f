import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import QuotaMeter from './QuotaMeter.vue'

describe('QuotaMeter', () => {
  it('shows used of quota in words and as a labelled meter', () => {
    const wrapper = mount(QuotaMeter, {
      props: { usage: { used_bytes: 12_345_678, quota_bytes: 100_000_000, max_file_bytes: 25_000_000 } },
    })

    expect(wrapper.get('[data-testid="quota-text"]').text()).toBe('12.3 MB of 100 MB')
    expect(wrapper.text()).toContain('files up to 25.0 MB each')
    const meter = wrapper.get('meter')
    expect(wrapper.get(`label[for="${meter.attributes('id')}"]`).text()).toBe('Storage used')
    expect(meter.attributes('aria-valuetext')).toBe('12.3 MB of 100 MB')
    expect((meter.element as HTMLMeterElement).max).toBe(100_000_000)
    expect((meter.element as HTMLMeterElement).value).toBe(12_345_678)
  })

  it('shows a full meter when over the quota, or for a zero quota', () => {
    const over = mount(QuotaMeter, { props: { usage: { used_bytes: 150, quota_bytes: 100, max_file_bytes: 10 } } })
    expect((over.get('meter').element as HTMLMeterElement).value).toBe(100)
    expect(over.get('[data-testid="quota-text"]').text()).toBe('150 B of 100 B')

    const zero = mount(QuotaMeter, { props: { usage: { used_bytes: 0, quota_bytes: 0, max_file_bytes: 0 } } })
    expect((zero.get('meter').element as HTMLMeterElement).max).toBe(1)
  })

  it('says it is loading until the usage arrives', () => {
    const wrapper = mount(QuotaMeter, { props: { usage: null } })
    expect(wrapper.find('meter').exists()).toBe(false)
    expect(wrapper.text()).toContain('loading')
  })
})
