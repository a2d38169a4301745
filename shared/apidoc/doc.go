// Package apidoc keeps openapi.yaml, the API's published contract, honest.
//
// It has no code of its own. Its tests parse openapi.yaml and template.yaml
// (the single source of truth for routes) and fail when a template route is
// undocumented, when the document describes a route the template lacks, when
// an operation documents no problem+json error, or when a $ref dangles. The
// conformance test then drives every documented operation through the real
// handlers (package portaltest), a success and an error case at least, and
// validates each response against the document: status, media type, the
// body's JSON Schema and the headers. Schemathesis (.ci/schemathesis.sh)
// checks the running API against the same document.
package apidoc
