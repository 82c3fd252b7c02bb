// Dashboard sign-in: the collector keeps the session (an HttpOnly cookie this script never sees) and
// hands the page a CSRF token to send with each call. The page itself carries no secret: it asks who
// is signed in, lets the demo sign a local viewer in by itself, or shows the sign-in form.
import { h } from '../dom';

export interface SignedIn {
  project: { name: string; public_key: string };
  via: 'password' | 'token' | 'auto';
  csrf_token: string;
  expires_at: string;
}

interface Answer {
  status: number;
  json: {
    error?: boolean;
    message?: string;
    data?: unknown;
    auto_sign_in?: boolean;
    errors?: Record<string, string[]>;
  };
}

async function call(endpoint: string, path: string, body: unknown, csrf?: string): Promise<Answer> {
  const response = await fetch(`${endpoint.replace(/\/+$/, '')}/auth/${path}`, {
    method: 'POST',
    credentials: 'same-origin',
    headers: {
      Accept: 'application/json',
      'Content-Type': 'application/json',
      ...(csrf ? { 'X-CSRF-Token': csrf } : {}),
    },
    body: JSON.stringify(body),
  });
  let json: Answer['json'] = {};
  try {
    json = (await response.json()) as Answer['json'];
  } catch {
    // not JSON: the status says enough
  }
  return { status: response.status, json };
}

/** The current sign-in, after the demo's automatic one when the collector offers it; null: sign in. */
export async function currentSignIn(endpoint: string): Promise<SignedIn | null> {
  const now = await call(endpoint, 'session', {});
  if (now.status === 200 && now.json.data) return now.json.data as SignedIn;
  if (now.json.auto_sign_in === true) {
    const auto = await call(endpoint, 'auto', {});
    if (auto.status === 200) return auto.json.data as SignedIn;
  }
  return null;
}

export async function signOut(endpoint: string, csrf: string): Promise<void> {
  await call(endpoint, 'sign-out', {}, csrf);
}

/** The sign-in form; resolves once the collector accepted a password or token. */
export function signInForm(
  endpoint: string,
  note: string | null,
): { element: HTMLElement; done: Promise<SignedIn> } {
  const secret = h('input', {
    id: 'sign-in-secret',
    class: 'sign-in-field',
    name: 'secret',
    type: 'password',
    autocomplete: 'current-password',
    required: '',
  }) as HTMLInputElement;
  const project = h('input', {
    id: 'sign-in-project',
    class: 'sign-in-field',
    name: 'project',
    type: 'text',
    autocomplete: 'off',
    placeholder: 'pk_… (optional)',
  }) as HTMLInputElement;
  const status = h('p', { class: 'sign-in-status', role: 'alert' }, [note ?? '']);
  const submit = h('button', { type: 'submit', class: 'primary' }, ['Sign in']) as HTMLButtonElement;
  const form = h('form', { class: 'sign-in', 'aria-label': 'Sign in' }, [
    h('h1', {}, ['Sign in to Spoor']),
    h('label', { for: 'sign-in-secret' }, ['Admin password or project API token']),
    secret,
    h('label', { for: 'sign-in-project' }, ['Project key']),
    project,
    h('p', { class: 'muted small' }, [
      'With the admin password, the project key picks the project to view (the demo project when empty).',
    ]),
    submit,
    status,
  ]) as HTMLFormElement;
  const done = new Promise<SignedIn>((resolve) => {
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      submit.disabled = true;
      status.textContent = '';
      void call(endpoint, 'sign-in', { secret: secret.value, project: project.value.trim() || null })
        .then((answer) => {
          if (answer.status === 200) {
            secret.value = '';
            resolve(answer.json.data as SignedIn);
            return;
          }
          const fieldMessage = Object.values(answer.json.errors ?? {})[0]?.[0];
          status.textContent =
            fieldMessage ?? answer.json.message ?? `The collector answered ${answer.status}.`;
        })
        .catch(() => {
          status.textContent = 'The collector could not be reached.';
        })
        .finally(() => {
          submit.disabled = false;
        });
    });
  });
  return { element: form, done };
}
