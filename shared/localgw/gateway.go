package localgw

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"time"

	"partnerportal/shared/samtemplate"
)

// LocalAccountID is the AWS account id the gateway puts in events.
const LocalAccountID = "123456789012"

// maxBody is API Gateway's payload limit.
const maxBody = 10 << 20

// Options adjust a Gateway.
type Options struct {
	Log *slog.Logger
	// APIID is the requestContext.apiId; default "local".
	APIID string
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Gateway is an http.Handler serving the template's HTTP API.
type Gateway struct {
	routes   []route
	invokers map[string]Invoker
	log      *slog.Logger
	apiID    string
	now      func() time.Time
}

type route struct {
	function string
	samtemplate.Route
	segs []segment
}

type segKind int

// Segment kinds, in the order API Gateway prefers them when several routes
// match: a literal beats a {param}, which beats a greedy {proxy+}.
const (
	literal segKind = iota
	param
	greedy
)

type segment struct {
	kind segKind
	text string // the literal, or the parameter's name
}

// New builds a gateway for the template's HttpApi routes. invokers maps
// function logical ids to their invokers; every function with routes needs
// one, and /_local/invoke can reach any function that has one.
func New(tpl *samtemplate.Template, invokers map[string]Invoker, o Options) (*Gateway, error) {
	g := &Gateway{invokers: invokers, log: o.Log, apiID: o.APIID, now: o.Now}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	if g.apiID == "" {
		g.apiID = "local"
	}
	if g.now == nil {
		g.now = time.Now
	}
	for _, fr := range tpl.Routes() {
		if invokers[fr.Function] == nil {
			return nil, fmt.Errorf("localgw: no invoker for %s, which serves %s", fr.Function, fr.Key())
		}
		r := route{function: fr.Function, Route: fr.Route}
		for i, s := range splitPath(fr.Path) {
			switch {
			case strings.HasPrefix(s, "{") && strings.HasSuffix(s, "+}"):
				if i != len(splitPath(fr.Path))-1 {
					return nil, fmt.Errorf("localgw: %s: a greedy parameter must be last", fr.Key())
				}
				r.segs = append(r.segs, segment{greedy, s[1 : len(s)-2]})
			case strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}"):
				r.segs = append(r.segs, segment{param, s[1 : len(s)-1]})
			default:
				r.segs = append(r.segs, segment{literal, s})
			}
		}
		g.routes = append(g.routes, r)
	}
	return g, nil
}

func splitPath(p string) []string {
	p = strings.TrimPrefix(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// match finds the most specific route for a method and an escaped path,
// and its decoded path parameters.
func (g *Gateway) match(method, escapedPath string) (*route, map[string]string) {
	segs := splitPath(escapedPath)
	var best *route
	var bestParams map[string]string
	for i := range g.routes {
		r := &g.routes[i]
		if r.Method != method && r.Method != "ANY" {
			continue
		}
		params, ok := r.bind(segs)
		if !ok {
			continue
		}
		if best == nil || r.moreSpecific(best) {
			best, bestParams = r, params
		}
	}
	return best, bestParams
}

// bind matches the path's segments and returns the decoded parameters.
func (r *route) bind(segs []string) (map[string]string, bool) {
	params := map[string]string{}
	for i, s := range r.segs {
		if s.kind == greedy {
			if i >= len(segs) {
				return nil, false
			}
			v, err := unescapePath(strings.Join(segs[i:], "/"))
			if err != nil || v == "" {
				// Like a {param}, a {proxy+} matches one character at least.
				return nil, false
			}
			params[s.text] = v
			return params, true
		}
		if i >= len(segs) {
			return nil, false
		}
		v, err := unescapePath(segs[i])
		if err != nil {
			return nil, false
		}
		switch s.kind {
		case literal:
			if v != s.text {
				return nil, false
			}
		case param:
			if v == "" {
				return nil, false
			}
			params[s.text] = v
		}
	}
	if len(segs) != len(r.segs) {
		return nil, false
	}
	return params, true
}

func (r *route) moreSpecific(o *route) bool {
	for i := 0; i < len(r.segs) && i < len(o.segs); i++ {
		if r.segs[i].kind != o.segs[i].kind {
			return r.segs[i].kind < o.segs[i].kind
		}
	}
	if len(r.segs) != len(o.segs) {
		return len(r.segs) > len(o.segs)
	}
	return r.Method != "ANY" && o.Method == "ANY"
}

// ServeHTTP serves /healthz, /_local/invoke/{LogicalId} and the API.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := g.now()
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	routeKey := g.serve(rec, r)
	g.log.LogAttrs(r.Context(), slog.LevelInfo, "http",
		slog.String("method", r.Method), slog.String("route", routeKey),
		slog.Int("status", rec.status), slog.Duration("duration", time.Since(start)))
}

func (g *Gateway) serve(w http.ResponseWriter, r *http.Request) string {
	switch {
	case r.URL.Path == "/healthz" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
		return "healthz"
	case strings.HasPrefix(r.URL.Path, "/_local/invoke/"):
		g.localInvoke(w, r, strings.TrimPrefix(r.URL.Path, "/_local/invoke/"))
		return "local invoke"
	}
	rt, params := g.match(r.Method, r.URL.EscapedPath())
	if rt == nil {
		writeMessage(w, http.StatusNotFound, "Not Found")
		return ""
	}
	if rt.IAM && !sigV4Signed(r) {
		writeMessage(w, http.StatusForbidden, "Forbidden")
		return rt.Key()
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		writeMessage(w, http.StatusBadRequest, "Bad Request")
		return rt.Key()
	}
	if len(body) > maxBody {
		writeMessage(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
		return rt.Key()
	}
	ev := g.Event(r, rt.Route, params, body)
	raw, err := json.Marshal(ev)
	if err != nil {
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return rt.Key()
	}
	out, err := g.invokers[rt.function].Invoke(r.Context(), raw)
	if err != nil {
		g.log.Error("function failed", slog.String("function", rt.function), slog.String("route", rt.Key()), slog.String("error", err.Error()))
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return rt.Key()
	}
	w.Header().Set("Apigw-Requestid", ev.RequestContext.RequestID)
	if err := writeFunctionResponse(w, out); err != nil {
		g.log.Error("malformed function response", slog.String("function", rt.function), slog.String("error", err.Error()))
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
	}
	return rt.Key()
}

// localInvoke runs a function with the request body as its raw event.
func (g *Gateway) localInvoke(w http.ResponseWriter, r *http.Request, id string) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeMessage(w, http.StatusMethodNotAllowed, "use POST with the event as the body")
		return
	}
	inv := g.invokers[id]
	if inv == nil {
		writeMessage(w, http.StatusNotFound, fmt.Sprintf("no function %q; functions: %s", id, strings.Join(g.Functions(), ", ")))
		return
	}
	event, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(event) > maxBody {
		writeMessage(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
		return
	}
	if len(strings.TrimSpace(string(event))) == 0 {
		event = []byte("{}")
	}
	out, err := inv.Invoke(r.Context(), event)
	var fe *FunctionError
	switch {
	case errors.As(err, &fe):
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
		writeJSON(w, http.StatusBadGateway, fe)
	case err != nil:
		writeMessage(w, http.StatusInternalServerError, err.Error())
	default:
		w.Header().Set("Content-Type", "application/json")
		w.Write(out)
	}
}

// Functions lists the logical ids the gateway can invoke.
func (g *Gateway) Functions() []string {
	out := make([]string, 0, len(g.invokers))
	for id := range g.invokers {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// Invoke calls a function directly, as /_local/invoke does.
func (g *Gateway) Invoke(ctx context.Context, logicalID string, event []byte) ([]byte, error) {
	inv := g.invokers[logicalID]
	if inv == nil {
		return nil, fmt.Errorf("localgw: no function %q", logicalID)
	}
	return inv.Invoke(ctx, event)
}

func writeMessage(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"message": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}
