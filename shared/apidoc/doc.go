// Package apidoc keeps openapi.yaml, the API's published contract, honest.
//
// It has no code of its own: its tests parse openapi.yaml and template.yaml
// (the single source of truth for routes) and fail when a template route is
// undocumented, when the document describes a route the template lacks, when
// an operation documents no problem+json error, or when a $ref dangles.
// Schemathesis (.ci/schemathesis.sh) then checks the running API against the
// same document.
package apidoc
