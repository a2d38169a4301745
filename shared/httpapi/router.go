package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sort"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"partnerportal/shared/portal"
)

// Handler serves one route.
type Handler func(ctx context.Context, r *Request) (*Response, error)

// Router dispatches API Gateway events on their routeKey.
type Router struct {
	routes map[string]Handler
	log    *slog.Logger
}

// NewRouter returns an empty router that logs to log.
func NewRouter(log *slog.Logger) *Router {
	return &Router{routes: map[string]Handler{}, log: log}
}

// Handle registers h for a route key such as "GET /v1/sites/{siteId}".
func (rt *Router) Handle(routeKey string, h Handler) {
	if _, dup := rt.routes[routeKey]; dup {
		panic("httpapi: route registered twice: " + routeKey)
	}
	rt.routes[routeKey] = h
}

// Routes lists the registered route keys, sorted.
func (rt *Router) Routes() []string {
	out := make([]string, 0, len(rt.routes))
	for k := range rt.routes {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Serve handles one event. It never returns an error: failures become
// problem+json responses and internal errors are logged with the request id.
func (rt *Router) Serve(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (out events.APIGatewayV2HTTPResponse, _ error) {
	start := time.Now()
	req := &Request{Event: ev}
	var resp *Response
	var err error
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
			resp = nil
		}
		if err != nil {
			resp = ErrorResponse(err)
		}
		if resp.Headers == nil {
			resp.Headers = map[string]string{}
		}
		resp.Headers["x-request-id"] = req.RequestID()
		out = events.APIGatewayV2HTTPResponse{StatusCode: resp.Status, Headers: resp.Headers, Body: resp.Body}
		attrs := []any{
			slog.String("requestId", req.RequestID()),
			slog.String("route", ev.RouteKey),
			slog.Int("status", resp.Status),
			slog.Int64("durationMs", time.Since(start).Milliseconds()),
		}
		switch {
		case resp.Status >= 500:
			attrs = append(attrs, slog.String("error", fmt.Sprint(err)))
			rt.log.LogAttrs(ctx, slog.LevelError, "request", toAttrs(attrs)...)
		default:
			if err != nil {
				attrs = append(attrs, slog.String("code", string(portal.ErrorCode(err))))
			}
			rt.log.LogAttrs(ctx, slog.LevelInfo, "request", toAttrs(attrs)...)
		}
	}()
	h, ok := rt.routes[ev.RouteKey]
	if !ok {
		err = portal.Errorf(portal.CodeNotFound, "no route %s", ev.RouteKey)
		return
	}
	resp, err = h(ctx, req)
	if err == nil && resp == nil {
		resp = &Response{Status: http.StatusNoContent}
	}
	return
}

func toAttrs(in []any) []slog.Attr {
	out := make([]slog.Attr, 0, len(in))
	for _, a := range in {
		out = append(out, a.(slog.Attr))
	}
	return out
}
