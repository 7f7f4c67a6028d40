import type { APIGatewayProxyResult } from 'aws-lambda';

/** A JSON API Gateway (REST, v1) response. `body` is serialised here and nowhere else. */
export function jsonResponse(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyResult {
  return jsonTextResponse(statusCode, JSON.stringify(body), headers);
}

/** A response whose JSON text is already serialised (a stored answer replayed byte for byte). */
export function jsonTextResponse(
  statusCode: number,
  body: string,
  headers: Record<string, string> = {},
): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body,
  };
}
