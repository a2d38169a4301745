package httpapi

import (
	"errors"
	"strings"
	"testing"

	"partnerportal/shared/portal"
)

func TestErrorResponseHidesInternals(t *testing.T) {
	for _, err := range []error{
		errors.New("dial tcp 10.0.0.1:443: secret-host unreachable"),
		portal.Errorf(portal.CodeInternal, "secret-host: unknown ledger type"),
		portal.Errorf("made_up_code", "secret-host"),
	} {
		r := ErrorResponse(err)
		if r.Status != 500 || strings.Contains(r.Body, "secret-host") || !strings.Contains(r.Body, `"code":"internal"`) {
			t.Errorf("%v → %d %s", err, r.Status, r.Body)
		}
	}
}

func TestErrorResponseShape(t *testing.T) {
	err := &portal.Error{Code: portal.CodeUnavailable, Message: "busy", RetryAfter: 2,
		Fields: []portal.FieldError{{Field: "amount", Message: "too big"}}}
	r := ErrorResponse(err)
	if r.Status != 503 || r.Headers["content-type"] != "application/problem+json" || r.Headers["retry-after"] != "2" {
		t.Fatalf("response = %+v", r)
	}
	want := `{"type":"` + ProblemTypeBase + `unavailable","title":"Service Unavailable","status":503,"detail":"busy","code":"unavailable","errors":[{"field":"amount","message":"too big"}]}`
	if r.Body != want {
		t.Errorf("body = %s\nwant   %s", r.Body, want)
	}
}

// Every code the domain defines has a status; a code without one would
// silently become a 500.
func TestEveryCodeHasAStatus(t *testing.T) {
	for _, c := range []portal.Code{portal.CodeMalformed, portal.CodeUnauthenticated, portal.CodeForbidden, portal.CodeNotFound,
		portal.CodeConflict, portal.CodeInsufficientCredits, portal.CodeLastMaster, portal.CodeAlreadyExists, portal.CodeEndCustomerEmail,
		portal.CodeInvitationExpired, portal.CodeInvitationUsed, portal.CodePreconditionFailed, portal.CodePayloadTooLarge,
		portal.CodeUnsupportedMedia, portal.CodeValidation, portal.CodeIdempotencyKeyReused, portal.CodeRateLimited,
		portal.CodeAccountLocked, portal.CodeUnavailable} {
		if s := StatusOf(c); s < 400 || s == 500 {
			t.Errorf("%s → %d", c, s)
		}
	}
}
