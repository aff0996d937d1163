/**
 * Week 4's public surface: the hashed timing wheel and its Node driver, the
 * incremental HTTP/1.1 response parser, the request and response encoders, the HTTP
 * client over `node:net`, its error catalog and the `http` command group. `lib/`
 * re-exports from here and nowhere else in this folder.
 * @module
 */
export { TimingWheel } from './timing_wheel.ts';
export type { TimingWheelOptions } from './timing_wheel.ts';
export { NodeTimerDriver } from './node_timer_driver.ts';
export type { TimerDriverOptions } from './node_timer_driver.ts';
export { HTTP_ERRORS, HTTP_TRANSIENT, HttpError, isTransientHttpError, connectFailureCode } from './catalog.ts';
export type { HttpErrorCode } from './catalog.ts';
export { DEFAULT_HTTP_LIMITS, HttpResponseParser, parseHttpResponse, headerValue, headerValues } from './http_parser.ts';
export type { HttpBodyFraming, HttpHeader, HttpParserLimits, HttpParserOptions, HttpParserState, HttpResponse, HttpResponseHead } from './http_parser.ts';
export { checkHeaderField, encodeHttpRequest, encodeHttpResponse } from './http_message.ts';
export type { HttpRequestSpec, HttpResponseSpec } from './http_message.ts';
export { parseHttpTarget } from './http_target.ts';
export type { HttpTarget } from './http_target.ts';
export { httpOutcomeRecord } from './http_record.ts';
export type { HttpOutcome } from './http_record.ts';
export { DEFAULT_HTTP_TIMEOUTS, REQUEST_ID_HEADER, httpRequest } from './node_http_client.ts';
export type { HttpExchange, HttpRequestOptions, HttpTimeouts } from './node_http_client.ts';
export { HTTP_COMMANDS } from './node_http_cli.ts';
export { HEALTH_PATH, HealthServer } from './node_health_server.ts';
export type { HealthReport, HealthServerOptions } from './node_health_server.ts';
export { SERVER_HEALTH_COMMANDS, WEEK4_CLI, frameServerHealth } from './node_server_cli.ts';
