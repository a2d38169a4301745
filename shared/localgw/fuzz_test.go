package localgw

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

// viaJSON is s as a JSON event carries it: bytes that are not UTF-8
// become U+FFFD, for API Gateway's JSON events as for ours.
func viaJSON(s string) string {
	raw, _ := json.Marshal(s)
	var out string
	json.Unmarshal(raw, &out)
	return out
}

func validKeys(q url.Values) bool {
	for k := range q {
		if !utf8.ValidString(k) {
			return false
		}
	}
	return true
}

// FuzzLocalGWEvent: whatever the method, path, query and body of a
// request, the gateway never panics and answers; when it invokes a
// function, the event carries the request faithfully: the escaped path,
// the raw query and the decoded parameters, each path parameter decoded
// from its own segment, and the body byte for byte.
func FuzzLocalGWEvent(f *testing.F) {
	for _, seed := range []struct {
		method uint8
		target string
		body   []byte
		ct     string
	}{
		{0, "/v1/sites/s1/administrators/a%40b.example?limit=5&cursor=x%2By", nil, ""},
		{0, "/v1/a/b/c%2Fd?x=1&x=2&y", nil, ""},
		{1, "/v1/uploads", []byte(`{"a":1}`), "application/json"},
		{1, "/v1/uploads", []byte{0xff, 0xfe, 0}, "application/octet-stream"},
		{1, "/v1/uploads", []byte("caf\xe9"), "text/plain"},
		{2, "/v1/a/%zz", nil, ""},
		{0, "/v1/a/%20?q=%", nil, ""},
		{0, "/v1/a/x?%B6=%B6%B6", nil, ""},
		{0, "/v1/a/", nil, ""},
		{3, "/v1/platform/partners", []byte(`{}`), "application/json"},
	} {
		f.Add(seed.method, seed.target, seed.body, seed.ct)
	}
	methods := []string{"GET", "POST", "DELETE", "PATCH", "PUT"}
	f.Fuzz(func(t *testing.T, m uint8, target string, body []byte, ct string) {
		u, err := url.ParseRequestURI(target)
		if err != nil || u.Host != "" || !strings.HasPrefix(target, "/") || strings.HasPrefix(u.Path, "/_local/") {
			return
		}
		g, recs := newGateway(t)
		req := httptest.NewRequest(methods[int(m)%len(methods)], "http://127.0.0.1:3000/", bytes.NewReader(body))
		req.URL = u
		req.RequestURI = target
		req.RemoteAddr = "127.0.0.1:54321"
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		req.Header.Set("Authorization", signed)
		rec := httptest.NewRecorder()
		g.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK && rec.Code != http.StatusNotFound && rec.Code != http.StatusRequestEntityTooLarge {
			t.Fatalf("%s %q: status %d", req.Method, target, rec.Code)
		}
		var invoked int
		for _, r := range recs {
			invoked += len(r.events)
			for _, ev := range r.events {
				if ev.RawPath != u.EscapedPath() || ev.RawQueryString != viaJSON(u.RawQuery) {
					t.Fatalf("%q: rawPath %q rawQuery %q", target, ev.RawPath, ev.RawQueryString)
				}
				segs := strings.Split(strings.TrimPrefix(u.EscapedPath(), "/"), "/")
				for name, v := range ev.PathParameters {
					if v == "" {
						t.Fatalf("%q: empty path parameter %s", target, name)
					}
					found := false
					for i := range segs {
						for j := i + 1; j <= len(segs); j++ {
							if d, err := url.PathUnescape(strings.Join(segs[i:j], "/")); err == nil && viaJSON(d) == v {
								found = true
							}
						}
					}
					if !found {
						t.Fatalf("%q: path parameter %s=%q is not a decoded run of the path's segments", target, name, v)
					}
				}
				// (Names that are not UTF-8 may merge once carried as U+FFFD;
				// the comparison holds for the others.)
				if q, err := url.ParseQuery(u.RawQuery); err == nil && u.RawQuery != "" && validKeys(q) {
					for k, vs := range q {
						if got := ev.QueryStringParameters[viaJSON(k)]; got != viaJSON(strings.Join(vs, ",")) {
							t.Fatalf("%q: query %s = %q, want %q", target, k, got, strings.Join(vs, ","))
						}
					}
				}
				got := []byte(ev.Body)
				if ev.IsBase64Encoded {
					if got, err = base64.StdEncoding.DecodeString(ev.Body); err != nil {
						t.Fatal(err)
					}
				}
				if !bytes.Equal(got, body) {
					t.Fatalf("%q: the function got body %q, sent %q (content type %q)", target, got, body, ct)
				}
			}
		}
		if rec.Code == http.StatusOK && invoked != 1 {
			t.Fatalf("%q: 200 with %d invocations", target, invoked)
		}
	})
}
