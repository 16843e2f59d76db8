import type { IncomingHttpHeaders } from 'node:http';
import { isSpanContextValid, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { traceCall } from '../../adapters/ports';

/**
 * Traces for operators, through the OpenTelemetry API only: the caller's W3C `traceparent` is taken
 * in, a span is made for each GraphQL operation, each EHR adapter call and each access-log write,
 * and every adapter call passes its trace on to the EHR (traceHeadersOf in adapters/ports.ts). No SDK is
 * bundled: with none registered the spans record nothing and the incoming trace is passed on as it
 * came; an operator who wants traces preloads one (`node --require <their OpenTelemetry setup>`),
 * which registers the global tracer provider this reads.
 */
const w3c = new W3CTraceContextPropagator();
const fromHeaders = {
  keys: (h: IncomingHttpHeaders) => Object.keys(h),
  get: (h: IncomingHttpHeaders, key: string) => h[key],
};
const intoRecord = { set: (carrier: Record<string, string>, key: string, value: string) => void (carrier[key] = value) };

/** One tracer for the process: a proxy that follows whichever provider is registered, also later. */
const tracer = trace.getTracer('ggz-portal-gateway');

/** The caller's trace from a request's `traceparent`/`tracestate` (the root context without one). */
export function incomingTrace(headers: IncomingHttpHeaders): Context {
  return headers.traceparent ? w3c.extract(ROOT_CONTEXT, headers, fromHeaders) : ROOT_CONTEXT;
}

/** A span under `parent`, and the context to start its children in. */
export function startSpan(name: string, parent: Context, kind: SpanKind, attributes?: Attributes): { span: Span; context: Context } {
  const span = tracer.startSpan(name, { kind, attributes }, parent);
  return { span, context: trace.setSpan(parent, span) };
}

/**
 * The span of one GraphQL operation (SERVER, a child of the caller's trace), and the context its
 * children start in; that context is undefined when nothing would be traced or passed on (no SDK
 * and no incoming trace), so an untraced request makes no further spans at all.
 */
export function operationSpan(headers: IncomingHttpHeaders, attributes: () => Attributes): { span: Span; trace: Context | undefined } {
  const parent = incomingTrace(headers);
  const span = tracer.startSpan('graphql', { kind: SpanKind.SERVER }, parent);
  // Untraced (the common case without an SDK): nothing more is made for this request.
  const recording = span.isRecording();
  if (!recording && !isSpanContextValid(span.spanContext())) return { span, trace: undefined };
  if (recording) span.setAttributes(attributes());
  return { span, trace: trace.setSpan(parent, span) };
}

/** Ends a span, marked as failed with the error when there is one. */
export function endSpan(span: Span, error?: unknown): void {
  if (error) {
    span.recordException(error as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
  }
  span.end();
}

/** The W3C headers of a call made in `context`, or undefined when there is no trace to pass on. */
export function traceHeaders(context: Context): Record<string, string> | undefined {
  const span = trace.getSpanContext(context);
  if (!span || !isSpanContextValid(span)) return undefined;
  const headers: Record<string, string> = {};
  w3c.inject(context, headers, intoRecord);
  return headers;
}

/**
 * Runs one EHR adapter attempt in a CLIENT span under `parent` (the request's): the attempt's
 * signal carries the span's W3C headers to the adapter (traceCall), so its HTTP request continues
 * the trace. Without a parent trace nothing is made.
 */
export async function tracedAdapterCall<T>(
  parent: Context | undefined,
  name: string,
  attributes: Attributes,
  attempt: { readonly signal: AbortSignal },
  run: () => Promise<T>,
): Promise<T> {
  if (!parent || !trace.getSpanContext(parent)) return run();
  const { span, context } = startSpan(name, parent, SpanKind.CLIENT, attributes);
  const headers = traceHeaders(context);
  if (headers) traceCall(attempt.signal, headers);
  try {
    const result = await run();
    endSpan(span);
    return result;
  } catch (err) {
    endSpan(span, err);
    throw err;
  }
}

export { SpanKind };
