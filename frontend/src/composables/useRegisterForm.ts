import { computed, reactive, ref } from 'vue'
import { ApiError, checkHandle, register } from '../services/api'

export type RegisterField = 'email' | 'handle' | 'password'
export type RegisterFieldErrors = Partial<Record<RegisterField, string>>

const FIELDS: readonly RegisterField[] = ['email', 'handle', 'password']

// Client-side checks mirror the server's rules so people get quick feedback;
// the server stays authoritative (strength and common-password checks live there).
// Lengths count code points, as the server counts characters, not UTF-16 units.
const length = (value: string) => Array.from(value).length

export function validateEmail(email: string): string | undefined {
  if (email === '') return 'Enter your email address.'
  if (length(email) > 254) return 'Use at most 254 characters.'
  const parts = email.split('@')
  const [local, domain] = parts
  if (parts.length !== 2 || !local || !domain || !domain.includes('.')) {
    return 'Enter an email address like name@example.com.'
  }
  return undefined
}

export function normalizeHandle(handle: string): string {
  return handle.trim().toLowerCase()
}

export function validateHandle(handle: string): string | undefined {
  if (handle === '') return 'Choose a handle.'
  const size = length(handle)
  if (size < 3 || size > 30) return 'Use 3 to 30 characters.'
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(handle)) {
    return 'Use only lowercase letters, digits, _ and -, starting with a letter or digit.'
  }
  return undefined
}

export function validatePassword(password: string): string | undefined {
  const size = length(password)
  if (size < 8) return 'Use at least 8 characters.'
  if (size > 256) return 'Use at most 256 characters.'
  return undefined
}

export function validateRegistration(input: Record<RegisterField, string>): RegisterFieldErrors {
  const errors: RegisterFieldErrors = {}
  const email = validateEmail(input.email)
  const handle = validateHandle(input.handle)
  const password = validatePassword(input.password)
  if (email) errors.email = email
  if (handle) errors.handle = handle
  if (password) errors.password = password
  return errors
}

const UNEXPECTED_MESSAGE = 'Something went wrong. Please try again.'

export function useRegisterForm(invite: { value: string | null } = { value: null }) {
  const form = reactive<Record<RegisterField, string>>({ email: '', handle: '', password: '' })
  const fieldErrors = ref<RegisterFieldErrors>({})
  const generalError = ref('')
  const submitting = ref(false)
  const successMessage = ref('')
  const succeeded = computed(() => successMessage.value !== '')

  function clearFieldError(field: RegisterField) {
    if (fieldErrors.value[field] === undefined) return
    const { [field]: _removed, ...rest } = fieldErrors.value
    fieldErrors.value = rest
  }

  function applyServerError(error: unknown) {
    if (!(error instanceof ApiError)) {
      generalError.value = UNEXPECTED_MESSAGE
      return
    }
    const errors: RegisterFieldErrors = {}
    for (const field of FIELDS) {
      const message = error.fields[field]
      if (message) errors[field] = message
    }
    fieldErrors.value = errors
    // Field messages already say what is wrong; a general alert is only for
    // errors that belong to no field (rate limits, outages, malformed requests).
    if (Object.keys(errors).length === 0) generalError.value = error.message
  }

  /** Resolves to true when the account request was accepted. */
  async function submit(): Promise<boolean> {
    if (submitting.value) return false
    generalError.value = ''
    form.email = form.email.trim()
    form.handle = normalizeHandle(form.handle)

    fieldErrors.value = validateRegistration(form)
    if (Object.keys(fieldErrors.value).length > 0) return false

    submitting.value = true
    try {
      const response = await register(invite.value ? { ...form, invite: invite.value } : { ...form })
      successMessage.value = response.message
      form.password = ''
      return true
    } catch (error) {
      applyServerError(error)
      return false
    } finally {
      submitting.value = false
    }
  }

  /** Early hint only: a failed or slow lookup is ignored, registration re-checks. */
  async function checkHandleAvailability(): Promise<void> {
    form.handle = normalizeHandle(form.handle)
    const handle = form.handle
    if (validateHandle(handle)) return
    try {
      const { available } = await checkHandle(handle)
      if (!available && form.handle === handle) {
        fieldErrors.value = { ...fieldErrors.value, handle: 'That handle is taken.' }
      }
    } catch {
      // Network trouble or a server-side rejection: the submit will report it.
    }
  }

  return {
    form,
    fieldErrors,
    generalError,
    submitting,
    successMessage,
    succeeded,
    submit,
    clearFieldError,
    checkHandleAvailability,
  }
}
