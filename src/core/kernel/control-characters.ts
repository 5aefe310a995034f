/**
 * C0, DEL and C1: any of them in a token or its type could forge a header line or drive a terminal.
 * One definition for what the provider sends and what the cache holds, so neither path is laxer.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
export const controlCharacter = /[\u0000-\u001f\u007f-\u009f]/
