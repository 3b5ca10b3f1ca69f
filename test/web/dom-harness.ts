import { vi } from 'vitest';

/*
 * jsdom component tests: React and Testing Library are loaded at run time and typed loosely here, because the
 * root tsconfig has no JSX and React's types would pull the DOM library into every Node test it type-checks.
 * The API is the real openapi-fetch client over a stubbed fetch, so the requests the components send are checked.
 */
export type ReactElement = { readonly element: unique symbol };
export interface DomNode {
  textContent: string | null;
  parentElement: DomNode | null;
  disabled?: boolean;
  value?: string;
}
interface Query {
  name?: string | RegExp;
}
export interface Screen {
  findByRole(role: string, options?: Query): Promise<DomNode>;
  getByRole(role: string, options?: Query): DomNode;
  queryByRole(role: string, options?: Query): DomNode | null;
  getByLabelText(text: string | RegExp): DomNode;
  findByText(text: string | RegExp): Promise<DomNode>;
  getByText(text: string | RegExp): DomNode;
  queryByText(text: string | RegExp): DomNode | null;
}

const load = (path: string): Promise<unknown> => import(path);

export const { createElement } = (await load('react')) as {
  createElement(
    type: unknown,
    props: Record<string, unknown> | null,
    ...children: ReactElement[]
  ): ReactElement;
};
export const { render, screen, fireEvent, cleanup } = (await load('@testing-library/react')) as {
  render(element: ReactElement): { container: { textContent: string | null } };
  screen: Screen;
  fireEvent: {
    change(node: DomNode, init: { target: { value: string } }): void;
    click(node: DomNode): void;
    submit(node: DomNode): void;
  };
  cleanup(): void;
};
const { ApiContext } = (await load('../../web/src/api/api-context.tsx')) as {
  ApiContext: { Provider: unknown };
};
const { createGuardianApi } = (await load('../../web/src/api/client.ts')) as {
  createGuardianApi(baseUrl: string): unknown;
};

export interface SentRequest {
  method: string;
  path: string;
  body: unknown;
}

/** Answers one request: status and JSON body (problem+json when the status is 4xx or 5xx). */
export type Responder = (request: SentRequest) => { status: number; body?: unknown };

/** Renders `element` inside an ApiContext whose fetch calls `respond`; returns every request it sent. */
export function renderWithApi(element: ReactElement, respond: Responder): SentRequest[] {
  const sent: SentRequest[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (input: Request) => {
      const text = await input.text();
      const request = {
        method: input.method,
        path: new URL(input.url).pathname,
        body: text ? (JSON.parse(text) as unknown) : undefined,
      };
      sent.push(request);
      const { status, body } = respond(request);
      const type = status >= 400 ? 'application/problem+json' : 'application/json';
      return new Response(body === undefined ? null : JSON.stringify(body), {
        status,
        headers: { 'content-type': type },
      });
    }),
  );
  const api = createGuardianApi('http://guardian.test');
  render(createElement(ApiContext.Provider, { value: api }, element));
  return sent;
}

export function resetDom(): void {
  cleanup();
  vi.unstubAllGlobals();
}
