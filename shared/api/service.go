package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"time"

	"partnerportal/shared/dynamo"
	"partnerportal/shared/httpapi"
	"partnerportal/shared/mail"
	"partnerportal/shared/portal"
)

// Service holds what the handlers need.
type Service struct {
	Store *dynamo.Store
	Mail  mail.Sender
	// PublicURL is the base of links in emails, without a trailing slash.
	PublicURL string
	Log       *slog.Logger
}

// Group names the Lambda function that serves a set of routes. The names are
// the folders under functions/.
type Group string

// The HTTP groups; each is one Lambda function.
const (
	GroupPlatform Group = "platform" // IAM-authorized vendor routes
	GroupPublic   Group = "public"   // sign-in, password reset, invitation links
	GroupAccounts Group = "accounts" // me, partner settings, administrators, audit
	GroupSites    Group = "sites"    // sites, notes, site administrators
	GroupCredits  Group = "credits"  // credit moves, balances, history
)

// Groups lists every HTTP group.
var Groups = []Group{GroupPlatform, GroupPublic, GroupAccounts, GroupSites, GroupCredits}

type route struct {
	key     string
	group   Group
	handler httpapi.Handler
}

// routes is every route the API serves.
func (s *Service) routes() []route {
	var all []route
	all = append(all, s.platformRoutes()...)
	all = append(all, s.invitationRoutes()...)
	all = append(all, s.authRoutes()...)
	all = append(all, s.accountRoutes()...)
	all = append(all, s.siteRoutes()...)
	all = append(all, s.creditRoutes()...)
	return all
}

// Router returns the router of one group's Lambda function.
func (s *Service) Router(g Group) *httpapi.Router {
	rt := httpapi.NewRouter(s.Log)
	for _, r := range s.routes() {
		if r.group == g {
			rt.Handle(r.key, r.handler)
		}
	}
	return rt
}

func (s *Service) now() time.Time { return s.Store.Now() }

// authed wraps a partner route: it authenticates the bearer token (one
// round trip, which also reads what opts asks for) and checks perm.
func (s *Service) authed(perm portal.Permission, opts func(*httpapi.Request) dynamo.AuthOptions, h func(context.Context, *httpapi.Request, *dynamo.Auth) (*httpapi.Response, error)) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
		token := r.BearerToken()
		if token == "" {
			return nil, portal.Errorf(portal.CodeUnauthenticated, "send Authorization: Bearer <token>")
		}
		var o dynamo.AuthOptions
		if opts != nil {
			o = opts(r)
		}
		auth, err := s.Store.Authenticate(ctx, token, o)
		if err != nil {
			return nil, err
		}
		if !auth.Principal.Admin.Role.Can(perm) {
			return nil, portal.Errorf(portal.CodeForbidden, "your role (%s) does not allow this", auth.Principal.Admin.Role)
		}
		return h(ctx, r, &auth)
	}
}

// withSite loads the route's {siteId} during authentication.
func withSite(r *httpapi.Request) dynamo.AuthOptions {
	return dynamo.AuthOptions{SiteID: r.Path("siteId")}
}

// withIdempotency loads the stored response for the request's
// Idempotency-Key during authentication, and the route's site if any.
func withIdempotency(r *httpapi.Request) dynamo.AuthOptions {
	o := withSite(r)
	if k := r.Header("idempotency-key"); validIdempotencyKey(k) {
		o.IdempotencyRoute, o.IdempotencyKey = r.RouteKey(), k
	}
	return o
}

func validIdempotencyKey(k string) bool { return len(k) >= 1 && len(k) <= 255 }

// idempotent runs do once per Idempotency-Key (SPEC §5). stored is the
// record read beforehand (nil when none). do receives the record to write in
// its transaction (nil when the request has no key) and must fill it with
// Idempotency.Set before committing. A retry with the same key, path and
// body replays the stored response; another path or body is 422.
func (s *Service) idempotent(ctx context.Context, r *httpapi.Request, scope string, stored *dynamo.Idempotency, do func(*dynamo.Idempotency) (*httpapi.Response, error)) (*httpapi.Response, error) {
	k := r.Header("idempotency-key")
	if k == "" {
		return do(nil)
	}
	if !validIdempotencyKey(k) {
		return nil, &portal.Error{Code: portal.CodeValidation, Message: "one or more fields are invalid",
			Fields: []portal.FieldError{{Field: "Idempotency-Key", Message: "must be 1 to 255 characters"}}}
	}
	body, err := r.Body()
	if err != nil {
		return nil, err
	}
	// The request is its path and body: the same key reused on another
	// site (same route, other path) is a different request, never a replay.
	h := sha256.New()
	h.Write([]byte(r.Event.RequestContext.HTTP.Method + " " + r.Event.RawPath + "\n"))
	h.Write(body)
	hash := hex.EncodeToString(h.Sum(nil))
	if stored != nil {
		return replay(stored, hash)
	}
	rec := &dynamo.Idempotency{Scope: scope, Route: r.RouteKey(), Key: k, RequestHash: hash, ExpiresAt: s.now().Add(dynamo.IdempotencyTTL)}
	resp, err := do(rec)
	if errors.Is(err, dynamo.ErrIdempotencyRace) {
		won, gerr := s.Store.GetIdempotency(ctx, scope, r.RouteKey(), k)
		if gerr != nil {
			return nil, gerr
		}
		if won == nil {
			return nil, portal.Errorf(portal.CodeConflict, "a request with this Idempotency-Key is in progress; retry")
		}
		return replay(won, hash)
	}
	return resp, err
}

func replay(rec *dynamo.Idempotency, hash string) (*httpapi.Response, error) {
	if !portal.SameHash(rec.RequestHash, hash) {
		return nil, portal.Errorf(portal.CodeIdempotencyKeyReused, "this Idempotency-Key was used with a different request body")
	}
	h := map[string]string{}
	for k, v := range rec.Headers {
		h[k] = v
	}
	h["idempotent-replayed"] = "true"
	return &httpapi.Response{Status: rec.Status, Headers: h, Body: rec.Body}, nil
}

// setResponse records resp in the idempotency record, if there is one.
func setResponse(rec *dynamo.Idempotency, resp *httpapi.Response) {
	if rec == nil {
		return
	}
	rec.Status, rec.Headers, rec.Body = resp.Status, resp.Headers, resp.Body
}
