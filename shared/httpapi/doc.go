// Package httpapi turns API Gateway HTTP API (payload 2.0) events into calls
// of route handlers and their results back into responses: routing on the
// event's routeKey, JSON decoding with the 64 KiB cap, problem+json errors
// mapped from portal error codes in one place, pagination parameters, and one
// JSON log line per request.
package httpapi
