// Irregular-traffic verdict for one session. The snippet does not report navigator.webdriver (it
// stops tracking automation itself unless allowAutomation), so automation shows here through the
// markers headless browsers leave in their user agent.

export type IrregularReason =
  | 'bot-user-agent'
  | 'automation-user-agent'
  | 'regular-input-timing'
  | 'no-interaction';

export interface IrregularVerdict {
  is_irregular: boolean;
  reasons: IrregularReason[];
}

export interface InteractionSummary {
  userAgent: string | null;
  /** Mouse interactions, scrolls, inputs and mouse moves stored for the session. */
  interactionCount: number;
  /** Timestamps (ms) of discrete inputs: clicks and form inputs, in order. */
  inputTimes: number[];
}

const BOT =
  /bot\b|crawl|spider|slurp|facebookexternalhit|bingpreview|curl\/|wget\/|python-requests|httpclient|go-http-client|java\/|okhttp|axios\/|node-fetch|lighthouse|pingdom|uptime|monitor/i;
const AUTOMATION =
  /headlesschrome|phantomjs|electron\/|selenium|webdriver|puppeteer|playwright|cypress|slimerjs/i;

/** Intervals between discrete inputs whose spread is under 3% of their mean are machine-made. */
function inhumanlyRegular(times: number[]): boolean {
  if (times.length < 8) return false;
  const gaps: number[] = [];
  for (let i = 1; i < times.length; i++) gaps.push((times[i] as number) - (times[i - 1] as number));
  const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
  if (mean <= 0) return true;
  const sd = Math.sqrt(gaps.reduce((a, g) => a + (g - mean) ** 2, 0) / gaps.length);
  return sd / mean < 0.03;
}

export function irregularVerdict(s: InteractionSummary): IrregularVerdict {
  const reasons: IrregularReason[] = [];
  const ua = s.userAgent ?? '';
  if (BOT.test(ua)) reasons.push('bot-user-agent');
  if (AUTOMATION.test(ua)) reasons.push('automation-user-agent');
  if (inhumanlyRegular(s.inputTimes)) reasons.push('regular-input-timing');
  if (s.interactionCount === 0) reasons.push('no-interaction');
  return { is_irregular: reasons.length > 0, reasons };
}
