// The one way the app talks to the server: POST /graphql with the signed-in token.
// The token is sent nowhere else.
import type { TypedDocumentString } from "../gql/graphql";

export type FieldError = { message: string; code: string; field?: string };

export class ApiError extends Error {
  errors: FieldError[];
  constructor(errors: FieldError[]) {
    super(errors.map((e) => e.message).join("; "));
    this.errors = errors;
  }
  get code(): string {
    return this.errors[0]?.code ?? "";
  }
  /** The message for a field (the server names it as in its arguments, e.g. "input.name"). */
  at(field: string): string | undefined {
    return this.errors.find((e) => e.field === field || e.field?.endsWith("." + field))?.message;
  }
}

let token: string | null = null;
let onUnauthenticated: () => void = () => {};

export function setToken(value: string | null, whenRejected?: () => void) {
  token = value;
  if (whenRejected) onUnauthenticated = whenRejected;
}

export function currentToken(): string | null {
  return token;
}

type Doc<R, V> = TypedDocumentString<R, V> | string;

export async function request<R, V>(doc: Doc<R, V>, variables?: V, with_?: string): Promise<R> {
  const bearer = with_ ?? token;
  let response: Response;
  try {
    response = await fetch("/graphql", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
      },
      body: JSON.stringify({ query: doc.toString(), variables: variables ?? {} }),
    });
  } catch {
    throw new ApiError([{ message: "The server cannot be reached.", code: "NETWORK" }]);
  }
  let body: { data?: R; errors?: { message: string; extensions?: { code?: string; field?: string } }[] };
  try {
    body = await response.json();
  } catch {
    throw new ApiError([{ message: `The server answered ${response.status}.`, code: "HTTP" }]);
  }
  if (body.errors?.length) {
    const errors = body.errors.map((e) => ({
      message: e.message,
      code: e.extensions?.code ?? "",
      field: e.extensions?.field,
    }));
    const error = new ApiError(errors);
    if (error.code === "UNAUTHENTICATED" && !with_) onUnauthenticated();
    throw error;
  }
  return body.data as R;
}
