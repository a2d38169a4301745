package localgw

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"partnerportal/shared/samtemplate"
)

// Event converts an HTTP request for a matched route into the payload 2.0
// event API Gateway would send. params are the decoded path parameters and
// body the request body.
func (g *Gateway) Event(r *http.Request, rt samtemplate.Route, params map[string]string, body []byte) events.APIGatewayV2HTTPRequest {
	now := g.now().UTC()
	ev := events.APIGatewayV2HTTPRequest{
		Version:        "2.0",
		RouteKey:       rt.Key(),
		RawPath:        r.URL.EscapedPath(),
		RawQueryString: r.URL.RawQuery,
		Headers:        map[string]string{},
	}
	for name, values := range r.Header {
		name = strings.ToLower(name)
		if name == "cookie" {
			for _, v := range values {
				for c := range strings.SplitSeq(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						ev.Cookies = append(ev.Cookies, c)
					}
				}
			}
			continue
		}
		ev.Headers[name] = strings.Join(values, ",")
	}
	ev.Headers["host"] = r.Host
	if len(body) > 0 {
		// net/http moves Content-Length out of the header map.
		ev.Headers["content-length"] = strconv.Itoa(len(body))
	}
	if _, ok := ev.Headers["x-forwarded-proto"]; !ok {
		ev.Headers["x-forwarded-proto"] = "http"
	}
	host, port, err := net.SplitHostPort(r.Host)
	if err != nil {
		host = r.Host
	}
	if _, ok := ev.Headers["x-forwarded-port"]; !ok && port != "" {
		ev.Headers["x-forwarded-port"] = port
	}
	sourceIP, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		sourceIP = r.RemoteAddr
	}
	if _, ok := ev.Headers["x-forwarded-for"]; !ok {
		ev.Headers["x-forwarded-for"] = sourceIP
	}
	if r.URL.RawQuery != "" {
		ev.QueryStringParameters = queryParameters(r.URL.RawQuery)
	}
	if len(params) > 0 {
		ev.PathParameters = params
	}
	if len(body) > 0 {
		// A JSON event carries text as UTF-8: a "text" body that is not
		// valid UTF-8 would reach the function altered, so it travels
		// base64-encoded like binary media.
		if isText(r.Header.Get("Content-Type"), r.Header.Get("Content-Encoding")) && utf8.Valid(body) {
			ev.Body = string(body)
		} else {
			ev.Body = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		}
	}
	id := requestID()
	prefix, _, _ := strings.Cut(host, ".")
	ev.RequestContext = events.APIGatewayV2HTTPRequestContext{
		RouteKey:     rt.Key(),
		AccountID:    LocalAccountID,
		Stage:        "$default",
		RequestID:    id,
		APIID:        g.apiID,
		DomainName:   host,
		DomainPrefix: prefix,
		Time:         now.Format("02/Jan/2006:15:04:05 -0700"),
		TimeEpoch:    now.UnixMilli(),
		HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
			Method:    r.Method,
			Path:      r.URL.EscapedPath(),
			Protocol:  r.Proto,
			SourceIP:  sourceIP,
			UserAgent: r.UserAgent(),
		},
	}
	if rt.IAM {
		if key, ok := sigV4AccessKey(r); ok {
			ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
				IAM: &events.APIGatewayV2HTTPRequestContextAuthorizerIAMDescription{
					AccessKey: key,
					AccountID: LocalAccountID,
					CallerID:  "AIDALOCALCALLER:" + key,
					UserARN:   "arn:aws:iam::" + LocalAccountID + ":user/local",
					UserID:    "AIDALOCALCALLER",
				},
			}
		}
	}
	return ev
}

// queryParameters decodes a query string as API Gateway does: repeated
// names are joined with commas.
func queryParameters(raw string) map[string]string {
	out := map[string]string{}
	for kv := range strings.SplitSeq(raw, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		if dk, err := url.QueryUnescape(k); err == nil {
			k = dk
		}
		if dv, err := url.QueryUnescape(v); err == nil {
			v = dv
		}
		if prev, ok := out[k]; ok {
			out[k] = prev + "," + v
		} else {
			out[k] = v
		}
	}
	return out
}

// isText tells whether a body travels as text; anything else is base64,
// as API Gateway does for binary media.
func isText(contentType, contentEncoding string) bool {
	if contentEncoding != "" && !strings.EqualFold(contentEncoding, "identity") {
		return false
	}
	if contentType == "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch {
	case strings.HasPrefix(mt, "text/"),
		mt == "application/json", strings.HasSuffix(mt, "+json"),
		mt == "application/xml", strings.HasSuffix(mt, "+xml"),
		mt == "application/javascript", mt == "application/x-www-form-urlencoded",
		mt == "application/yaml", mt == "application/graphql":
		return true
	}
	return false
}

// sigV4Signed tells whether a request carries an AWS SigV4 signature, in
// the Authorization header or as a presigned query.
func sigV4Signed(r *http.Request) bool {
	_, ok := sigV4AccessKey(r)
	return ok
}

// sigV4AccessKey returns the access key of a SigV4 signature.
func sigV4AccessKey(r *http.Request) (string, bool) {
	if auth, ok := strings.CutPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 "); ok {
		for part := range strings.SplitSeq(auth, ",") {
			if cred, ok := strings.CutPrefix(strings.TrimSpace(part), "Credential="); ok {
				key, _, _ := strings.Cut(cred, "/")
				return key, key != ""
			}
		}
		return "", false
	}
	q := r.URL.Query()
	if q.Get("X-Amz-Algorithm") == "AWS4-HMAC-SHA256" && q.Get("X-Amz-Signature") != "" {
		key, _, _ := strings.Cut(q.Get("X-Amz-Credential"), "/")
		return key, key != ""
	}
	return "", false
}

// requestID makes an id shaped like API Gateway's.
func requestID() string {
	var b [10]byte
	rand.Read(b[:])
	return strings.TrimRight(base64.StdEncoding.EncodeToString(b[:]), "=") + "="
}

// writeFunctionResponse turns a function's result into the HTTP response,
// following payload format 2.0: an object with statusCode is a structured
// response; any other JSON value is a 200 application/json body.
func writeFunctionResponse(w http.ResponseWriter, out []byte) error {
	var probe map[string]json.RawMessage
	if json.Unmarshal(out, &probe) != nil || probe["statusCode"] == nil {
		if !json.Valid(out) {
			return errors.New("the function's result is not JSON")
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		w.Write(out)
		return nil
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		return fmt.Errorf("decoding the function's response: %w", err)
	}
	if resp.StatusCode < 100 || resp.StatusCode > 599 {
		return errors.New("statusCode " + strconv.Itoa(resp.StatusCode) + " is not an HTTP status")
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
			return fmt.Errorf("the function's body is not base64: %w", err)
		}
	}
	h := w.Header()
	names := make([]string, 0, len(resp.Headers))
	for k := range resp.Headers {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		h.Set(k, resp.Headers[k])
	}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for _, c := range resp.Cookies {
		h.Add("Set-Cookie", c)
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(resp.StatusCode)
	w.Write(body)
	return nil
}

// unescapePath decodes a path segment; "+" stays a plus, as in paths.
func unescapePath(s string) (string, error) { return url.PathUnescape(s) }
