/** The one error of the Go-JSON writer and reader: a value that cannot be written, invalid JSON, or a Go type error. */
export class GoJsonError extends Error {
  override name = 'GoJsonError';
}
