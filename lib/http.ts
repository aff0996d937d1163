/**
 * HTTP/1.1 on the wire: an incremental response parser with limits, request and
 * response encoders, a client over `node:net` with separate connect, read and total
 * timeouts, its error catalog, the `http` command group, and the `/healthz` endpoint
 * beside the frame server (week 4).
 * @module http
 * @category Week 04
 */
export { HTTP_ERRORS, HTTP_TRANSIENT, HttpError, isTransientHttpError, connectFailureCode, DEFAULT_HTTP_LIMITS, HttpResponseParser, parseHttpResponse, headerValue, headerValues, checkHeaderField, encodeHttpRequest, encodeHttpResponse, parseHttpTarget, httpOutcomeRecord, DEFAULT_HTTP_TIMEOUTS, REQUEST_ID_HEADER, httpRequest, HTTP_COMMANDS, HEALTH_PATH, HealthServer, SERVER_HEALTH_COMMANDS, WEEK4_CLI, frameServerHealth } from '../weeks/week-04-http-client/mod.ts';
export type { HttpErrorCode, HttpBodyFraming, HttpHeader, HttpParserLimits, HttpParserOptions, HttpParserState, HttpResponse, HttpResponseHead, HttpRequestSpec, HttpResponseSpec, HttpTarget, HttpOutcome, HttpExchange, HttpRequestOptions, HttpTimeouts, HealthReport, HealthServerOptions } from '../weeks/week-04-http-client/mod.ts';
