// Package portal is the Partner Portal domain: partners, administrators,
// roles and permissions, sites, credits and the errors the API reports.
//
// It imports no AWS package. Storage lives in package dynamo and HTTP in
// package httpapi; both speak in the types defined here.
package portal
