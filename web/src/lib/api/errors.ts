/** An API error as the server named it: `{"error": "Name", "detail": "words"}`. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  /** The whole answer (a refusal may carry more than its detail: `InvalidTargets`' `targets`). */
  readonly body: unknown;

  constructor(status: number, code: string, detail: string, body: unknown = null) {
    super(detail);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

type ValidationItem = { loc?: unknown[]; msg?: string };

function detailText(detail: unknown): string {
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return detail
      .map((item: ValidationItem) => {
        const field = (item.loc ?? []).filter((p) => p !== "body").join(".");
        return field ? `${field}: ${item.msg ?? "invalid"}` : (item.msg ?? "invalid");
      })
      .join("; ");
  }
  return "The request could not be completed.";
}

/** The error a response body carries (or a generic one when it is not ours). */
export function toApiError(status: number, body: unknown): ApiError {
  if (body && typeof body === "object" && "error" in body) {
    const { error, detail } = body as { error: unknown; detail: unknown };
    return new ApiError(status, String(error), detailText(detail), body);
  }
  return new ApiError(status, "HTTPError", `The server answered ${status}.`);
}

/** Words for a person: the server's detail, or what went wrong on the way. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof TypeError) return "The server cannot be reached. Check your connection.";
  if (error instanceof Error) return error.message;
  return "Something went wrong.";
}
