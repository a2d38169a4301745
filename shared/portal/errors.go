package portal

import (
	"errors"
	"fmt"
)

// Code is a machine-readable error code. Package httpapi maps each code to an
// HTTP status in exactly one place.
type Code string

// The error codes of SPEC §5.
const (
	CodeMalformed            Code = "malformed_request"
	CodeUnauthenticated      Code = "unauthenticated"
	CodeForbidden            Code = "forbidden"
	CodeNotFound             Code = "not_found"
	CodeConflict             Code = "conflict"
	CodeInsufficientCredits  Code = "insufficient_credits"
	CodeLastMaster           Code = "last_master"
	CodeAlreadyExists        Code = "already_exists"
	CodeEndCustomerEmail     Code = "end_customer_email"
	CodeInvitationExpired    Code = "invitation_expired"
	CodeInvitationUsed       Code = "invitation_used"
	CodePreconditionFailed   Code = "precondition_failed"
	CodePayloadTooLarge      Code = "payload_too_large"
	CodeUnsupportedMedia     Code = "unsupported_media_type"
	CodeValidation           Code = "validation_failed"
	CodeIdempotencyKeyReused Code = "idempotency_key_reused"
	CodeRateLimited          Code = "rate_limited"
	CodeAccountLocked        Code = "account_locked"
	CodeUnavailable          Code = "unavailable"
	CodeInternal             Code = "internal"
)

// FieldError names one invalid field of a request.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is the one error type that crosses package boundaries with a meaning
// for the API client. Anything else that reaches the HTTP layer is internal.
type Error struct {
	Code    Code
	Message string
	Fields  []FieldError
	// RetryAfter, in seconds, is sent as the Retry-After header when set.
	RetryAfter int
}

func (e *Error) Error() string {
	if len(e.Fields) > 0 {
		return fmt.Sprintf("%s: %s %v", e.Code, e.Message, e.Fields)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err, or CodeInternal when err is not an *Error.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// IsCode reports whether err is an *Error with the code.
func IsCode(err error, code Code) bool {
	return err != nil && ErrorCode(err) == code
}

// NotFound is the error for an absent resource and for another partner's.
func NotFound(what string) *Error {
	return Errorf(CodeNotFound, "%s not found", what)
}

// Validation collects field errors; Err returns nil when there are none.
type Validation struct {
	fields []FieldError
}

// Add records that field is invalid.
func (v *Validation) Add(field, format string, args ...any) {
	v.fields = append(v.fields, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Check records the message for field when ok is false.
func (v *Validation) Check(ok bool, field, format string, args ...any) {
	if !ok {
		v.Add(field, format, args...)
	}
}

// Err returns a validation_failed *Error naming every field, or nil.
func (v *Validation) Err() error {
	if len(v.fields) == 0 {
		return nil
	}
	return &Error{Code: CodeValidation, Message: "one or more fields are invalid", Fields: v.fields}
}
