package httpapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"partnerportal/shared/portal"
)

// MaxBody is the largest request body accepted (SPEC §5).
const MaxBody = 64 << 10

// Request is one API call.
type Request struct {
	Event events.APIGatewayV2HTTPRequest
}

// RouteKey is "METHOD /path/{param}" as API Gateway matched it.
func (r *Request) RouteKey() string { return r.Event.RouteKey }

// Header returns a header value; API Gateway lower-cases header names.
func (r *Request) Header(name string) string {
	return r.Event.Headers[strings.ToLower(name)]
}

// Query returns a query-string parameter.
func (r *Request) Query(name string) string { return r.Event.QueryStringParameters[name] }

// Path returns a path parameter.
func (r *Request) Path(name string) string { return r.Event.PathParameters[name] }

// RequestID is API Gateway's id of the request.
func (r *Request) RequestID() string { return r.Event.RequestContext.RequestID }

// SourceIP is the caller's address as API Gateway saw it.
func (r *Request) SourceIP() string { return r.Event.RequestContext.HTTP.SourceIP }

// Body returns the raw body, decoded from base64 when API Gateway encoded it.
func (r *Request) Body() ([]byte, error) {
	if !r.Event.IsBase64Encoded {
		return []byte(r.Event.Body), nil
	}
	b, err := base64.StdEncoding.DecodeString(r.Event.Body)
	if err != nil {
		return nil, portal.Errorf(portal.CodeMalformed, "the body is not valid base64")
	}
	return b, nil
}

// BearerToken returns the token of an "Authorization: Bearer" header.
func (r *Request) BearerToken() string {
	h := r.Header("authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// DecodeJSON reads the body into v: 413 over 64 KiB, 415 when it is not
// JSON, 400 for bad JSON, unknown fields, wrong types or trailing data. An
// empty body decodes as {} so routes whose fields are all optional accept it.
func (r *Request) DecodeJSON(v any) error {
	body, err := r.Body()
	if err != nil {
		return err
	}
	if len(body) > MaxBody {
		return portal.Errorf(portal.CodePayloadTooLarge, "the body is larger than %d bytes", MaxBody)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	} else if ct := r.Header("content-type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return portal.Errorf(portal.CodeUnsupportedMedia, "send the body as application/json")
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return malformed(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return portal.Errorf(portal.CodeMalformed, "the body has data after the JSON value")
	}
	return nil
}

func malformed(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return portal.Errorf(portal.CodeMalformed, "the body must be a JSON object")
		}
		return &portal.Error{Code: portal.CodeMalformed, Message: "a field has the wrong type",
			Fields: []portal.FieldError{{Field: field, Message: "must be " + jsonKind(typeErr.Type.Kind().String())}}}
	case errors.As(err, &syntaxErr):
		return portal.Errorf(portal.CodeMalformed, "the body is not valid JSON (at byte %d)", syntaxErr.Offset)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		quoted := strings.TrimPrefix(err.Error(), "json: unknown field ")
		name, uerr := strconv.Unquote(quoted)
		if uerr != nil {
			name = quoted
		}
		if name == "" {
			// {"": …} names no field; say so rather than send an empty name.
			name = "(empty name)"
		}
		return &portal.Error{Code: portal.CodeMalformed, Message: "the body has an unknown field",
			Fields: []portal.FieldError{{Field: name, Message: "unknown field"}}}
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return portal.Errorf(portal.CodeMalformed, "the body is truncated JSON")
	}
	return portal.Errorf(portal.CodeMalformed, "the body is not valid JSON")
}

func jsonKind(goKind string) string {
	switch {
	case strings.HasPrefix(goKind, "int"), strings.HasPrefix(goKind, "uint"), strings.HasPrefix(goKind, "float"):
		return "a number"
	case goKind == "string":
		return "a string"
	case goKind == "bool":
		return "a boolean"
	case goKind == "slice":
		return "an array"
	}
	return "an object"
}

// DefaultLimit and MaxLimit bound list pages (SPEC §5).
const (
	DefaultLimit = 50
	MaxLimit     = 100
)

// PageParams reads ?limit= and ?cursor=.
func (r *Request) PageParams() (limit int, cursor string, err error) {
	limit = DefaultLimit
	if s := r.Query("limit"); s != "" {
		n, perr := strconv.Atoi(s)
		if perr != nil || n < 1 || n > MaxLimit {
			return 0, "", &portal.Error{Code: portal.CodeValidation, Message: "one or more fields are invalid",
				Fields: []portal.FieldError{{Field: "limit", Message: fmt.Sprintf("must be an integer from 1 to %d", MaxLimit)}}}
		}
		limit = n
	}
	return limit, r.Query("cursor"), nil
}
