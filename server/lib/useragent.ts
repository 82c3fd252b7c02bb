// Browser, device type and OS of a user agent, as the sessions list shows and filters them.
import { UAParser } from 'ua-parser-js';

export type DeviceType = 'desktop' | 'mobile' | 'tablet';

export interface ParsedAgent {
  browser: string | null;
  device: DeviceType;
  platform_os: string | null;
}

export function parseUserAgent(userAgent: string | null | undefined): ParsedAgent {
  if (!userAgent) return { browser: null, device: 'desktop', platform_os: null };
  const result = new UAParser(userAgent).getResult();
  const type = result.device.type;
  // ua-parser-js leaves the type undefined for desktops; wearables and consoles count as mobile here.
  const device: DeviceType =
    type === 'tablet' ? 'tablet' : type === 'mobile' || type === 'wearable' ? 'mobile' : 'desktop';
  return { browser: result.browser.name ?? null, device, platform_os: result.os.name ?? null };
}
