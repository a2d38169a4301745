package httpapi_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"partnerportal/shared/httpapi"
	"partnerportal/shared/portal"
)

// FuzzDecodeJSON: whatever the body, its content type and its encoding,
// DecodeJSON never panics, and either decodes or fails with a request
// problem (400, 413 or 415) that renders as problem+json — never a 500.
func FuzzDecodeJSON(f *testing.F) {
	for _, seed := range []struct {
		body, contentType string
		b64               bool
	}{
		{`{"name":"Lyon","amount":5,"tags":["a"],"nested":{"on":true}}`, "application/json", false},
		{`{"name":1}`, "application/json", false},
		{`{"unknown":1}`, "application/json; charset=utf-8", false},
		{`{"name":"x"} {}`, "application/problem+json", false},
		{`[1,2]`, "", false},
		{`{"amount":1e400}`, "application/json", false},
		{`{"name":"\ud800"}`, "application/json", false},
		{`eyJuYW1lIjoieCJ9`, "application/json", true},
		{`name=x`, "application/x-www-form-urlencoded", false},
		{`{"name":`, "application/json", false},
		{"", "text/plain", false},
		{`not base64!`, "application/json", true},
	} {
		f.Add(seed.body, seed.contentType, seed.b64)
	}
	f.Fuzz(func(t *testing.T, body, contentType string, b64 bool) {
		ev := events.APIGatewayV2HTTPRequest{Body: body, IsBase64Encoded: b64, Headers: map[string]string{}}
		if contentType != "" {
			ev.Headers["content-type"] = contentType
		}
		r := &httpapi.Request{Event: ev}
		var v struct {
			Name   string   `json:"name"`
			Amount *int64   `json:"amount"`
			Tags   []string `json:"tags"`
			Nested struct {
				On bool `json:"on"`
			} `json:"nested"`
		}
		err := r.DecodeJSON(&v)
		if err == nil {
			return
		}
		var pe *portal.Error
		if !errors.As(err, &pe) {
			t.Fatalf("DecodeJSON(%q, %q, %v) = %v, not a *portal.Error", body, contentType, b64, err)
		}
		switch pe.Code {
		case portal.CodeMalformed, portal.CodePayloadTooLarge, portal.CodeUnsupportedMedia:
		default:
			t.Fatalf("DecodeJSON(%q, %q, %v): code %q", body, contentType, b64, pe.Code)
		}
		res := httpapi.ErrorResponse(err)
		if res.Status != 400 && res.Status != 413 && res.Status != 415 {
			t.Fatalf("status %d for %q", res.Status, pe.Code)
		}
		var p httpapi.Problem
		if res.Headers["content-type"] != "application/problem+json" || json.Unmarshal([]byte(res.Body), &p) != nil || p.Code != pe.Code || p.Status != res.Status {
			t.Fatalf("problem %v %s", res.Headers, res.Body)
		}
		for _, fe := range p.Errors {
			if fe.Field == "" || fe.Message == "" {
				t.Fatalf("field error without a field or a message: %s", res.Body)
			}
		}
		// A body under the cap is never refused as too large.
		if pe.Code == portal.CodePayloadTooLarge {
			raw := body
			if b64 {
				d, _ := base64.StdEncoding.DecodeString(body)
				raw = string(d)
			}
			if len(raw) <= httpapi.MaxBody {
				t.Fatalf("%d bytes refused as too large", len(raw))
			}
		}
		if strings.Contains(p.Detail, "json: ") {
			t.Fatalf("the problem leaks the decoder's message: %s", res.Body)
		}
	})
}
