package httpapi

import (
	"encoding/json"
	"net/http"
)

// Response is a handler's result; Router turns it into the API Gateway
// response.
type Response struct {
	Status  int
	Headers map[string]string
	Body    string
}

// JSON is a response with v encoded as the body.
func JSON(status int, v any) (*Response, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return &Response{Status: status, Headers: map[string]string{"content-type": "application/json"}, Body: string(body)}, nil
}

// NoContent is a 204.
func NoContent() (*Response, error) {
	return &Response{Status: http.StatusNoContent, Headers: map[string]string{}}, nil
}

// With sets a header and returns r, for chaining.
func (r *Response) With(name, value string) *Response {
	if r.Headers == nil {
		r.Headers = map[string]string{}
	}
	r.Headers[name] = value
	return r
}

// List is the body of every paginated listing.
type List[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"nextCursor"`
}

// NewList builds a listing body; an empty next cursor becomes null.
func NewList[T any](items []T, next string) List[T] {
	if items == nil {
		items = []T{}
	}
	l := List[T]{Items: items}
	if next != "" {
		l.NextCursor = &next
	}
	return l
}
