import { describe, expect, it } from 'vitest'
import {
  useRegisterForm,
  validateEmail,
  validateHandle,
  validatePassword,
} from './useRegisterForm'
import { ACCEPTED_MESSAGE, HANDLE_TAKEN_BODY, jsonResponse, mockFetch } from '../test-utils'

function filledForm() {
  const state = useRegisterForm()
  Object.assign(state.form, {
    email: 'ada@example.test',
    handle: 'ada',
    password: 'correct horse battery staple 42',
  })
  return state
}

describe('client-side checks', () => {
  it.each([
    ['', 'Enter your email address.'],
    ['ada.example.test', 'Enter an email address like name@example.com.'],
    ['ada@@example.test', 'Enter an email address like name@example.com.'],
    ['@example.test', 'Enter an email address like name@example.com.'],
    ['ada@', 'Enter an email address like name@example.com.'],
    ['ada@localhost', 'Enter an email address like name@example.com.'],
    [`${'a'.repeat(243)}@example.test`, 'Use at most 254 characters.'],
  ])('email %j → %s', (email, message) => {
    expect(validateEmail(email)).toBe(message)
  })

  it('accepts a plain email address', () => {
    expect(validateEmail('ada@example.test')).toBeUndefined()
    expect(validateEmail(`${'a'.repeat(241)}@example.test`)).toBeUndefined()
  })

  it.each([
    ['', 'Choose a handle.'],
    ['ab', 'Use 3 to 30 characters.'],
    ['a'.repeat(31), 'Use 3 to 30 characters.'],
    ['_ada', 'Use only lowercase letters, digits, _ and -, starting with a letter or digit.'],
    ['ada lovelace', 'Use only lowercase letters, digits, _ and -, starting with a letter or digit.'],
    ['Ada', 'Use only lowercase letters, digits, _ and -, starting with a letter or digit.'],
  ])('handle %j → %s', (handle, message) => {
    expect(validateHandle(handle)).toBe(message)
  })

  it('accepts handles made of a-z, digits, _ and -', () => {
    for (const handle of ['ada', '9lives', 'a_b-c', 'a'.repeat(30)]) {
      expect(validateHandle(handle)).toBeUndefined()
    }
  })

  it('checks password length in characters, not UTF-16 units', () => {
    expect(validatePassword('')).toBe('Use at least 8 characters.')
    expect(validatePassword('1234567')).toBe('Use at least 8 characters.')
    expect(validatePassword('🔒🔒🔒🔒🔒🔒🔒')).toBe('Use at least 8 characters.')
    expect(validatePassword('12345678')).toBeUndefined()
    expect(validatePassword('x'.repeat(256))).toBeUndefined()
    expect(validatePassword('x'.repeat(257))).toBe('Use at most 256 characters.')
  })
})

describe('useRegisterForm', () => {
  it('does not call the server while client-side checks fail', async () => {
    const fetchMock = mockFetch()
    const { form, fieldErrors, submit } = useRegisterForm()
    form.password = 'short'

    await expect(submit()).resolves.toBe(false)

    expect(fetchMock).not.toHaveBeenCalled()
    expect(fieldErrors.value).toEqual({
      email: 'Enter your email address.',
      handle: 'Choose a handle.',
      password: 'Use at least 8 characters.',
    })
  })

  it('trims the email and lowercases the handle before sending', async () => {
    const fetchMock = mockFetch(jsonResponse(202, { message: ACCEPTED_MESSAGE }))
    const { form, submit } = filledForm()
    form.email = '  ada@example.test '
    form.handle = ' Ada_L '

    await submit()

    expect(JSON.parse(fetchMock.mock.calls[0]![1]!.body as string)).toEqual({
      email: 'ada@example.test',
      handle: 'ada_l',
      password: 'correct horse battery staple 42',
    })
  })

  it('shows the server message and forgets the password on success', async () => {
    mockFetch(jsonResponse(202, { message: ACCEPTED_MESSAGE }))
    const { form, submit, succeeded, successMessage, submitting } = filledForm()

    const pending = submit()
    expect(submitting.value).toBe(true)
    await expect(pending).resolves.toBe(true)

    expect(submitting.value).toBe(false)
    expect(succeeded.value).toBe(true)
    expect(successMessage.value).toBe(ACCEPTED_MESSAGE)
    expect(form.password).toBe('')
  })

  it('maps a 400 fields body to field errors', async () => {
    mockFetch(
      jsonResponse(400, {
        code: 'invalid_input',
        message: 'Some fields need attention.',
        fields: {
          password: 'This password is too common. Try a few unrelated words.',
          email: 'Enter a valid email address.',
        },
      }),
    )
    const { submit, fieldErrors, generalError, succeeded } = filledForm()

    await expect(submit()).resolves.toBe(false)

    expect(fieldErrors.value).toEqual({
      password: 'This password is too common. Try a few unrelated words.',
      email: 'Enter a valid email address.',
    })
    expect(generalError.value).toBe('')
    expect(succeeded.value).toBe(false)
  })

  it('maps a 409 to the handle field', async () => {
    mockFetch(jsonResponse(409, HANDLE_TAKEN_BODY))
    const { submit, fieldErrors, generalError } = filledForm()

    await submit()

    expect(fieldErrors.value).toEqual({ handle: 'That handle is already taken.' })
    expect(generalError.value).toBe('')
  })

  it.each([
    [400, { code: 'malformed_request', message: 'The request could not be read.' }],
    [429, { code: 'rate_limited', message: 'Too many attempts. Try again in a minute.' }],
    [503, { code: 'unavailable', message: 'DocuVault is busy. Try again shortly.' }],
  ])('shows a %i without fields as the general error', async (status, body) => {
    mockFetch(jsonResponse(status, body))
    const { submit, fieldErrors, generalError } = filledForm()

    await submit()

    expect(fieldErrors.value).toEqual({})
    expect(generalError.value).toBe(body.message)
  })

  it('clears one field error when that field is edited', async () => {
    mockFetch()
    const { submit, fieldErrors, clearFieldError } = useRegisterForm()
    await submit()

    clearFieldError('handle')

    expect(Object.keys(fieldErrors.value)).toEqual(['email', 'password'])
  })

  describe('handle availability', () => {
    it('flags a taken handle early', async () => {
      const fetchMock = mockFetch(jsonResponse(200, { handle: 'ada', available: false }))
      const { form, fieldErrors, checkHandleAvailability } = useRegisterForm()
      form.handle = 'Ada'

      await checkHandleAvailability()

      expect(fetchMock.mock.calls[0]![0]).toBe('/api/handles/ada')
      expect(fieldErrors.value.handle).toBe('That handle is taken.')
    })

    it('stays quiet for a free handle, an invalid handle, or a failed lookup', async () => {
      const fetchMock = mockFetch(
        jsonResponse(200, { handle: 'ada', available: true }),
        new TypeError('Failed to fetch'),
      )
      const { form, fieldErrors, checkHandleAvailability } = useRegisterForm()

      form.handle = 'ada'
      await checkHandleAvailability()
      form.handle = 'x'
      await checkHandleAvailability()
      form.handle = 'grace'
      await checkHandleAvailability()

      expect(fetchMock).toHaveBeenCalledTimes(2)
      expect(fieldErrors.value).toEqual({})
    })

    it('ignores an answer for a handle the user has since changed', async () => {
      let answer: (response: Response) => void = () => {}
      const fetchMock = mockFetch()
      fetchMock.mockReturnValueOnce(new Promise<Response>((resolve) => (answer = resolve)))
      const { form, fieldErrors, checkHandleAvailability } = useRegisterForm()

      form.handle = 'ada'
      const pending = checkHandleAvailability()
      form.handle = 'adalove'
      answer(jsonResponse(200, { handle: 'ada', available: false }))
      await pending

      expect(fieldErrors.value).toEqual({})
    })
  })
})
