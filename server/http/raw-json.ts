// An answer body that is already JSON text. get-events splices the page its worker serialised into
// the answer: parsing megabytes of events only to serialise them again would hold up the event loop.

export class RawJson {
  constructor(readonly bytes: Buffer) {}
}
