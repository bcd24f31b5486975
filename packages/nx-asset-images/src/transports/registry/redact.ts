/** URLs as they may appear in errors and logs: one redaction policy for the whole package. */
export { redactUrl } from '../../util/redact-url';
