package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"partnerportal/shared/portal"
)

// statusOf is the one map from error codes to HTTP statuses.
var statusOf = map[portal.Code]int{
	portal.CodeMalformed:            http.StatusBadRequest,
	portal.CodeUnauthenticated:      http.StatusUnauthorized,
	portal.CodeForbidden:            http.StatusForbidden,
	portal.CodeNotFound:             http.StatusNotFound,
	portal.CodeConflict:             http.StatusConflict,
	portal.CodeInsufficientCredits:  http.StatusConflict,
	portal.CodeLastMaster:           http.StatusConflict,
	portal.CodeAlreadyExists:        http.StatusConflict,
	portal.CodeEndCustomerEmail:     http.StatusConflict,
	portal.CodeInvitationExpired:    http.StatusGone,
	portal.CodeInvitationUsed:       http.StatusGone,
	portal.CodePreconditionFailed:   http.StatusPreconditionFailed,
	portal.CodePayloadTooLarge:      http.StatusRequestEntityTooLarge,
	portal.CodeUnsupportedMedia:     http.StatusUnsupportedMediaType,
	portal.CodeValidation:           http.StatusUnprocessableEntity,
	portal.CodeIdempotencyKeyReused: http.StatusUnprocessableEntity,
	portal.CodeRateLimited:          http.StatusTooManyRequests,
	portal.CodeAccountLocked:        http.StatusTooManyRequests,
	portal.CodeUnavailable:          http.StatusServiceUnavailable,
	portal.CodeInternal:             http.StatusInternalServerError,
}

// StatusOf returns the HTTP status for an error code.
func StatusOf(c portal.Code) int {
	if s, ok := statusOf[c]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Problem is an RFC 9457 problem details body.
type Problem struct {
	Type   string              `json:"type"`
	Title  string              `json:"title"`
	Status int                 `json:"status"`
	Detail string              `json:"detail"`
	Code   portal.Code         `json:"code"`
	Errors []portal.FieldError `json:"errors,omitempty"`
}

// ProblemTypeBase prefixes each problem type URI; the suffix is the code.
const ProblemTypeBase = "https://docs.partner-portal.example/problems/"

// ErrorResponse renders err as problem+json. Errors that are not
// *portal.Error, and errors whose code is internal or unknown, become a bare
// 500: internals never reach the body.
func ErrorResponse(err error) *Response {
	var e *portal.Error
	if !errors.As(err, &e) || e.Code == portal.CodeInternal || statusOf[e.Code] == 0 {
		e = &portal.Error{Code: portal.CodeInternal, Message: "an internal error occurred; it has been logged"}
	}
	status := StatusOf(e.Code)
	p := Problem{Type: ProblemTypeBase + string(e.Code), Title: http.StatusText(status), Status: status, Detail: e.Message, Code: e.Code, Errors: e.Fields}
	body, _ := json.Marshal(p)
	r := &Response{Status: status, Headers: map[string]string{"content-type": "application/problem+json"}, Body: string(body)}
	if e.RetryAfter > 0 {
		r.Headers["retry-after"] = strconv.Itoa(e.RetryAfter)
	}
	return r
}
