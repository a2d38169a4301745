// Package dynamo stores the Partner Portal in one DynamoDB table.
//
// It alone knows table keys, item shapes and expressions: callers pass and
// receive the domain types of package portal. Every partner-scoped key starts
// from a partner id that callers take from the authenticated session, so one
// partner can never address another partner's items. docs/data-model.md
// describes the keys and the access pattern of every route.
package dynamo
