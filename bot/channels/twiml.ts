// TwiML for the SMS webhook's answer: <Response> with one <Message> per SMS.
//
// twilio's MessagingResponse builds an XML document tree (xmlbuilder) for
// this: about 9% of an SMS request's CPU. The document is always this one
// shape, so it is written directly; test/channels/twiml.test.ts checks the
// output is byte for byte what MessagingResponse writes. One difference:
// characters XML 1.0 cannot carry (most control characters, U+FFFE/U+FFFF,
// unpaired surrogates) are dropped instead of throwing.

const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';

// eslint-disable-next-line no-control-regex
const NOT_XML_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '\r': '&#xD;' };

/** Text content for an XML element, escaped as xmlbuilder escapes it. */
export function xmlText(text: string): string {
  return text.replace(NOT_XML_CHAR, '').replace(/[&<>\r]/g, (c) => ESCAPES[c]);
}

/** A TwiML messaging response sending each text as one SMS; none for an empty list. */
export function messagingTwiml(messages: readonly string[]): string {
  if (!messages.length) return `${XML_DECLARATION}<Response/>`;
  let out = `${XML_DECLARATION}<Response>`;
  for (const text of messages) {
    const escaped = xmlText(text);
    out += escaped ? `<Message>${escaped}</Message>` : '<Message/>';
  }
  return `${out}</Response>`;
}
