/** The broker could not be started; carries the tail of its log when there is one. */
export class LocalBrokerError extends Error {
  override readonly name = 'LocalBrokerError';
  constructor(
    message: string,
    readonly logTail = '',
  ) {
    super(logTail === '' ? message : `${message}\n--- last lines of the broker log ---\n${logTail}`);
  }
}
